"""Camera events from camera frames: the detection flow's tracking hook and the idle sweep.

The detection flow calls ``track_camera_frame`` once per camera request, after the camera's
filter step, with plain values (no request, no grant). Under the camera's Redis lock it steps
the tracker (tracking.py) and writes what changed: an opened event is a row plus its
``event.started`` deliveries in one transaction; a better frame replaces the event's stashed
snapshot (snapshots.py) and its best box; a closed event gets its end, its ``event.ended``
deliveries, and a Celery task that stores the best snapshot. Writes happen inside the lock, so
the open of an event is committed before any process can close it.

Tracking is a side effect: when Redis or the database fails, or the camera's lock stays busy,
the frame is answered without events and the reason is logged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from apps.events import camera_counters, snapshots, track_store
from apps.events.camera_models import CameraAlerting, CameraEvent, zone_index
from apps.events.camera_queue import STORE_SNAPSHOT, queue
from apps.events.tracking import Change, Detection, TrackerSettings, expire, step
from apps.events.webhooks.delivery import queue_event_deliveries

logger = logging.getLogger(__name__)

# Alert settings change rarely and are read on every frame: each process keeps them briefly.
_SETTINGS_TTL_S = 5.0
_settings_cache: dict[int, tuple[float, TrackerSettings | None]] = {}


@dataclass(frozen=True)
class CameraFrame:
    """One camera request's kept detections, as the detection flow hands them over."""

    tenant_id: int
    camera_pk: int
    captured_at: float  # Unix seconds: the client's capture time, else the arrival
    detections: Sequence[dict]  # {"label", "score", "box": [x1, y1, x2, y2], "zones": [...]}
    image: bytes
    width: int
    height: int


def tracker_settings(camera_pk: int) -> TrackerSettings | None:
    """The camera's tracker settings; None when its events are switched off."""
    now = time.monotonic()
    cached = _settings_cache.get(camera_pk)
    if cached and cached[0] > now:
        return cached[1]
    row = CameraAlerting.objects.filter(camera_id=camera_pk).first()
    if row is None:
        value: TrackerSettings | None = TrackerSettings()
    elif not row.enabled:
        value = None
    else:
        value = TrackerSettings(
            timeout_s=row.timeout_s,
            cooldown_s=row.cooldown_s,
            stationary_after_s=row.stationary_after_s,
            confirm_hits=row.confirm_hits,
            confirm_window=row.confirm_window,
            labels=frozenset(row.labels) if row.labels else None,
        )
    _settings_cache[camera_pk] = (now + _SETTINGS_TTL_S, value)
    return value


def forget_settings(camera_pk: int) -> None:
    _settings_cache.pop(camera_pk, None)


ALERTING_FIELDS = (
    "enabled",
    "labels",
    "timeout_s",
    "cooldown_s",
    "stationary_after_s",
    "confirm_hits",
    "confirm_window",
)


class AlertingInvalid(ValueError):
    """A change to a camera's event settings that does not hold together; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def alerting_of(camera_pk: int) -> CameraAlerting:
    """The camera's event settings (an unsaved row of defaults when it has none)."""
    return CameraAlerting.objects.filter(camera_id=camera_pk).first() or CameraAlerting(
        camera_id=camera_pk
    )


def update_alerting(camera_pk: int, changes: dict) -> CameraAlerting:
    """Change the given event settings of a camera (AlertingInvalid, nothing saved, when they
    do not hold together); other processes see them within _SETTINGS_TTL_S (their
    per-process cache), this one at once."""
    row = alerting_of(camera_pk)
    for name in ALERTING_FIELDS:
        if name in changes:
            value = changes[name]
            setattr(row, name, sorted(set(value)) if name == "labels" else value)
    if row.confirm_hits > row.confirm_window:
        raise AlertingInvalid(
            "confirm_hits",
            f"{row.confirm_hits} sightings cannot fit in a window of {row.confirm_window} frames; "
            "make confirm_window at least confirm_hits.",
        )
    row.save()
    forget_settings(camera_pk)
    return row


