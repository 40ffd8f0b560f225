"""Which archived events a tenant may see, filtered as the events API asks.

Every query starts from the tenant of the presented API key: an id or a filter of another
tenant simply matches nothing, so guessing ids or keys reveals nothing (not even existence).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet

from apps.archive.models import ArchivedEvent


@dataclass(frozen=True)
class EventFilter:
    service: str | None = None
    day: date | None = None  # a UTC calendar day, the same day as in the storage keys
    since: datetime | None = None
    until: datetime | None = None


def tenant_events(tenant_id: int, filters: EventFilter = EventFilter()) -> QuerySet[ArchivedEvent]:
    events = ArchivedEvent.objects.filter(tenant_id=tenant_id)
    if filters.service:
        events = events.filter(application_type=filters.service)
    if filters.day:
        start = datetime.combine(filters.day, time.min, tzinfo=UTC)
        events = events.filter(received_at__gte=start, received_at__lt=start + timedelta(days=1))
    if filters.since:
        events = events.filter(received_at__gte=filters.since)
    if filters.until:
        events = events.filter(received_at__lt=filters.until)
    return events


def tenant_event(tenant_id: int, event_id: str) -> ArchivedEvent | None:
    """The tenant's event with that id, or None (also for malformed ids)."""
    try:
        parsed = uuid.UUID(event_id)
    except (ValueError, AttributeError):
        return None
    return ArchivedEvent.objects.filter(tenant_id=tenant_id, id=parsed).first()
