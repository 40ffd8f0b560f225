"""Counters of camera events and webhook deliveries, shared by every process through Redis.

Kept in one Redis hash (HINCRBY), so the numbers are the deployment's, not one gunicorn
worker's; ``collector`` exposes them on the portal's /metrics as Prometheus counters.
"""

from __future__ import annotations

import logging

from prometheus_client.core import CounterMetricFamily
from redis.exceptions import RedisError

from apps.core.redis import get_redis, redis_key, reply_text

logger = logging.getLogger(__name__)

EVENT_COUNTERS = ("events_opened", "events_closed")
DELIVERY_OUTCOMES = ("succeeded", "retry", "failed")
HEALTH_CHANGES = ("offline", "online", "tampered", "recovered")  # apps/alerts/health.py


def _key() -> str:
    return redis_key("camevents", "counters")


def count(name: str, amount: int = 1) -> None:
    try:
        get_redis().hincrby(_key(), name, amount)
    except RedisError as exc:  # a counter must never fail the work it counts
        logger.warning("counter %s not counted: %s", name, exc)


def counters() -> dict[str, int]:
    raw = get_redis().hgetall(_key())
    return {reply_text(k): int(v) for k, v in raw.items()}


class CameraEventsCollector:
    """Prometheus collector: ipcai_camera_events_total{change}, ipcai_webhook_deliveries_total
    {outcome} (an attempt's outcome: succeeded, retry, failed = gave up),
    ipcai_camera_health_changes_total{change}."""

    def collect(self):
        values = counters()
        events = CounterMetricFamily(
            "ipcai_camera_events", "Camera events opened and closed", labels=["change"]
        )
        for name in EVENT_COUNTERS:
            events.add_metric([name.removeprefix("events_")], values.get(name, 0))
        yield events
        deliveries = CounterMetricFamily(
            "ipcai_webhook_deliveries",
            "Webhook delivery attempts by outcome (retry: failed, will retry; failed: gave up)",
            labels=["outcome"],
        )
        for outcome in DELIVERY_OUTCOMES:
            deliveries.add_metric([outcome], values.get(f"deliveries_{outcome}", 0))
        yield deliveries
        health = CounterMetricFamily(
            "ipcai_camera_health_changes",
            "Camera health changes (camera.health webhooks) by change",
            labels=["change"],
        )
        for change in HEALTH_CHANGES:
            health.add_metric([change], values.get(f"health_{change}", 0))
        yield health