def track_camera_frame(frame: CameraFrame) -> list[dict]:
    """Step the camera's tracks with this frame; the response's ``events`` list."""
    detections = [
        Detection(d["label"], float(d["score"]), tuple(d["box"]), tuple(d.get("zones") or ()))
        for d in frame.detections
    ]
    try:
        settings = tracker_settings(frame.camera_pk)
        if settings is None:
            return []
        with track_store.locked_camera(frame.camera_pk):
            stored = track_store.load(frame.camera_pk)
            changes = step(
                stored.state, detections, frame.captured_at, settings, lambda: str(uuid.uuid4())
            )
            if changes is None:
                return []  # older than the camera's newest frame: updates nothing
            stored.arrival = time.time()
            _write(changes, frame)
            track_store.save(frame.camera_pk, stored, settings)
    except (RedisError, DatabaseError, track_store.CameraBusy) as exc:
        # The state was not saved: the next frame sees the tracks as before this one.
        logger.warning("camera %s frame not tracked: %r", frame.camera_pk, exc)
        return []
    return [_response_item(change) for change in changes]


def close_idle_cameras(now: float | None = None) -> int:
    """Close the events of cameras that stopped sending frames (the periodic sweep); returns
    how many events it closed."""
    now = time.time() if now is None else now
    closed = 0
    for camera_pk in track_store.due_cameras(now):
        settings = tracker_settings(camera_pk) or TrackerSettings()
        try:
            with track_store.locked_camera(camera_pk):
                stored = track_store.load(camera_pk)
                changes = expire(stored.state, track_store.camera_clock(stored, now), settings)
                _write(changes, None)
                track_store.save(camera_pk, stored, settings)
        except track_store.CameraBusy:
            continue  # frames are arriving: they expire the tracks themselves
        closed += len(changes)
    return closed


