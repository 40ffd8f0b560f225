"""The detection flow's hand-over to camera events: one frame's kept boxes as plain values.

Called by services.detect_services right after the camera's filter step, so the tracker sees
exactly the boxes the response shows (zones included); the answer is the response's `events`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.cameras.config import CameraConfig
from apps.detection.capture_time import captured_at
from apps.events.camera_events import CameraFrame, track_camera_frame

if TYPE_CHECKING:
    from apps.detection.services import DetectionCall


def track_frame(call: DetectionCall, camera: CameraConfig, results: list[dict]) -> list[dict]:
    detections = [
        {"label": names[0], "score": scores[0], "box": box, "zones": zones}
        for result in results
        for box, scores, names, zones in zip(
            result["bbox_coords"],
            result["bbox_scores"],
            result["class_names"],
            result.get("zones") or [[]] * len(result["bbox_coords"]),
            strict=True,
        )
    ]
    body = call.parsed_body if isinstance(call.parsed_body, dict) else None
    first = results[0] if results else {}
    return track_camera_frame(
        CameraFrame(
            tenant_id=camera.tenant_id,
            camera_pk=camera.pk,
            captured_at=captured_at(call.captured_at, body, call.timestamp),
            detections=detections,
            image=call.image.data if call.image else b"",
            width=int(first.get("width", 0)),
            height=int(first.get("height", 0)),
        )
    )
