"""Per-key and per-tenant rate limits and the tenant's monthly quota, counted atomically in Redis.

One Lua script per request: it counts the key's fixed rate window, then the tenant's (all its
keys together: a tenant with 100 keys does not get 100 times the rate), and, only when both
pass, the tenant's month, so a rate-limited request never uses up quota. Counting in Redis keeps
every gunicorn process and host in agreement without touching the database.

While Redis is down (apps/core/breaker.py) the same checks run on this process's own counters
(apps/core/local_counters.py): approximate, as each process counts alone and from zero, so N
processes let up to N times the rate through. The month starts from the database's count of
the tenant's calls (read at most once a minute) plus what this process counted; those counts
are added to Redis's month when it is back, so the quota misses none of the outage's requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.db import DatabaseError
from django.utils.module_loading import import_string
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.core.auth import key_grant
from apps.core.errors import ApiError
from apps.core.grants import KeyGrant
from apps.core.local_counters import WindowCounters
from apps.core.redis import get_redis, redis_breaker, redis_key

logger = logging.getLogger(__name__)

# KEYS: key window, month, tenant window. ARGV: key limit, window, quota, month TTL,
# tenant limit. A request refused by the tenant bucket is taken back out of it, so a tenant
# at its limit is not kept there by its own refused requests.
_COUNT = """
local rate = redis.call('INCR', KEYS[1])
if rate == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if rate > tonumber(ARGV[1]) then return {1, rate} end
local tenant_rate = redis.call('INCR', KEYS[3])
if tenant_rate == 1 then redis.call('EXPIRE', KEYS[3], ARGV[2]) end
if tenant_rate > tonumber(ARGV[5]) then
  redis.call('DECR', KEYS[3])
  return {3, tenant_rate - 1}
end
local used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
local quota = tonumber(ARGV[3])
if quota > 0 and used > quota then
  redis.call('DECR', KEYS[2])
  return {2, used - 1}
