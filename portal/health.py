"""`/healthz`, `/healthz/celery` and `/metrics`, answered before anything checks the Host header.

Load balancers (the ALB in infra/cloudformation/portal.yaml) probe each task at its private IP,
which no DJANGO_ALLOWED_HOSTS list can know in advance; Django would answer those probes 400
and the tasks would never turn healthy. So this middleware, first in the chain, answers the
probes itself; every other request still goes through the host check.

- `/healthz`: this portal process can serve (the database answers). The ALB's check. Redis
  down is `{"status": "degraded", "redis": "degraded"}` with a 200: detection goes on without
  it (keys from the database, limits per process, camera events paused; docs/ARCHIVING.md).
- `/healthz/celery`: the background side is alive (readiness of beat, the usage drain, the
  outbox sweep and the spool replay, by their heartbeats; apps/archive/status.py). 503 with the
  stale names when one is silent, so a dead beat is noticed within one drain interval. Not the
  ALB's check: a dead beat must not take the web tasks out of rotation.
- `/metrics`: the same figures as Prometheus gauges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from redis.exceptions import RedisError

from apps.archive.status import background_status
from apps.core.redis import get_redis, redis_available
from portal.metrics import metrics_text

HEALTH_PATH = "/healthz"
CELERY_HEALTH_PATH = "/healthz/celery"
METRICS_PATH = "/metrics"
log = logging.getLogger(__name__)


def check_dependencies() -> None:
    """Raise unless the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def redis_state() -> str:
    """`ok`, or `degraded` while Redis does not answer: the portal still serves every valid
    key (apps/core/breaker.py), so the load balancer must keep sending it traffic. While the
    breaker is open this costs no Redis call at all."""
    if not redis_available():
        return "degraded"
    try:
        get_redis().ping()
    except RedisError:
        return "degraded"
    return "ok"


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if request.path_info == CELERY_HEALTH_PATH:
            return celery_health()
        if request.path_info == METRICS_PATH:
            return metrics()
        if request.path_info != HEALTH_PATH:
            return self.get_response(request)
        try:
            check_dependencies()
        except Exception as exc:  # any dependency failure means "take me out of rotation"
            log.warning("health check failed: %s", exc)
            return JsonResponse(
                {
                    "error": {
                        "code": "unhealthy",
                        "message": "the database is not answering",
                    }
                },
                status=503,
            )
        redis = redis_state()
        return JsonResponse({"status": redis, "redis": redis})


def _redis_down(exc: Exception) -> JsonResponse:
    log.warning("background status unavailable: %s", exc)
    return JsonResponse(
        {"error": {"code": "unhealthy", "message": "Redis is not answering"}}, status=503
    )


def celery_health() -> JsonResponse:
    try:
        status = background_status()
    except RedisError as exc:
        return _redis_down(exc)
    return JsonResponse(status.as_dict(), status=200 if status.ok else 503)


def metrics() -> HttpResponse:
    try:
        body = metrics_text()
    except RedisError as exc:
        return _redis_down(exc)
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
