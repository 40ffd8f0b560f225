"""Which camera events a tenant may see, filtered as the API and the dashboard ask.

Every query starts from the tenant: another tenant's event, camera or endpoint id matches
nothing, so a guessed id reveals nothing, not even that it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet
from django.db.models.functions import Length

from apps.alerts.models import CameraEvent, WebhookEndpoint
from apps.alerts.plates import normalise, one_off


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
    plate: str | None = None  # the event's voted plate text
    plate_match: str = "exact"  # "fuzzy": one character off matches too


def tenant_camera_events(
    tenant_id: int, filters: CameraEventFilter = CameraEventFilter()
) -> QuerySet[CameraEvent]:
    # The verdict comes in the same query: every listed item carries it (payloads.event_item).
    events = CameraEvent.objects.filter(tenant_id=tenant_id).select_related("camera", "verdict")
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
    if filters.plate is not None:
        events = _with_plate(events, normalise(filters.plate), filters.plate_match == "fuzzy")
    return events


def _with_plate(events: QuerySet[CameraEvent], plate: str, fuzzy: bool) -> QuerySet[CameraEvent]:
    """Exact: an indexed equality. Fuzzy: the database keeps plates within one character of
    the length, Python keeps those within one edit (Levenshtein <= 1)."""
    if not plate:
        return events.none()
    if not fuzzy:
        return events.filter(plate_text=plate)
    near = (
        events.exclude(plate_text="")
        .annotate(plate_length=Length("plate_text"))
        .filter(plate_length__gte=len(plate) - 1, plate_length__lte=len(plate) + 1)
        .values_list("id", "plate_text")
    )
    return events.filter(id__in=[pk for pk, text in near if one_off(plate, text)])


def tenant_camera_event(tenant_id: int, event_id: str) -> CameraEvent | None:
    try:
        parsed = uuid.UUID(str(event_id))
    except ValueError:
        return None
    return (
        CameraEvent.objects.select_related("camera", "verdict")
        .filter(tenant_id=tenant_id, id=parsed)
        .first()
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