end
return {0, used}
"""
RATE_LIMITED, QUOTA_EXCEEDED, TENANT_RATE_LIMITED = 1, 2, 3
MONTH_KEY_TTL_S = 40 * 86400  # outlives the month it counts
# While Redis is down, how long the database's count of a tenant's month is reused: one query
# per tenant a minute, and a quota overshoot of at most what the tenant sends in that minute.
DB_MONTH_REFRESH_S = 60.0


@cache
def _script() -> Script:
    return get_redis().register_script(_COUNT)


def month_key(tenant_id: int, now: datetime) -> str:
    return redis_key("quota", tenant_id, now.strftime("%Y%m"))


def requests_this_month(tenant_id: int) -> int:
    """Requests counted against the tenant's quota so far this (UTC) month (while Redis is
    down: the database's count plus this process's, as the quota then counts)."""
    now = datetime.now(UTC)
    try:
        return int(get_redis().get(month_key(tenant_id, now)) or 0)
    except RedisError:
        month = now.strftime("%Y%m")
        with _local_lock:
            counted = _local_month[(tenant_id, month)]
        return _stored_calls(tenant_id, month) + counted


def count_request(grant: KeyGrant, rate_subject: str | None = None) -> None:
    """Count one request; raise 429 (with Retry-After) over the rate limit or monthly quota.

    The rate limit applies to the API key, or to `rate_subject` when the caller has no key
    (the dashboard's Try it passes the signed-in user)."""
    now = time.time()
    window = settings.IPCAI_RATE_LIMIT_WINDOW_S
    window_start = int(now // window) * window
    utc_now = datetime.fromtimestamp(now, tz=UTC)
    try:
        verdict, _count = _script()(
            keys=[
                redis_key("rate", rate_subject or grant.key_id, window_start),
                month_key(grant.tenant_id, utc_now),
                redis_key("tenant-rate", grant.tenant_id, window_start),
            ],
            args=[
                settings.IPCAI_RATE_LIMIT_REQUESTS,
                window,
                grant.monthly_request_quota or 0,
                MONTH_KEY_TTL_S,
                settings.IPCAI_TENANT_RATE_LIMIT_REQUESTS,
            ],
            client=get_redis(),
        )
        retry_after = max(1, int(window_start + window - now + 0.999))
    except RedisError:
        verdict, retry_after = _count_locally(grant, rate_subject, utc_now)
    if verdict in (RATE_LIMITED, TENANT_RATE_LIMITED):
        if verdict == RATE_LIMITED:
            code, limit, whose = "rate_limited", settings.IPCAI_RATE_LIMIT_REQUESTS, "this API key"
        else:
            code, limit = "tenant_rate_limited", settings.IPCAI_TENANT_RATE_LIMIT_REQUESTS
            whose = f"tenant {grant.tenant_slug!r} (all its keys together)"
        raise ApiError(
            429,
            code,
            f"Over the rate limit of {limit} requests per {window} s for {whose}; retry in "
            f"{retry_after} s.",
            {"Retry-After": str(retry_after)},
        )
    if verdict == QUOTA_EXCEEDED:
        retry_after = _seconds_to_next_month(utc_now)
        raise ApiError(
            429,
            "quota_exceeded",
            f"The monthly quota of {grant.monthly_request_quota} requests for tenant "
            f"{grant.tenant_slug!r} is used up; it resets at the start of next month (UTC).",
            {"Retry-After": str(retry_after)},
        )


_local_rates = WindowCounters()
_local_month: Counter[tuple[int, str]] = Counter()  # (tenant, YYYYMM) -> counted without Redis
_db_month: dict[int, tuple[str, int, float]] = {}  # tenant -> (YYYYMM, calls, read at)
_local_lock = threading.Lock()


def _count_locally(grant: KeyGrant, rate_subject: str | None, now: datetime) -> tuple[int, int]:
    """The script's verdict from this process's counters; (verdict, retry after for a rate)."""
    redis_breaker().record_fallback("rate_limit")
    window = settings.IPCAI_RATE_LIMIT_WINDOW_S
    rate, ends_in = _local_rates.add(f"rate:{rate_subject or grant.key_id}", window)
    retry_after = max(1, int(ends_in + 0.999))
    if rate > settings.IPCAI_RATE_LIMIT_REQUESTS:
        return RATE_LIMITED, retry_after
    tenant_subject = f"tenant-rate:{grant.tenant_id}"
    tenant_rate, ends_in = _local_rates.add(tenant_subject, window)
    if tenant_rate > settings.IPCAI_TENANT_RATE_LIMIT_REQUESTS:
        _local_rates.add(tenant_subject, window, -1)
        return TENANT_RATE_LIMITED, max(1, int(ends_in + 0.999))
    month = now.strftime("%Y%m")
    quota = grant.monthly_request_quota
    stored = _stored_calls(grant.tenant_id, month) if quota else 0
    with _local_lock:
        if quota and stored + _local_month[(grant.tenant_id, month)] >= quota:
            return QUOTA_EXCEEDED, retry_after
        _local_month[(grant.tenant_id, month)] += 1
    return 0, retry_after


@cache
def _month_calls() -> Callable[[int, datetime], int]:
    """settings.IPCAI_MONTH_CALLS_COUNTER: `count(tenant_id, month_start) -> calls stored`
    (the usage app's; named by a setting, as this floor may not import it)."""
    return import_string(settings.IPCAI_MONTH_CALLS_COUNTER)


def _stored_calls(tenant_id: int, month: str) -> int:
    cached = _db_month.get(tenant_id)
    if cached and cached[0] == month and time.monotonic() - cached[2] < DB_MONTH_REFRESH_S:
        return cached[1]
    start = datetime.strptime(month, "%Y%m").replace(tzinfo=UTC)
    try:
        calls = _month_calls()(tenant_id, start)
    except DatabaseError as exc:  # no Redis and no database: the quota waits for one of them
        logger.warning("month's calls of tenant %s unknown: %s", tenant_id, exc)
        calls = cached[1] if cached and cached[0] == month else 0
    _db_month[tenant_id] = (month, calls, time.monotonic())
    return calls


def _hand_over_month_counts() -> None:
    """Add what this process counted without Redis to Redis's months (the breaker's hook)."""
    with _local_lock:
        counted = dict(_local_month)
        _local_month.clear()
    _local_rates.pop_all()  # Redis's own windows take over
    _db_month.clear()  # read afresh in the next outage
    if not counted:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for (tenant_id, month), count in counted.items():
            key = redis_key("quota", tenant_id, month)
            pipe.incrby(key, count)
            pipe.expire(key, MONTH_KEY_TTL_S)
        pipe.execute()
    except RedisError:
        with _local_lock:
            _local_month.update(counted)
        raise


redis_breaker().on_close(_hand_over_month_counts)


def _seconds_to_next_month(now: datetime) -> int:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    start = datetime(year, month, 1, tzinfo=UTC)
    return max(1, int((start - now).total_seconds()))


class KeyRateAndQuota(BaseThrottle):
    """Per-key rate limit and per-tenant monthly quota (429 + Retry-After), counted in Redis."""

    def allow_request(self, request: Request, view) -> bool:
        count_request(key_grant(request))  # throttles run after the permissions
        return True
