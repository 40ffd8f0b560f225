"""The portal's one Redis connection pool, behind a circuit breaker, and the key prefix every
portal key uses.

Every connection the pool hands out asks the breaker (apps/core/breaker.py) first: while Redis
is known down a command raises RedisUnavailable at once instead of waiting. Any connection
error or timeout trips it. Commands are tried twice at most, without backoff (redis-py 8's
default is ten tries with backoff up to 1 s: seconds per command while Redis is down), and
wait at most IPCAI_REDIS_TIMEOUT_S for an answer: the portal's commands are all short, none
blocks.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import overload
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.signals import setting_changed
from redis.backoff import NoBackoff
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from apps.core.breaker import Breaker

logger = logging.getLogger(__name__)


class _Guarded:
    """Consults the breaker before using a socket, trips it when Redis does not answer."""

    def connect_check_health(self, *args, **kwargs):  # every checkout and every reconnect
        redis_breaker().check()
        try:
            return super().connect_check_health(*args, **kwargs)  # type: ignore[misc]  # a mixin
        except (RedisConnectionError, RedisTimeoutError) as exc:
            redis_breaker().trip(exc)
            raise

    def send_packed_command(self, *args, **kwargs):
        try:
            return super().send_packed_command(*args, **kwargs)  # type: ignore[misc]  # a mixin
        except (RedisConnectionError, RedisTimeoutError) as exc:
            redis_breaker().trip(exc)
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]  # a mixin
        except (RedisConnectionError, RedisTimeoutError) as exc:
            redis_breaker().trip(exc)
            raise


class GuardedConnection(_Guarded, Connection):
    pass


class GuardedSSLConnection(_Guarded, SSLConnection):
    pass


class GuardedUnixConnection(_Guarded, UnixDomainSocketConnection):
    pass


_GUARDED = {"rediss": GuardedSSLConnection, "unix": GuardedUnixConnection}


@cache
def get_redis() -> redis.Redis:
    """A client sharing one connection pool per process (thread-safe in redis-py)."""
    timeout = settings.IPCAI_REDIS_TIMEOUT_S
    pool = redis.ConnectionPool.from_url(
        settings.REDIS_URL,
        connection_class=_GUARDED.get(urlsplit(settings.REDIS_URL).scheme, GuardedConnection),
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        # Once more at once: a pooled connection the server closed (idle, failover) reconnects.
        retry=Retry(NoBackoff(), 1),
    )
    return redis.Redis(connection_pool=pool)


@cache
def probe_client() -> redis.Redis:
    """A client outside the breaker, with short timeouts: for probing, and for catching up
    (`Breaker.before_close` hooks) before the breaker lets requests use Redis again."""
    timeout = settings.IPCAI_REDIS_PROBE_TIMEOUT_S
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _redis_answers() -> bool:
    try:
        return bool(probe_client().ping())
    except RedisError:  # refused, timed out, or still loading its data (BusyLoadingError)
        probe_client().connection_pool.disconnect()
        return False


@cache
def redis_breaker() -> Breaker:
    """This process's breaker for the portal's Redis."""
    breaker = Breaker(_redis_answers, lambda: settings.IPCAI_REDIS_PROBE_INTERVAL_S)
    breaker.on_close(_hand_over_fallbacks)
    return breaker


def redis_available() -> bool:
    """False while the breaker is open (Redis failed and has not answered a probe since)."""
    return not redis_breaker().is_open


def redis_key(*parts: object) -> str:
    """`<IPCAI_REDIS_PREFIX>part1:part2...`: one naming scheme for every portal key."""
    return settings.IPCAI_REDIS_PREFIX + ":".join(str(p) for p in parts)


def fallbacks_key() -> str:
    return redis_key("redis", "fallbacks")


def _hand_over_fallbacks() -> None:
    """Add this process's counts of what it served without Redis to the shared totals, so
    /metrics (any process) reports every process's outage once Redis is back."""
    counts = redis_breaker().take_fallbacks()
    if not counts:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for part, count in counts.items():
            pipe.hincrby(fallbacks_key(), part, count)
        pipe.execute()
    except RedisError:
        redis_breaker().give_back_fallbacks(counts)
        raise


_last_shared_fallbacks: dict[str, int] = {}


def fallback_totals() -> dict[str, int]:
    """What every process served without Redis (handed over after each outage) plus what this
    one has not handed over yet. While Redis is down: the last shared totals seen."""
    global _last_shared_fallbacks
    if redis_available():
        try:
            shared = get_redis().hgetall(fallbacks_key())
            _last_shared_fallbacks = {
                (k.decode() if isinstance(k, bytes) else k): int(v) for k, v in shared.items()
            }
        except RedisError:
            pass
    totals = dict(_last_shared_fallbacks)
    for part, count in redis_breaker().fallbacks().items():
        totals[part] = totals.get(part, 0) + count
    return totals


# redis-py types each reply `bytes | str`, as it cannot tell decode_responses from the client's
# type; the portal's clients leave it off and get bytes. These read a reply as what it is.


def reply_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@overload
def reply_bytes(value: bytes | str) -> bytes: ...
@overload
def reply_bytes(value: bytes | str | None) -> bytes | None: ...
def reply_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _reset(setting: str, **_: object) -> None:
    if setting in ("REDIS_URL", "IPCAI_REDIS_TIMEOUT_S", "IPCAI_REDIS_PROBE_TIMEOUT_S"):
        get_redis.cache_clear()
        probe_client.cache_clear()
    if setting == "REDIS_URL":
        redis_breaker().forget()


setting_changed.connect(_reset)
