"""The API key as a path segment, `/k/<key>/v1/vision/...`, for software that takes a full URL
but no headers or form fields.

A URL travels further than a header: it lands in the client's own logs, proxies' logs and
browser history, which the integrations doc warns about. Our side never writes it down: the
key authenticates from the URL's `path_key`, and every log line that could carry the path
(Django's request log, gunicorn's access and error logs) goes through key_scrubbing.py.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.auth import ApiKeyAuthentication

PATH_KEY_KWARG = "path_key"


class PathKeyMixin:
    """Authentication that takes the key from the URL (`/k/<key>/...`) before anywhere else."""

    def presented_key(self, request: Request) -> str | None:
        path_key = (request.parser_context or {}).get("kwargs", {}).get(PATH_KEY_KWARG)
        return path_key or super().presented_key(request)  # type: ignore[misc]  # a mixin


def path_key_variant(view_class: type[APIView]) -> type[APIView]:
    """`view_class` authenticating from the URL first, then where it always looked; left out
    of the OpenAPI schema, which documents each route once (the key in a URL is the
    integrations doc's business)."""
    base = (view_class.authentication_classes or [ApiKeyAuthentication])[0]
    authentication = type(f"PathKey{base.__name__}", (PathKeyMixin, base), {})
    variant = type(
        f"{view_class.__name__}WithPathKey",
        (view_class,),
        {"authentication_classes": [authentication], "__doc__": view_class.__doc__},
    )
    return extend_schema(exclude=True)(variant)
