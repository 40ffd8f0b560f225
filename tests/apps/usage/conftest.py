"""Usage is recorded by the detection flow: its tests drive real detection requests."""

from tests.apps.detection.conftest import (  # noqa: F401 - fixtures
    persons_jpg,
    pets_jpg,
    post_native,
    post_seed,
    vehicles_jpg,
)
