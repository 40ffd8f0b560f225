"""Prometheus figures of Redis outages: is Redis in use, and what was served without it.

Readable while Redis is down (that is when they matter): the breaker's state is this
process's, the counts are every process's handed-over totals plus this one's own
(apps/core/redis.py `fallback_totals`).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from apps.core.redis import fallback_totals, redis_breaker

# What `record_fallback` counts: requests (API requests whose key was checked without Redis),
# and each part that fell back.
FALLBACK_PARTS = ("requests", "api_key", "rate_limit", "failure_limit", "camera")


class RedisCollector:
    def collect(self) -> Iterator[Metric]:
        breaker = redis_breaker()
        yield GaugeMetricFamily(
            "ipcai_redis_available",
            "1 while this process uses Redis, 0 while its circuit breaker is open (degraded: "
            "keys from the database, limits per process, camera events paused)",
            value=0 if breaker.is_open else 1,
        )
        yield GaugeMetricFamily(
            "ipcai_redis_unavailable_seconds",
            "Seconds since this process's breaker opened (0 while Redis is in use)",
            value=breaker.open_for_s(),
        )
        totals = fallback_totals()
        fallbacks = CounterMetricFamily(
            "ipcai_redis_fallbacks",
            "What was served without Redis, by part (requests: API requests whose key was "
            "checked against the database)",
            labels=["part"],
        )
        for part in sorted(set(FALLBACK_PARTS) | set(totals)):
            fallbacks.add_metric([part], totals.get(part, 0))
        yield fallbacks
