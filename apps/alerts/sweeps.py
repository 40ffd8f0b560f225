"""The periodic sweeps of camera events: close the events of cameras that went silent, and
event rows whose track Redis lost."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.alerts import counters as camera_counters
from apps.alerts import track_store
from apps.alerts.alerting import tracker_settings
from apps.alerts.frames import write_changes
from apps.alerts.models import CameraEvent
from apps.alerts.payloads import event_payload
from apps.alerts.queueing import STORE_SNAPSHOT, queue
from apps.alerts.tracking import TrackerSettings, expire
from apps.alerts.webhooks.delivery import queue_event_deliveries

logger = logging.getLogger(__name__)


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
                write_changes(changes, None)
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
