"""Per-key and per-tenant rate limits and the tenant's monthly quota, counted atomically in Redis.

One Lua script per request: it counts the key's fixed rate window, then the tenant's (all its
keys together: a tenant with 100 keys does not get 100 times the rate), and, only when both
pass, the tenant's month, so a rate-limited request never uses up quota. Counting in Redis keeps
every gunicorn process and host in agreement without touching the database.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from redis.commands.core import Script
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.core.errors import ApiError
from apps.core.grants import KeyGrant
from apps.core.redis import get_redis, redis_key

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


@cache
def _script() -> Script:
    return get_redis().register_script(_COUNT)


def month_key(tenant_id: int, now: datetime) -> str:
    return redis_key("quota", tenant_id, now.strftime("%Y%m"))


def requests_this_month(tenant_id: int) -> int:
    """Requests counted against the tenant's quota so far this (UTC) month."""
    return int(get_redis().get(month_key(tenant_id, datetime.now(UTC))) or 0)


def count_request(grant: KeyGrant, rate_subject: str | None = None) -> None:
    """Count one request; raise 429 (with Retry-After) over the rate limit or monthly quota.

    The rate limit applies to the API key, or to `rate_subject` when the caller has no key
    (the dashboard's Try it passes the signed-in user)."""
    now = time.time()
    window = settings.IPCAI_RATE_LIMIT_WINDOW_S
    window_start = int(now // window) * window
    utc_now = datetime.fromtimestamp(now, tz=UTC)
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
    if verdict in (RATE_LIMITED, TENANT_RATE_LIMITED):
        retry_after = max(1, int(window_start + window - now + 0.999))
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


def _seconds_to_next_month(now: datetime) -> int:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    start = datetime(year, month, 1, tzinfo=UTC)
    return max(1, int((start - now).total_seconds()))


class KeyRateAndQuota(BaseThrottle):
    """Per-key rate limit and per-tenant monthly quota (429 + Retry-After), counted in Redis."""

    def allow_request(self, request: Request, view) -> bool:
        count_request(request.auth)
        return True
