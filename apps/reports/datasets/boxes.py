"""Boxes of an archived answer, whichever of the three wire formats stored it.

The archive keeps the response the camera got: the seed's parallel lists, the native API's
`detections`, or DeepStack's `predictions`. Export and evaluation only need label, score and
pixel corners, so this is the one place that knows all three shapes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

# The order classes get in every export (COCO-80 order): stable ids across exports of one tenant.
CLASS_ORDER: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "bus", "train", "truck", "cat", "dog",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Box:
    """One detection in original-image pixels, (x1, y1) top left, (x2, y2) bottom right."""

    label: str
    score: float
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


def boxes_of_response(response: Mapping[str, Any]) -> list[Box]:
    """The detections of a stored answer; an answer of none of the three shapes has none."""
    if isinstance(response.get("detections"), list):
        return [
            Box(d["label"], float(d["score"]), *map(float, d["box"]))
            for d in response["detections"]
        ]
    if isinstance(response.get("predictions"), list):
        return [
            Box(
                p["label"],
                float(p["confidence"]),
                float(p["x_min"]),
                float(p["y_min"]),
                float(p["x_max"]),
                float(p["y_max"]),
            )
            for p in response["predictions"]
        ]
    if isinstance(response.get("bbox_coords"), list):
        return [
            Box(names[0], float(scores[0]), *map(float, coords))
            for coords, scores, names in zip(
                response["bbox_coords"],
                response.get("bbox_scores", []),
                response.get("class_names", []),
                strict=False,
            )
        ]
    return []


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image header (Pillow reads no pixels for this)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def ordered_classes(classes: set[str] | frozenset[str]) -> list[str]:
    """Classes in the export order: the known ones first, any others (a tenant model's own
    classes) after them, alphabetically."""
    known = [name for name in CLASS_ORDER if name in classes]
    return known + sorted(set(classes) - set(known))
