"""Heartbeats of the periodic machinery, so a dead Celery beat is noticed instead of silent.

Beat itself (portal/celery.py's scheduler, at every tick), the usage drain, the archive sweep
and the spool replay each write the Unix time they last ran into one Redis hash. The readiness
route and the Prometheus gauges (apps/archive/status.py) report their ages; a beat killed stops
all four, which used to stop usage draining, spool replay and retention with no signal at all.

A heartbeat is best effort: Redis being down is already reported by /healthz, and the periodic
job must not fail because its heartbeat could not be written.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

from apps.core.redis import get_redis, redis_key, reply_text

logger = logging.getLogger(__name__)

# name -> what stops when it goes stale
HEARTBEATS = {
    "beat": "Celery beat (every periodic task)",
    "drain": "usage draining into the database",
    "archive_sweep": "reconciliation of the archive outbox",
    "spool_replay": "replay of the durable spool",
}


def heartbeat_key() -> str:
    return redis_key("heartbeat")


def beat(name: str) -> None:
    """Record that `name` ran just now."""
    try:
        get_redis().hset(heartbeat_key(), name, f"{time.time():.3f}")
    except RedisError as exc:
        logger.warning("heartbeat %s not written: %s", name, exc)


def ages() -> dict[str, float | None]:
    """Seconds since each heartbeat (None: never written). Raises RedisError."""
    stored = get_redis().hgetall(heartbeat_key())
    now = time.time()
    values = {reply_text(k): float(v) for k, v in stored.items()}
    return {name: (max(0.0, now - values[name]) if name in values else None) for name in HEARTBEATS}
