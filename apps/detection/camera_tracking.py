"""The detection flow's hand-over to camera events: one frame's kept boxes as plain values.

Called by services.detect_services right after the camera's filter step, so the tracker sees
exactly the boxes the response shows (zones included); the answer is the response's `events`.
"""

from __future__ import annotations

from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.cameras.config import CameraConfig
from apps.detection.capture_time import captured_at


def track_frame(
    camera: CameraConfig,
    results: list[dict],
    image: bytes,
    explicit_time: float | None,
    body: object,
    arrived: float,
    redact: frozenset[str] = frozenset(),
) -> list[dict]:
    """`explicit_time`: the request's header / query / form capture time; `body`: its parsed
    JSON (the seed's `timestamp`); `arrived`: when it arrived."""
    detections = [
        {"label": names[0], "score": scores[0], "box": box, "zones": zones, "plate": plate}
        for result in results
        for box, scores, names, zones, plate in zip(
            result["bbox_coords"],
            result["bbox_scores"],
            result["class_names"],
            result.get("zones") or [[]] * len(result["bbox_coords"]),
            result.get("plates") or [None] * len(result["bbox_coords"]),  # license-plates
            strict=True,
        )
    ]
    first = results[0] if results else {}
    return track_camera_frame(
        CameraFrame(
            tenant_id=camera.tenant_id,
            camera_pk=camera.pk,
            captured_at=captured_at(
                explicit_time, body if isinstance(body, dict) else None, arrived
            ),
            detections=detections,
            image=image,
            width=int(first.get("width", 0)),
            height=int(first.get("height", 0)),
            redact=redact,
        )
    )
