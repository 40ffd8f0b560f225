"""The three response styles, built from the worker's seed-compatible answer."""

from __future__ import annotations

from apps.detection.services import DetectionCall

SEED_FIELDS = ("width", "height", "channels", "bbox_coords", "bbox_scores", "class_names")


def timings(call: DetectionCall, result: dict) -> dict:
    return {**result.get("timings_ms", {}), "portal_total": round(call.elapsed_ms(), 2)}


def seed_response(call: DetectionCall, result: dict) -> dict:
    """The seed's fields unchanged, plus our request id, service, model and timings."""
    body = {name: result[name] for name in SEED_FIELDS}
    body.update(
        request_id=call.request_id,
        application_type=result.get("application_type", call.application_types[-1]),
        model=result.get("model", ""),
        timings_ms=timings(call, result),
    )
    if "plates" in result:  # license-plates: one {text, score, box} or null per box
        body["plates"] = result["plates"]
        body["frame_plates"] = frame_plates(result)
    if "camera" in result:
        body["camera"] = result["camera"]
    return body


def frame_plates(result: dict) -> list[dict]:
    """Plates the worker read in a frame where it detected no vehicle (a close-up of a plate),
    which belong to no detection. None for a camera's frame: its zones and masks filter
    detections, and a plate with no box of its own would slip past them."""
    return [] if "camera" in result else list(result.get("frame_plates") or [])


def native_response(call: DetectionCall, result: dict) -> dict:
    body = {
        "request_id": call.request_id,
        "application_type": result.get("application_type", call.application_types[-1]),
        "model": result.get("model", ""),
        "width": result["width"],
        "height": result["height"],
        "channels": result["channels"],
        "detections": [
            {"label": names[0], "score": scores[0], "box": box}
            for box, scores, names in zip(
                result["bbox_coords"], result["bbox_scores"], result["class_names"], strict=True
            )
        ],
        "timings_ms": timings(call, result),
    }
    if "plates" in result:  # license-plates: each vehicle's plate, null when none was read
        for detection, plate in zip(body["detections"], result["plates"], strict=True):
            detection["plate"] = plate
        body["frame_plates"] = frame_plates(result)
    if "slices" in result:  # sliced inference ran: how many slices, where
        body["slices"] = result["slices"]
    if "camera" in result:  # a camera's request: the zones of each box, and what was dropped
        for detection, zones in zip(body["detections"], result["zones"], strict=True):
            detection["zones"] = zones
        body["camera"] = result["camera"]
        body["dropped"] = result["dropped"]
        body["events"] = call.events  # camera events opened / updated / closed by this frame
    return body


def deepstack_predictions(results: list[dict], allowed_labels: frozenset[str]) -> list[dict]:
    """DeepStack's prediction objects (integer pixel boxes), only for labels the tenant has."""
    predictions = []
    for result in results:
        for (x1, y1, x2, y2), scores, names in zip(
            result["bbox_coords"], result["bbox_scores"], result["class_names"], strict=True
        ):
            if names[0] not in allowed_labels:
                continue
            predictions.append(
                {
                    "label": names[0],
                    "confidence": scores[0],
                    "x_min": round(x1),
                    "y_min": round(y1),
                    "x_max": round(x2),
                    "y_max": round(y2),
                }
            )
    predictions.sort(key=lambda p: p["confidence"], reverse=True)
    return predictions


def deepstack_success(predictions: list[dict]) -> dict:
    return {"success": True, "predictions": predictions}


def deepstack_error(message: str) -> dict:
    return {"success": False, "error": message}
