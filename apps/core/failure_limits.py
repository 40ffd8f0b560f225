"""Limits on repeated failures (bad API keys, wrong passwords), counted per subject in Redis.

Each failure counts against its subject (a client IP, a username) in a window that starts at
the first failure; once a subject reaches the limit it is refused (429 for the API, a message
on the sign-in page) until the window ends. One Lua script per check keeps it one round trip
and atomic across gunicorn processes, like the key limits (apps/tenants/limits.py).

Why each limit exists:
- API keys per client IP: without it every made-up key costs a cache miss and a database
  lookup, and a guesser tries as fast as the portal answers.
- Sign-in per username and per IP, password reset per address and per IP: password guessing,
  and reset e-mails sent to someone a thousand times.

While Redis is down (apps/core/breaker.py) the same limits are counted in this process
(apps/core/local_counters.py): approximate (each process counts alone, from zero), but a
guesser is still slowed down and no check waits for Redis.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from functools import cache

from redis.commands.core import Script
from redis.exceptions import RedisError

from apps.core.local_counters import WindowCounters
from apps.core.redis import get_redis, redis_breaker, redis_key

# KEYS[1] the subject's counter; ARGV[1] limit, ARGV[2] window (s), ARGV[3] 1 to count a
# failure first. Returns the seconds until the subject may try again, or -1 when it may now.
_CHECK = """
local failures
if ARGV[3] == '1' then
  failures = redis.call('INCR', KEYS[1])
  if failures == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
else
  failures = tonumber(redis.call('GET', KEYS[1]) or '0')
end
if failures < tonumber(ARGV[1]) then return -1 end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return ttl
"""


@cache
def _script() -> Script:
    return get_redis().register_script(_CHECK)


_local = WindowCounters()  # the failures counted while Redis is down


@dataclass(frozen=True)
class FailureLimit:
    """At most `limit` failures per subject within `window_s` seconds of the first one."""

    name: str
    limit: int
    window_s: int

    def key(self, subject: str) -> str:
        return redis_key("failures", self.name, subject)

    def _run(self, subject: str, count: bool) -> int | None:
        try:
            seconds = _script()(
                keys=[self.key(subject)],
                args=[self.limit, self.window_s, 1 if count else 0],
                client=get_redis(),
            )
        except RedisError:
            return self._run_locally(subject, count)
        return None if seconds < 0 else max(1, int(seconds))

    def _run_locally(self, subject: str, count: bool) -> int | None:
        redis_breaker().record_fallback("failure_limit")
        key = self.key(subject)
        failures, ends_in = _local.add(key, self.window_s) if count else _local.get(key)
        return None if failures < self.limit else max(1, int(ends_in + 0.999))

    def blocked_for(self, subject: str) -> int | None:
        """Seconds until `subject` may try again, or None when it is under the limit."""
        return self._run(subject, count=False)

    def record_failure(self, subject: str) -> int | None:
        """Count one failure; the seconds `subject` is now blocked for, or None."""
        return self._run(subject, count=True)

    def clear(self, subject: str) -> None:
        _local.clear(self.key(subject))
        with suppress(RedisError):  # down: the Redis counter expires with its window
            get_redis().delete(self.key(subject))


def wait_text(seconds: int) -> str:
    """'45 seconds' / '12 minutes': how long a refused client should wait, for people."""
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"
