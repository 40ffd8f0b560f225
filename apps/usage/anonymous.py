"""Requests that presented no valid API key, counted per day in Redis instead of stored.

They belong to no tenant, so no report or quota reads them one by one; stored as a usage row
each, a flood of made-up keys would grow the table without bound (and cost the drain a
database write per guess). A per-day hash of counts by endpoint, status and error code keeps
what operators need: how many, where, and why refused.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from redis.exceptions import RedisError

from apps.core.redis import get_redis, redis_key, reply_text

logger = logging.getLogger(__name__)

# Outlives the month it counts, like the quota counters.
ANONYMOUS_TTL_S = 40 * 86400


def anonymous_key(day: date) -> str:
    return redis_key("usage", "anonymous", day.strftime("%Y%m%d"))


def count_anonymous(endpoint: str, status_code: int, error_code: str, timestamp: float) -> None:
    """Count one keyless request (HINCRBY of `endpoint:status:error_code` in the day's hash)."""
    key = anonymous_key(datetime.fromtimestamp(timestamp, tz=UTC).date())
    pipe = get_redis().pipeline(transaction=False)
    pipe.hincrby(key, f"{endpoint}:{status_code}:{error_code or '-'}", 1)
    pipe.expire(key, ANONYMOUS_TTL_S)
    try:
        pipe.execute()
    except RedisError as exc:  # the answer is decided; a lost count is only a lost count
        logger.warning("anonymous request not counted: %s", exc)


def anonymous_failures(day: date | None = None) -> dict[str, int]:
    """`{"endpoint:status:error_code": count}` of one UTC day (default today)."""
    raw = get_redis().hgetall(anonymous_key(day or datetime.now(UTC).date()))
    return {reply_text(field): int(count) for field, count in raw.items()}
