"""Write an event to storage and index it; remove events past their service's retention.

Both run inside Celery tasks and are safe to repeat: storage writes are create-once, the index
row is keyed by the event id, and deletion tolerates objects already gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.archive.models import ArchivedEvent
from apps.archive.records import RequestEvent
from apps.archive.thumbnails import store_thumbnail, thumbnail_key
from apps.core.storage import ArchiveStorage, get_storage
from apps.tenants.models import TenantService

logger = logging.getLogger(__name__)

JSON = "application/json"


@dataclass(frozen=True)
class StoreOutcome:
    event_id: str
    objects_written: int
    indexed: bool  # the index row exists (it may come from an earlier delivery)


def store_event(
    message: dict[str, Any],
    storage: ArchiveStorage | None = None,
    image: bytes | None = None,
) -> StoreOutcome:
    """Store the image (inline in the message, or `image` beside it), then the JSON record,
    then index the event.

    The order matters for retries: a listed event always has both objects, and a delivery that
    failed half way writes only what is missing when it runs again.
    """
    event = RequestEvent.from_message(message, image)
    storage = storage or get_storage()
    written = 0
    if event.image_type is not None and event.image is None:
        if not storage.exists(event.record_key):
            # Only a message from before the outbox whose staged image was lost (Redis flushed
            # or evicted) gets here: keep the record, say the image is missing.
            logger.error("image of event %s is gone; archiving its record only", event.event_id)
            event = replace(event, image_type=None, image_size=0)
            written += storage.put_once(event.record_key, event.record_bytes(), JSON)
    else:
        if event.image is not None and event.image_type is not None and event.image_key:
            written += storage.put_once(event.image_key, event.image, event.image_type.content_type)
            # Here, once, so the events page never decodes a full image (thumbnails.py).
            written += store_thumbnail(storage, event.record_key, event.image, event.response)
        written += storage.put_once(event.record_key, event.record_bytes(), JSON)
    return StoreOutcome(event.event_id, written, indexed=_index(event))


def _index(event: RequestEvent) -> bool:
    """Insert the event's row once (a duplicate delivery inserts nothing); False when the
    tenant was deleted meanwhile (its objects stay for retention or an operator)."""
    row = ArchivedEvent(
        id=event.event_id,
        tenant_id=event.tenant_id,
        application_type=event.application_type,
        api_key_id=event.api_key_id,
        request_id=event.request_id[:128],
        portal_request_id=event.portal_request_id[:32],
        received_at=event.received_at,
        model=event.model[:64],
        detection_count=event.detection_count,
        record_key=event.record_key,
        image_key=event.image_key or "",
        image_content_type=event.image_type.content_type if event.image_type else "",
        image_size=event.image_size if event.image_type else 0,
    )
    try:
        with transaction.atomic():
            # One INSERT ... ON CONFLICT DO NOTHING: no SELECT first, no race between
            # duplicates of this task.
            ArchivedEvent.objects.bulk_create([row], ignore_conflicts=True)
    except IntegrityError:
        logger.warning("archived event %s of deleted tenant %s", event.event_id, event.tenant_id)
        return False
    return True


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
            keys = [
                key
                for _, record, image in batch
                for key in (image, image and thumbnail_key(record), record)
                if key
            ]
            storage.delete(keys)
            ArchivedEvent.objects.filter(id__in=[event_id for event_id, _, _ in batch]).delete()
            removed += len(batch)
    return removed
