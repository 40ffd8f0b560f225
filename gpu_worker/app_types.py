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
    # The vehicles, each with its plate when one can be read (gpu_worker/stages/plates.py).
    "license-plates": ("bicycle", "car", "motorcycle", "bus", "train", "truck"),
}
DEFAULT_APPLICATION_TYPE = "persons-detection"
PLATES_TYPE = "license-plates"


# Several types in one call ("persons-detection+pets-detection") return the union of their
# classes: a DeepStack client with three services then costs one inference, not three.
TYPE_SEPARATOR = "+"


def parse_application_types(value: str) -> tuple[str, ...]:
    """The types named by value, each checked; 400 listing the valid ones otherwise."""
    names = tuple(dict.fromkeys(part.strip() for part in value.split(TYPE_SEPARATOR)))
    unknown = [name for name in names if name not in APPLICATION_CLASSES]
    if unknown or not names:
        valid = ", ".join(sorted(APPLICATION_CLASSES))
        raise bad_request(
            "unknown_application_type",
            f"unknown application_type {value!r}; valid types: {valid} (several may be joined "
            f"with {TYPE_SEPARATOR!r})",
        )
    return names


def wants_plates(application_type: str | None) -> bool:
    """Whether a request's type(s) ask for plate reads (only then does the reader run)."""
    return application_type is not None and PLATES_TYPE in application_type.split(TYPE_SEPARATOR)


def class_ids_for(application_type: str, class_names: Sequence[str]) -> list[int]:
    """Indices into the model's class list for the type(s); 400 for an unknown type."""
    wanted = {
        name
        for kind in parse_application_types(application_type)
        for name in APPLICATION_CLASSES[kind]
    }
    return [i for i, name in enumerate(class_names) if name in wanted]
