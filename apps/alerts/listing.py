"""Which camera events a tenant may see, filtered as the API and the dashboard ask.

Every query starts from the tenant: another tenant's event, camera or endpoint id matches
nothing, so a guessed id reveals nothing, not even that it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet

from apps.alerts.models import CameraEvent, WebhookEndpoint


@dataclass(frozen=True)
class CameraEventFilter:
    camera: str | None = None  # public id
    label: str | None = None
    zone: str | None = None
    since: datetime | None = None
    # Recorded by the service at or after this time, whatever capture time it started at: a
    # replayed recording's events started minutes "ago" but are new (`ipcai events --follow`).
    created_since: datetime | None = None
    day: date | None = None  # UTC day the event started


def tenant_camera_events(
    tenant_id: int, filters: CameraEventFilter = CameraEventFilter()
) -> QuerySet[CameraEvent]:
    events = CameraEvent.objects.filter(tenant_id=tenant_id).select_related("camera")
    if filters.camera:
        events = events.filter(camera__public_id=filters.camera)
    if filters.label:
        events = events.filter(label=filters.label)
    if filters.zone:
        events = events.filter(zone_index__contains=f",{filters.zone},")
    if filters.since:
        events = events.filter(started_at__gte=filters.since)
    if filters.created_since:
        events = events.filter(created_at__gte=filters.created_since)
    if filters.day:
        start = datetime.combine(filters.day, time.min, tzinfo=UTC)
        events = events.filter(started_at__gte=start, started_at__lt=start + timedelta(days=1))
    return events


def tenant_camera_event(tenant_id: int, event_id: str) -> CameraEvent | None:
    try:
        parsed = uuid.UUID(str(event_id))
    except ValueError:
        return None
    return (
        CameraEvent.objects.select_related("camera").filter(tenant_id=tenant_id, id=parsed).first()
    )


def camera_event_by_id(event_id: str) -> CameraEvent | None:
    """Any tenant's event: only for a request that proved a signed snapshot URL."""
    try:
        parsed = uuid.UUID(str(event_id))
    except ValueError:
        return None
    return CameraEvent.objects.filter(id=parsed).first()


def tenant_endpoint(tenant_id: int, public_id: str) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(tenant_id=tenant_id, public_id=public_id).first()
