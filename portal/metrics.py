"""The Prometheus exposition at ``/metrics``: every app's collector in one registry.

It lives on the top floor because it reads across apps (the archive's background side, camera
events and webhook deliveries); each app owns its own collector.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from redis.exceptions import RedisError

from apps.alerts.counters import CameraEventsCollector
from apps.archive.status import BackgroundCollector
from apps.core.redis import redis_available
from apps.core.redis_metrics import RedisCollector


def metrics_text() -> bytes:
    """Read Redis and this host's spool now, so every portal process answers the same. While
    Redis is down: the Redis figures alone (apps/core/redis_metrics.py), the ones that matter."""
    if redis_available():
        registry = CollectorRegistry(auto_describe=False)
        registry.register(RedisCollector())
        registry.register(BackgroundCollector())
        registry.register(CameraEventsCollector())  # camera events and webhook deliveries
        try:
            return generate_latest(registry)
        except RedisError:
            pass  # Redis went away while we read it (the breaker is open now)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector())
    return generate_latest(registry)
