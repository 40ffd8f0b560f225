"""A camera's alert settings: read on every frame (cached briefly per process), changed in
one place for the API and the dashboard."""

from __future__ import annotations

import logging
import time

from apps.alerts.models import CameraAlerting
from apps.alerts.tracking import TrackerSettings

logger = logging.getLogger(__name__)


# Alert settings change rarely and are read on every frame: each process keeps them briefly.
_SETTINGS_TTL_S = 5.0
_settings_cache: dict[int, tuple[float, TrackerSettings | None]] = {}


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
