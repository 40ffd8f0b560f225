"""A per-client-IP limit on failed API-key authentication, counted in Redis.

Without it, every made-up key costs a cache miss and a database lookup, and a guesser can try
as fast as the portal answers. Each failure (no key, malformed, unknown, revoked, expired, wrong
secret) counts against the client IP (apps/core/client_ip.py) in a window that starts at the first
failure; past `IPCAI_AUTH_FAILURE_LIMIT` the IP gets 429 with Retry-After until the window ends.
A Lua script per check keeps it one round trip and atomic across gunicorn processes, like the
key limits (apps/tenants/limits.py).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from redis.commands.core import Script

from apps.core.redis import get_redis, redis_key

# ARGV[1] limit. Returns the seconds left in the window when the IP is over the limit, else -1.
_BLOCKED = """
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures < tonumber(ARGV[1]) then return -1 end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return ttl
"""
# ARGV[1] limit, ARGV[2] window. Counts one failure; same answer as _BLOCKED after counting.
_RECORD = """
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if failures < tonumber(ARGV[1]) then return -1 end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return ttl
"""


@cache
def _scripts() -> tuple[Script, Script]:
    r = get_redis()
    return r.register_script(_BLOCKED), r.register_script(_RECORD)


def failures_key(ip: str) -> str:
    return redis_key("authfail", ip)


def _run(script: Script, ip: str) -> int | None:
    seconds = script(
        keys=[failures_key(ip)],
        args=[settings.IPCAI_AUTH_FAILURE_LIMIT, settings.IPCAI_AUTH_FAILURE_WINDOW_S],
        client=get_redis(),
    )
    return None if seconds < 0 else max(1, int(seconds))


def blocked_for(ip: str) -> int | None:
    """Seconds until this IP may try again, or None when it is under the limit."""
    return _run(_scripts()[0], ip)


def record_failure(ip: str) -> int | None:
    """Count one failed authentication; the seconds the IP is now blocked for, or None."""
    return _run(_scripts()[1], ip)
