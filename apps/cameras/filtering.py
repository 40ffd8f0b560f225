"""The filter step: a camera's class thresholds, size filter, masks and include zones, applied to
one inference answer. Plain values in (boxes, scores, labels, image size), kept boxes (with the
zones they lie in) and dropped ones (with the reason) out.

The detection flow calls `filter_result` once per service answer, after inference and before the
response, metering and archiving, for all three endpoints; nothing else filters, so the seed,
native and DeepStack answers of one camera always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from apps.cameras.config import CameraConfig

BELOW_THRESHOLD = "below_threshold"
TOO_SMALL = "too_small"
MASKED = "masked"
OUTSIDE_ZONES = "outside_zones"
REASONS = (BELOW_THRESHOLD, TOO_SMALL, MASKED, OUTSIDE_ZONES)

# Anchors on the frame's bottom or right edge (a person's feet at the bottom of the picture)
# are pulled just inside, so a zone drawn to the frame's edge contains them.
_EDGE = 1.0 - 1e-9


@dataclass(frozen=True, slots=True)
class Outcome:
    kept: list[int]  # indices into the input, in input order
    zones: list[list[str]]  # per kept box: the zones its anchor lies in (that apply to its class)
    dropped: list[dict]  # {"label", "score", "box", "reason", "zone"?}, in input order


def anchor_point(config: CameraConfig, box: Sequence[float], width: int, height: int):
    """The box's anchor in normalised coordinates (see Anchor in models.py)."""
    x1, y1, x2, y2 = box
    x = (x1 + x2) / (2.0 * width)
    y = y2 / height if config.anchor == "bottom_center" else (y1 + y2) / (2.0 * height)
    return min(max(x, 0.0), _EDGE), min(max(y, 0.0), _EDGE)


def filter_boxes(
    config: CameraConfig,
    width: int,
    height: int,
    boxes: Sequence[Sequence[float]],
    scores: Sequence[float],
    labels: Sequence[str],
    base_threshold: float,
) -> Outcome:
    """Which boxes the camera keeps. `base_threshold` is the score a class without its own
    threshold needs (the request's min_confidence, else the service's). Checks run cheapest
    first and the first that fails names the reason: threshold, size, masks, include zones."""
    thresholds = config.class_thresholds
    frame_area = float(width * height)
    min_pixels = max(config.min_box_pixels or 0, (config.min_box_area or 0.0) * frame_area)
    masks = [z for z in config.zones if z.kind == "mask"]
    includes = [z for z in config.zones if z.kind == "include"]
    kept: list[int] = []
    kept_zones: list[list[str]] = []
    dropped: list[dict] = []
    for index, (box, score, label) in enumerate(zip(boxes, scores, labels, strict=True)):
        reason = zone_name = None
        if score < thresholds.get(label, base_threshold):
            reason = BELOW_THRESHOLD
        elif min_pixels and (box[2] - box[0]) * (box[3] - box[1]) < min_pixels:
            reason = TOO_SMALL
        else:
            x, y = anchor_point(config, box, width, height)
            for zone in masks:
                if zone.applies_to(label) and zone.polygon.contains(x, y):
                    reason, zone_name = MASKED, zone.name
                    break
            else:
                inside = [
                    z.name for z in includes if z.applies_to(label) and z.polygon.contains(x, y)
                ]
                if includes and not inside:
                    reason = OUTSIDE_ZONES
                else:
                    kept.append(index)
                    kept_zones.append(inside)
                    continue
        item = {"label": label, "score": score, "box": list(box), "reason": reason}
        if zone_name is not None:
            item["zone"] = zone_name
        dropped.append(item)
    return Outcome(kept, kept_zones, dropped)


def filter_result(config: CameraConfig, result: dict, base_threshold: float) -> dict:
    """A worker answer (seed-compatible lists) with only the kept boxes, plus `zones` (aligned
    with the kept boxes), `dropped` and `camera`; the other fields are left as they were."""
    outcome = filter_boxes(
        config,
        result["width"],
        result["height"],
        result["bbox_coords"],
        [s[0] for s in result["bbox_scores"]],
        [n[0] for n in result["class_names"]],
        base_threshold,
    )
    kept = outcome.kept
    filtered = {
        **result,
        "bbox_coords": [result["bbox_coords"][i] for i in kept],
        "bbox_scores": [result["bbox_scores"][i] for i in kept],
        "class_names": [result["class_names"][i] for i in kept],
        "zones": outcome.zones,
        "dropped": outcome.dropped,
        "camera": config.camera_id,
    }
    if "plates" in result:  # license-plates: one plate (or None) per box, kept alongside
        filtered["plates"] = [result["plates"][i] for i in kept]
    return filtered