def close_orphaned_events(older_than_s: float = 60.0, limit: int = 200) -> int:
    """Close open event rows no track carries any more (Redis lost the camera's state: a flush,
    a failover, a state key expired): they would stay "ongoing" forever. Checked under the
    camera's lock, where rows and state agree; they end when last known (best frame)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    open_rows = CameraEvent.objects.filter(ended_at__isnull=True, created_at__lt=cutoff)
    cameras = sorted(set(open_rows.values_list("camera_id", flat=True)[:limit]))
    closed = 0
    for camera_pk in cameras:
        try:
            with track_store.locked_camera(camera_pk):
                tracked = {
                    t.event_id for t in track_store.load(camera_pk).state.tracks if t.event_open
                }
                for event in open_rows.filter(camera_id=camera_pk).select_related("camera"):
                    if str(event.id) not in tracked:
                        _end_orphan(event)
                        closed += 1
        except track_store.CameraBusy:
            continue
    return closed


def _end_orphan(event: CameraEvent) -> None:
    with transaction.atomic():
        event.ended_at = event.best_at or event.started_at
        event.close_reason = CameraEvent.CloseReason.TIMEOUT
        event.save(update_fields=["ended_at", "close_reason"])
        queue_event_deliveries(event, "event.ended", event_payload(event, "event.ended"))
        transaction.on_commit(lambda: queue(STORE_SNAPSHOT, str(event.id)))
    camera_counters.count("events_closed")


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _frame_boxes(frame: CameraFrame) -> list[dict]:
    return [
        {"label": d["label"], "score": round(float(d["score"]), 4), "box": list(d["box"])}
        for d in frame.detections
    ]


def _write(changes: list[Change], frame: CameraFrame | None) -> None:
    for change in changes:
        if change.kind == "opened" and frame is not None:
            _open(change, frame)
        elif change.kind == "updated" and change.best_improved and frame is not None:
            _improve(change, frame)
        elif change.kind == "closed":
            _close(change)


def _open(change: Change, frame: CameraFrame) -> None:
    track = change.track
    snapshots.stash(change.event_id, frame.image)
    with transaction.atomic():
        event = CameraEvent.objects.create(
            id=change.event_id,
            tenant_id=frame.tenant_id,
            camera_id=frame.camera_pk,
            label=track.label,
            zones=track.zones,
            zone_index=zone_index(track.zones),
            started_at=_at(track.event_started or frame.captured_at),
            max_score=track.best_score,
            box=track.best_box,
            best_at=_at(frame.captured_at),
            frame_boxes=_frame_boxes(frame),
            frame_width=frame.width,
            frame_height=frame.height,
        )
        queue_event_deliveries(event, "event.started", event_payload(event, "event.started"))
    camera_counters.count("events_opened")


def _improve(change: Change, frame: CameraFrame) -> None:
    track = change.track
    snapshots.stash(change.event_id, frame.image)
    CameraEvent.objects.filter(id=change.event_id).update(
        max_score=track.best_score,
        box=track.best_box,
        zones=track.zones,
        zone_index=zone_index(track.zones),
        best_at=_at(frame.captured_at),
        frame_boxes=_frame_boxes(frame),
        frame_width=frame.width,
        frame_height=frame.height,
    )


def _close(change: Change) -> None:
    track = change.track
    with transaction.atomic():
        event = (
            CameraEvent.objects.select_for_update()
            .select_related("camera")
            .filter(id=change.event_id, ended_at__isnull=True)
            .first()
        )
        if event is None:
            return
        event.ended_at = _at(track.last_seen)
        event.close_reason = change.reason
        event.set_zones(track.zones)
        event.max_score = max(event.max_score, track.best_score)
        event.save(update_fields=["ended_at", "close_reason", "zones", "zone_index", "max_score"])
        queue_event_deliveries(event, "event.ended", event_payload(event, "event.ended"))
        # The stash waits in Redis if this is refused; the sweep stores it then.
        transaction.on_commit(lambda: queue(STORE_SNAPSHOT, str(event.id)))
    camera_counters.count("events_closed")


def store_event_snapshot(event_id: str) -> bool:
    """Move a closed event's stashed best frame to storage (the Celery task's body)."""
    event = CameraEvent.objects.filter(id=event_id).first()
    if event is None or event.snapshot_key:
        return False
    stored = snapshots.store(
        str(event.id),
        event.tenant_id,
        event.started_at,
        {
            "event_id": str(event.id),
            "width": event.frame_width,
            "height": event.frame_height,
            "box": event.box,
            "boxes": event.frame_boxes,
        },
    )
    if stored is None:
        return False
    key, content_type = stored
    CameraEvent.objects.filter(id=event.id).update(
        snapshot_key=key, snapshot_content_type=content_type
    )
    snapshots.drop_stash(str(event.id))
    return True


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def event_item(event: CameraEvent) -> dict:
    """The public shape of an event (REST items and webhook payload data)."""
    return {
        "id": str(event.id),
        "camera": event.camera.public_id,
        "camera_name": event.camera.name,
        "label": event.label,
        "zones": list(event.zones),
        "started_at": _iso(event.started_at),
        "ended_at": _iso(event.ended_at),
        "max_score": round(event.max_score, 4),
        "box": list(event.box),
        "snapshot_url": snapshots.signed_url(str(event.id)),
    }


def event_payload(event: CameraEvent, event_type: str) -> dict:
    """The webhook body: Standard Webhooks' recommended {type, timestamp, data} envelope."""
    return {"type": event_type, "timestamp": _iso(timezone.now()), "data": event_item(event)}


def _response_item(change: Change) -> dict:
    track = change.track
    item = {
        "id": change.event_id,
        "type": change.kind,
        "label": track.label,
        "score": round(track.score, 4),
        "box": [round(c, 1) for c in track.box],
    }
    if change.kind == "closed":
        item["ended_at"] = _iso(_at(track.last_seen))
        item["reason"] = change.reason
    return item
