"""The portal's one Redis connection pool, and the key prefix every portal key uses."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings
from django.core.signals import setting_changed


@cache
def get_redis() -> redis.Redis:
    """A client sharing one connection pool per process (thread-safe in redis-py)."""
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )


def redis_key(*parts: object) -> str:
    """`<IPCAI_REDIS_PREFIX>part1:part2...`: one naming scheme for every portal key."""
    return settings.IPCAI_REDIS_PREFIX + ":".join(str(p) for p in parts)


def _reset(setting: str, **_: object) -> None:
    if setting == "REDIS_URL":
        get_redis.cache_clear()


setting_changed.connect(_reset)
