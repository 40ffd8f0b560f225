"""The events app's archive fixtures (a private folder, the trio's tenants archiving)."""

from tests.apps.archive.conftest import archiving_a, archiving_b  # noqa: F401
