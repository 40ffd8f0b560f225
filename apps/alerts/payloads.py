"""The public shape of a camera event: REST items and webhook payloads."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from apps.alerts import snapshots
from apps.alerts.models import CameraEvent

logger = logging.getLogger(__name__)


def iso_utc(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def event_item(event: CameraEvent) -> dict:
    """The public shape of an event (REST items and webhook payload data)."""
    return {
        "id": str(event.id),
        "camera": event.camera.public_id,
        "camera_name": event.camera.name,
        "label": event.label,
        "zones": list(event.zones),
        "started_at": iso_utc(event.started_at),
        "ended_at": iso_utc(event.ended_at),
        "max_score": round(event.max_score, 4),
        "box": list(event.box),
        "snapshot_url": snapshots.signed_url(str(event.id)),
        "plate": (
            {"text": event.plate_text, "score": round(event.plate_score, 4)}
            if event.plate_text
            else None
        ),
        "watchlists": list(event.watchlists or []),
        "verdict": verdict_of(event),
    }


def verdict_of(event: CameraEvent) -> str | None:
    """The user's verdict on the event ("false_alarm" / "confirmed"), None when none was given.
    Lists fetch it with the event (listing.py's select_related); a lone event costs a query."""
    try:
        return event.verdict.verdict
    except ObjectDoesNotExist:
        return None


def event_payload(event: CameraEvent, event_type: str) -> dict:
    """The webhook body: Standard Webhooks' recommended {type, timestamp, data} envelope."""
    return {"type": event_type, "timestamp": iso_utc(timezone.now()), "data": event_item(event)}
