"""Write an event to storage and index it; remove events past their service's retention.

Both run inside Celery tasks and are safe to repeat: storage writes are create-once, the index
row is keyed by the event id, and deletion tolerates objects already gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.events.models import ArchivedEvent
from apps.events.records import RequestEvent
from apps.events.storage import ArchiveStorage, get_storage
from apps.tenants.models import Tenant, TenantService

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreOutcome:
    event_id: str
    objects_written: int
    indexed: bool


def store_event(message: dict[str, Any], storage: ArchiveStorage | None = None) -> StoreOutcome:
    """Store the image, then the JSON record, then index the event.

    The order matters for retries: a listed event always has both objects, and a task that
    failed half way writes only what is missing when it runs again.
    """
    event = RequestEvent.from_message(message)
    storage = storage or get_storage()
    written = 0
    image_key = event.image_key
    if image_key and event.image is not None and event.image_type is not None:
        written += storage.put_once(image_key, event.image, event.image_type.content_type)
    written += storage.put_once(event.record_key, event.record_bytes(), "application/json")

    if not Tenant.objects.filter(pk=event.tenant_id).exists():
        # The tenant was deleted while the event was queued: keep the objects (retention or an
        # operator removes them) but there is nobody to list them for.
        logger.warning("archived event %s of deleted tenant %s", event.event_id, event.tenant_id)
        return StoreOutcome(event.event_id, written, indexed=False)
    try:
        with transaction.atomic():
            _, created = ArchivedEvent.objects.get_or_create(
                id=event.event_id,
                defaults={
                    "tenant_id": event.tenant_id,
                    "application_type": event.application_type,
                    "api_key_id": event.api_key_id,
                    "request_id": event.request_id[:128],
                    "portal_request_id": event.portal_request_id[:32],
                    "received_at": event.received_at,
                    "model": event.model[:64],
                    "detection_count": event.detection_count,
                    "record_key": event.record_key,
                    "image_key": image_key or "",
                    "image_content_type": event.image_type.content_type if image_key else "",
                    "image_size": len(event.image) if image_key and event.image else 0,
                },
            )
    except IntegrityError:
        # A duplicate of this task indexed it between our SELECT and INSERT.
        created = False
    return StoreOutcome(event.event_id, written, indexed=created)


def purge_expired_events(
    now=None, batch_size: int = 500, storage: ArchiveStorage | None = None
) -> int:
    """Delete events older than their service's retention_days; returns how many were removed.

    Objects go first, rows second: if storage fails, the rows stay and the next run retries,
    so no object is left in the bucket without a row pointing at it. ``retention_days = 0``
    means "no automatic deletion", and events of a service the tenant no longer has are kept
    until an operator decides: nothing disappears by accident.
    """
    now = now or timezone.now()
    storage = storage or get_storage()
    removed = 0
    services = TenantService.objects.filter(retention_days__gt=0).only(
        "tenant_id", "application_type", "retention_days"
    )
    for service in services:
        cutoff = now - timedelta(days=service.retention_days)
        expired = ArchivedEvent.objects.filter(
            tenant_id=service.tenant_id,
            application_type=service.application_type,
            received_at__lt=cutoff,
        )
        while True:
            batch = list(expired.values_list("id", "record_key", "image_key")[:batch_size])
            if not batch:
                break
            keys = [key for _, record, image in batch for key in (image, record) if key]
            storage.delete(keys)
            ArchivedEvent.objects.filter(id__in=[event_id for event_id, _, _ in batch]).delete()
            removed += len(batch)
    return removed
