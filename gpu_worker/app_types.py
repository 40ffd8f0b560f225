"""Application types: which COCO classes each detection service returns.

One COCO-80 detector serves all three services; the type only filters the labels, so adding a
service is one entry here.
"""

from __future__ import annotations

from collections.abc import Sequence

from gpu_worker.errors import bad_request

APPLICATION_CLASSES: dict[str, tuple[str, ...]] = {
    "persons-detection": ("person",),
    "pets-detection": ("cat", "dog"),
    "vehicles-detection": ("bicycle", "car", "motorcycle", "bus", "train", "truck"),
}
DEFAULT_APPLICATION_TYPE = "persons-detection"


def class_ids_for(application_type: str, class_names: Sequence[str]) -> list[int]:
    """Indices into the model's class list for this application type; 400 for an unknown type."""
    wanted = APPLICATION_CLASSES.get(application_type)
    if wanted is None:
        valid = ", ".join(sorted(APPLICATION_CLASSES))
        raise bad_request(
            "unknown_application_type",
            f"unknown application_type {application_type!r}; valid types: {valid}",
        )
    return [i for i, name in enumerate(class_names) if name in wanted]
