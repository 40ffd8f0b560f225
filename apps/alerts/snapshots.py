"""An event's best snapshot: held in Redis while the event is open, then stored once.

The best frame changes while an object is seen (a higher score), so it is not written to
storage on every improvement: the request path overwrites one Redis value per open event
(the frame bytes, a SET), and when the event closes a Celery task writes that frame and a JSON
of its boxes to the archive storage (S3 or the folder, whatever IPCAI_ARCHIVE_URL says), even
when request archiving is off. Snapshot URLs are signed and expire, so a webhook receiver can
fetch the image without an API key, and nobody can fetch another event's by changing the id.
"""

from __future__ import annotations

import time
from datetime import datetime

import orjson
from django.conf import settings
from django.core import signing
from django.urls import reverse

from apps.alerts.models import CameraEvent
from apps.archive import layout
from apps.core.redis import get_redis, redis_key, reply_bytes
from apps.core.storage import ArchiveStorage, ObjectNotFound, get_storage

STASH_TTL_S = 24 * 3600
_SALT = "ipcai.camera-event-snapshot"


def _stash_key(event_id: str) -> str:
    return redis_key("camsnap", event_id)


def stash(event_id: str, image: bytes) -> None:
    get_redis().set(_stash_key(event_id), image, ex=STASH_TTL_S)


def stashed(event_id: str) -> bytes | None:
    return reply_bytes(get_redis().get(_stash_key(event_id)))


def drop_stash(event_id: str) -> None:
    get_redis().delete(_stash_key(event_id))


def snapshot_key(tenant_id: int, started_at: datetime, event_id: str, extension: str) -> str:
    """Under the tenant's id (slugs can be renamed) and the day, like request events."""
    return f"camera-events/{tenant_id}/{started_at:%Y/%m/%d}/{event_id}.{extension}"


def store(
    event_id: str,
    tenant_id: int,
    started_at: datetime,
    boxes: dict,
    storage: ArchiveStorage | None = None,
) -> tuple[str, str] | None:
    """Write the stashed best frame and its boxes; (key, content type), or None without a
    stash (Redis lost it, or another worker stored and dropped it already)."""
    image = stashed(event_id)
    if image is None:
        return None
    storage = storage or get_storage()
    image_type = layout.sniff_image_type(image) or layout.ImageType("jpg", "image/jpeg")
    key = snapshot_key(tenant_id, started_at, event_id, image_type.extension)
    storage.put_once(key, image, image_type.content_type)
    storage.put_once(
        snapshot_key(tenant_id, started_at, event_id, "json"),
        orjson.dumps(boxes),
        "application/json",
    )
    return key, image_type.content_type


def read(event_id: str, key: str, storage: ArchiveStorage | None = None) -> bytes | None:
    """The snapshot's bytes: stored if the event closed, else the open event's stash."""
    if key:
        try:
            return (storage or get_storage()).get(key)
        except ObjectNotFound:
            pass
    return stashed(event_id)


def signed_path(event_id: str, ttl_s: int | None = None) -> str:
    """The snapshot's URL path with an expiring signature bound to this event id."""
    expires = int(time.time()) + (ttl_s or settings.IPCAI_SNAPSHOT_URL_TTL_S)
    token = signing.dumps([str(event_id), expires], salt=_SALT, compress=True)
    return reverse("alerts:camera-event-snapshot", args=[str(event_id)]) + f"?token={token}"


def signed_url(event_id: str, ttl_s: int | None = None) -> str:
    return settings.IPCAI_PUBLIC_URL.rstrip("/") + signed_path(event_id, ttl_s)


def token_allows(event_id: str, token: str) -> bool:
    """Whether `token` was signed for this event and has not expired."""
    try:
        signed_id, expires = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    return signed_id == str(event_id) and int(expires) >= time.time()


def store_event_snapshot(event_id: str) -> bool:
    """Move a closed event's stashed best frame to storage (the Celery task's body)."""
    event = CameraEvent.objects.filter(id=event_id).first()
    if event is None or event.snapshot_key:
        return False
    stored = store(
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
    drop_stash(str(event.id))
    return True
