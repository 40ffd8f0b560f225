"""Dropping cached snapshots (keys, cameras) even while Redis is down.

A change saved to the database (a key revoked, a camera edited) drops the Redis snapshots that
describe it, so the next request reads the database. During a Redis outage that drop cannot
happen, and the stale snapshot would be served again when Redis returns (for up to its TTL:
a revoked key working for minutes). So a drop that Redis refuses goes to this host's durable
spool (apps/core/spool.py). Every portal process on the host applies the spooled drops as soon
as Redis answers, before its breaker lets a request read Redis again (`before_close`), so no
request on this host reads the stale snapshot; the spool's replay does it for any process that
never saw the outage.
"""

from __future__ import annotations

import logging
import uuid

import orjson
import redis
from redis.exceptions import RedisError

from apps.core.redis import get_redis, probe_client, redis_breaker
from apps.core.spool import get_spool, kind_of
from apps.core.spool_replay import spool_for_replay

logger = logging.getLogger(__name__)

FORGET = "forget"  # the spool kind; settings.IPCAI_SPOOL_REPLAY names `replay` for it


def forget(delete: list[str], bump: list[str] | None = None, bump_ttl_s: int = 0) -> None:
    """DELETE the `delete` keys and INCR (with `bump_ttl_s` expiry) the `bump` keys in one
    transaction, or spool the same for replay when Redis refuses."""
    message = {"delete": list(delete), "bump": list(bump or ()), "bump_ttl_s": bump_ttl_s}
    try:
        _apply(message)
    except RedisError as exc:
        if spool_for_replay(FORGET, uuid.uuid4().hex, orjson.dumps(message)):
            logger.warning(
                "cache drop of %d keys spooled until Redis answers: %s", len(delete), exc
            )
        else:
            logger.error("cache drop of %s lost: Redis and the spool refused it", delete)


def replay(payload: bytes) -> None:
    """The spool's replay of one drop; raises while Redis is still down (the file stays)."""
    _apply(orjson.loads(payload))


def apply_spooled_drops(client: redis.Redis) -> None:
    """Apply and remove every drop in this host's spool with `client` (Redis just answered).
    Without the spool's lock: a drop applied twice (by the replay too) changes nothing more."""
    for path in get_spool().pending():
        if kind_of(path) != FORGET:
            continue
        try:
            payload = path.read_bytes()
        except FileNotFoundError:
            continue  # another process applied it
        _apply(orjson.loads(payload), client)
        path.unlink(missing_ok=True)


redis_breaker().before_close(lambda: apply_spooled_drops(probe_client()))


def _apply(message: dict, client: redis.Redis | None = None) -> None:
    if not message["delete"] and not message["bump"]:
        return
    pipe = (client or get_redis()).pipeline(transaction=True)
    for key in message["bump"]:
        pipe.incr(key)
        pipe.expire(key, message["bump_ttl_s"])
    if message["delete"]:
        pipe.delete(*message["delete"])
    pipe.execute()
