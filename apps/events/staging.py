"""Image bytes parked in the broker's Redis between the request and the archive task.

Why stage instead of putting the image in the Celery message: a JSON task message can only carry
bytes as base64, which Celery then wraps in kombu's own base64 envelope, so a 200 KB JPEG became a
370 KB message costing the request thread ~4 ms of CPU to encode (and the worker as much to
decode). Measured on the 2-core benchmark machine that alone cost a third of the portal's
throughput (docs/BENCHMARKS.md, Archiving). A raw Redis SET of the same bytes costs ~0.2 ms and
holds 200 KB, not 370 KB, in Redis; the message stays ~2 KB.

The blob lives in the same Redis as the message (same durability, same outage), without a TTL:
a broker Redis must run ``maxmemory-policy noeviction`` anyway, and under the volatile-* policies
only keys *with* a TTL are evicted, so a TTL would make staged images the first thing Redis drops
under memory pressure. The archive task deletes the blob once the event is stored. When the
broker is not Redis, or Redis is unreachable, the image travels inline instead (base64 in the
message, or in the durable spool).
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


def staging_available() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://"))


@cache
def _client(url: str) -> redis.Redis:
    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=transport.get("socket_connect_timeout", 1.0),
        socket_timeout=transport.get("socket_timeout", 5.0),
    )


def broker_redis() -> redis.Redis:
    return _client(settings.CELERY_BROKER_URL)


def stage_image(event_id: str, data: bytes) -> str:
    """Park the bytes; returns the key the task reads them from. Raises redis errors."""
    key = f"{settings.IPCAI_REDIS_PREFIX}archive:image:{event_id}"
    broker_redis().set(key, data)
    return key


def staged_image(key: str) -> bytes | None:
    return broker_redis().get(key)


def drop_staged_image(key: str) -> None:
    broker_redis().delete(key)
