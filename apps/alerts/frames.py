"""Camera events from camera frames: the detection flow's tracking hook.

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
from datetime import UTC, datetime

from django.db import DatabaseError, transaction
from redis.exceptions import RedisError

from apps.alerts import counters as camera_counters
from apps.alerts import health, plates, snapshots, track_store, watchlists
from apps.alerts.alerting import tracker_settings
from apps.alerts.feedback import learned_areas
from apps.alerts.models import CameraEvent, zone_index
from apps.alerts.payloads import event_payload, iso_utc
from apps.alerts.queueing import STORE_SNAPSHOT, queue
from apps.alerts.tracking import Change, Detection, step
from apps.alerts.webhooks.delivery import queue_event_deliveries

logger = logging.getLogger(__name__)


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
    redact: frozenset[str] = frozenset()  # what the tenant blurs in stored images


def track_camera_frame(frame: CameraFrame) -> list[dict]:
    """Step the camera's tracks with this frame; the response's ``events`` list."""
    detections = [
        Detection(d["label"], float(d["score"]), tuple(d["box"]), tuple(d.get("zones") or ()))
        for d in frame.detections
    ]
    health.on_frame(frame.camera_pk, frame.captured_at, frame.image, frame.width)
    try:
        settings = tracker_settings(frame.camera_pk)
        if settings is None:
            return []
        detections = learned_areas.hold_back(frame.camera_pk, detections)  # false alarms taught
        with track_store.locked_camera(frame.camera_pk):
            stored = track_store.load(frame.camera_pk)
            changes = step(
                stored.state, detections, frame.captured_at, settings, lambda: str(uuid.uuid4())
            )
            if changes is None:
                return []  # older than the camera's newest frame: updates nothing
            stored.arrival = time.time()
            write_changes(changes, frame)
            track_store.save(frame.camera_pk, stored, settings)
    except (RedisError, DatabaseError, track_store.CameraBusy) as exc:
        # The state was not saved: the next frame sees the tracks as before this one.
        logger.warning("camera %s frame not tracked: %r", frame.camera_pk, exc)
        return []
    return [_response_item(change) for change in changes]


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _frame_boxes(frame: CameraFrame) -> list[dict]:
    return [
        {"label": d["label"], "score": round(float(d["score"]), 4), "box": list(d["box"])}
        for d in frame.detections
    ]


def write_changes(changes: list[Change], frame: CameraFrame | None) -> None:
    # The events of one frame share one stashed copy of it (snapshots.FrameStash).
    shared = (
        snapshots.FrameStash(frame.image, frame.width, frame.height, frame.redact)
        if frame
        else None
    )
    for change in changes:
        if change.kind == "opened" and frame is not None and shared is not None:
            _open(change, frame, shared)
        elif change.kind == "updated" and change.best_improved and frame and shared:
            _improve(change, frame, shared)
        elif change.kind == "closed":
            _close(change)
        if change.kind in ("opened", "updated") and frame is not None:
            _keep_plate(change, frame)


def _keep_plate(change: Change, frame: CameraFrame) -> None:
    """The plate read on the track's box in this frame joins the event's vote (plates.py).
    By box alone: a vehicle track may have matched a box of another class of its family
    (tracking.VEHICLE_FAMILY: the car called a truck in this frame)."""
    box = list(change.track.box)
    read = next(
        (plates.plate_of(d) for d in frame.detections if list(d["box"]) == box and d.get("plate")),
        None,
    )
    if read is None:
        return
    event = plates.record_read(change.event_id, *read)
    if event is not None:
        watchlists.match_event(event)


def _open(change: Change, frame: CameraFrame, shared: snapshots.FrameStash) -> None:
    track = change.track
    shared.keep_for(change.event_id)
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


def _improve(change: Change, frame: CameraFrame, shared: snapshots.FrameStash) -> None:
    track = change.track
    shared.keep_for(change.event_id)
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
        item["ended_at"] = iso_utc(_at(track.last_seen))
        item["reason"] = change.reason
    return item
