"""`/healthz`, answered before anything checks the Host header.

Load balancers (the ALB in infra/cloudformation/portal.yaml) probe each task at its private IP,
which no DJANGO_ALLOWED_HOSTS list can know in advance; Django would answer those probes 400
and the tasks would never turn healthy. So this middleware, first in the chain, answers the
probe itself; every other request still goes through the host check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.redis import get_redis

HEALTH_PATH = "/healthz"
log = logging.getLogger(__name__)


def check_dependencies() -> None:
    """Raise unless the database and Redis answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    get_redis().ping()


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        try:
            check_dependencies()
        except Exception as exc:  # any dependency failure means "take me out of rotation"
            log.warning("health check failed: %s", exc)
            return JsonResponse(
                {
                    "error": {
                        "code": "unhealthy",
                        "message": "the database or Redis is not answering",
                    }
                },
                status=503,
            )
        return JsonResponse({"status": "ok"})
