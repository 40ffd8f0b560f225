"""An event's best snapshot: held in Redis while the event is open, then stored once.

The best frame changes while an object is seen (a higher score), so it is not written to
storage on every improvement: the request path overwrites one Redis value per open event
(the frame bytes, a SET), and when the event closes a Celery task writes that frame and a JSON
of its boxes to the archive storage (S3 or the folder, whatever IPCAI_ARCHIVE_URL says), even
when request archiving is off. Snapshot URLs are signed and expire, so a webhook receiver can
fetch the image without an API key, and nobody can fetch another event's by changing the id.

Redis memory is bounded (security review, issue 31): the events of one frame share one stashed
copy of it (``camframe:<id>``; each event holds only a pointer, ``camsnap:<event>``), a frame
larger than STASH_MAX_SIDE is downscaled before it is stashed, and a stashed frame is deleted
as soon as no event points at it any more (a reference count, moved in one Lua script). With
the tracker's cap on open events per camera (tracking.py) that bounds a camera's stash.
Boxes stay in the frame's own pixels: the snapshot JSON says the frame's width and height.
"""

from __future__ import annotations

import io
import time
import uuid
from datetime import datetime

import orjson
from django.conf import settings
from django.core import signing
from django.urls import reverse
from PIL import Image, UnidentifiedImageError

from apps.alerts.models import CameraEvent
from apps.archive import layout
from apps.core.redaction import redaction_queue
from apps.core.redis import get_redis, redis_key, reply_bytes
from apps.core.storage import ArchiveStorage, ObjectNotFound, get_storage

STASH_TTL_S = 24 * 3600
# A stashed frame's longer side at most (a 4K camera's 10 MB frame becomes well under 1 MB).
STASH_MAX_SIDE = 1920
_SALT = "ipcai.camera-event-snapshot"


def _stash_key(event_id: str) -> str:
    return redis_key("camsnap", event_id)


def _frame_key(frame_id: str) -> str:
    return redis_key("camframe", frame_id)


def _refs_key(frame_id: str) -> str:
    return redis_key("camframe", frame_id, "refs")


# KEYS: the event's pointer, the new frame, its count; ARGV: new frame id, ttl, key prefix.
# Points the event at the new frame and releases the frame it pointed at (deleted with its
# count when no event points at it any more).
_POINT = """
local old = redis.call('GET', KEYS[1])
if old == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[2])
if old and string.len(old) <= 64 then
  local refs = ARGV[3] .. old .. ':refs'
  if redis.call('DECR', refs) <= 0 then redis.call('DEL', ARGV[3] .. old, refs) end
end
return 1
"""
# KEYS: the event's pointer; ARGV: key prefix. Drops the pointer and releases its frame.
_RELEASE = """
local old = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
if old and string.len(old) <= 64 then
  local refs = ARGV[1] .. old .. ':refs'
  if redis.call('DECR', refs) <= 0 then redis.call('DEL', ARGV[1] .. old, refs) end
end
return 1
"""


def downscaled(image: bytes, width: int, height: int) -> bytes:
    """The frame as stashed: as sent when it fits STASH_MAX_SIDE (no decoding), else a JPEG
    that does (the JPEG decoder draws it at 1/2..1/8 scale first)."""
    if max(width, height) <= STASH_MAX_SIDE:
        return image
    try:
        with Image.open(io.BytesIO(image)) as opened:
            opened.draft("RGB", (STASH_MAX_SIDE, STASH_MAX_SIDE))
            picture = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return image
    picture.thumbnail((STASH_MAX_SIDE, STASH_MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


class FrameStash:
    """One camera frame's stash, shared by every event it opens or improves: stashed (and
    downscaled) once, for the first event that needs it."""

    def __init__(
        self, image: bytes, width: int, height: int, redact: frozenset[str] = frozenset()
    ) -> None:
        self.image, self.width, self.height = image, width, height
        self.redact = redact  # a redacting tenant's frame is stashed only once blurred
        self.frame_id: str | None = None

    def keep_for(self, event_id: str) -> None:
        """Make this frame the event's best snapshot."""
        r = get_redis()
        if self.frame_id is None:
            frame_id = uuid.uuid4().hex
            data = downscaled(self.image, self.width, self.height)
            if self.redact:
                stash_redacted(frame_id, data, self.redact)
            else:
                r.set(_frame_key(frame_id), data, ex=STASH_TTL_S)
            self.frame_id = frame_id
        r.eval(
            _POINT,
            3,
            _stash_key(event_id),
            _frame_key(self.frame_id),
            _refs_key(self.frame_id),
            self.frame_id,
            STASH_TTL_S,
            redis_key("camframe", ""),
        )


def stash_redacted(frame_id: str, image: bytes, kinds: frozenset[str]) -> None:
    """Stash the frame once the redaction thread has blurred it (apps/core/redaction.py): the
    request path does not wait, and Redis never holds the frame unblurred. The events point at
    the frame id at once; until the blurred frame lands (normally well before the event
    closes) the event has no snapshot, and a frame that cannot be blurred is never stashed.
    Written only while some event still points at it (its count exists)."""

    def then(redacted: bytes | None) -> None:
        if redacted is None:
            return
        r = get_redis()
        if r.exists(_refs_key(frame_id)):
            r.set(_frame_key(frame_id), redacted, ex=STASH_TTL_S)

    redaction_queue().submit(image, kinds, then)


def stash(event_id: str, image: bytes, width: int = 0, height: int = 0) -> None:
    """One event's best frame, a frame of its own (frames.py shares one per frame)."""
    FrameStash(image, width, height).keep_for(event_id)


def stashed(event_id: str) -> bytes | None:
    r = get_redis()
    pointer = reply_bytes(r.get(_stash_key(event_id)))
    if pointer is None:
        return None
    if len(pointer) > 64:  # the frame itself, stashed by a release before frames were shared
        return pointer
    return reply_bytes(r.get(_frame_key(pointer.decode())))


def drop_stash(event_id: str) -> None:
    get_redis().eval(_RELEASE, 1, _stash_key(event_id), redis_key("camframe", ""))


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
