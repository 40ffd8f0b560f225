"""The state changes of feedback: a verdict on an event (a false alarm also teaches its camera
a learned area), removing a learned area, applying a suggested setting. The API, the
dashboard and the CLI (through the API) all call these."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.alerts.feedback import learned_areas
from apps.alerts.feedback.models import EventVerdict, LearnedArea, Verdict
from apps.alerts.feedback.precision import camera_quality
from apps.alerts.models import CameraEvent
from apps.cameras.models import Camera
from apps.cameras.services import update_camera

MAX_NOTE = 500


class FeedbackInvalid(ValueError):
    """Feedback that cannot be taken; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _area_fraction(event: CameraEvent) -> float:
    if len(event.box) != 4 or not event.frame_width or not event.frame_height:
        return 0.0
    x1, y1, x2, y2 = event.box
    return max(0.0, (x2 - x1) * (y2 - y1)) / (event.frame_width * event.frame_height)


def give_feedback(event: CameraEvent, verdict: object, note: object, given_by: str) -> EventVerdict:
    """Record the verdict (replacing an earlier one). A false alarm with a box becomes a
    learned area of its camera; a confirmed event removes the area its earlier verdict made."""
    if verdict not in Verdict.values:
        raise FeedbackInvalid("verdict", f"one of {', '.join(Verdict.values)}, got {verdict!r}")
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise FeedbackInvalid("note", f"text of at most {MAX_NOTE} characters")
    with transaction.atomic():
        row, _ = EventVerdict.objects.update_or_create(
            event=event,
            defaults={
                "tenant_id": event.tenant_id,
                "camera_id": event.camera_id,
                "label": event.label,
                "verdict": verdict,
                "note": note,
                "score": event.max_score,
                "area_fraction": _area_fraction(event),
                "given_by": given_by[:150],
                "given_at": timezone.now(),
            },
        )
        if verdict == Verdict.FALSE_ALARM and len(event.box) == 4:
            LearnedArea.objects.update_or_create(
                event=event,
                defaults={
                    "tenant_id": event.tenant_id,
                    "camera_id": event.camera_id,
                    "label": event.label,
                    "box": [float(c) for c in event.box],
                    "frame_width": event.frame_width,
                    "frame_height": event.frame_height,
                    "max_score": event.max_score,
                },
            )
        else:
            for area in LearnedArea.objects.filter(event=event):
                _delete_area(area)
    learned_areas.forget(event.camera_id)
    return row


def _delete_area(area: LearnedArea) -> None:
    camera_pk, area_id = area.camera_id, area.pk
    area.delete()
    transaction.on_commit(lambda: learned_areas.drop_count(camera_pk, area_id))


def remove_area(area: LearnedArea) -> None:
    """Forget a learned area: its boxes open events again (in this process at once, in the
    others within learned_areas.AREAS_TTL_S)."""
    camera_pk = area.camera_id
    with transaction.atomic():
        _delete_area(area)
    learned_areas.forget(camera_pk)


def apply_suggestion(camera: Camera, setting: object, label: object = None) -> Camera:
    """Apply a suggested `threshold` (for `label`) or `min_size` to the camera's filter, as
    shown by precision.camera_quality; FeedbackInvalid when there is no such suggestion."""
    quality = camera_quality(camera.pk)
    if setting == "threshold":
        found = next((q for q in quality.classes if q.label == label), None)
        if found is None or found.threshold is None:
            raise FeedbackInvalid("label", f"no suggested threshold for {label!r}")
        thresholds = {**camera.class_thresholds, found.label: found.threshold.value}
        return update_camera(camera, {"class_thresholds": thresholds})
    if setting == "min_size":
        if quality.min_size is None:
            raise FeedbackInvalid("setting", "no suggested minimum size for this camera")
        return update_camera(camera, {"min_box_area": quality.min_size.value})
    raise FeedbackInvalid("setting", f"threshold or min_size, got {setting!r}")
