"""The API key as a path segment, `/k/<key>/v1/vision/...`, for software that takes a full URL
but no headers or form fields.

A URL travels further than a header: it lands in the client's own logs, proxies' logs and
browser history, which the integrations doc warns about. Our side never writes it down: the
key authenticates from the URL's `path_key`, and every log line that could carry the path
(Django's request log, gunicorn's access and error logs) goes through `ScrubPathKeys`.
"""

from __future__ import annotations

import logging
import re

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from apps.core.auth import ApiKeyAuthentication

PATH_KEY_KWARG = "path_key"
_KEY_SEGMENT = re.compile(r"/k/[^/?#\s]+")
HIDDEN = "/k/[key]"


def scrub_path_keys(text: str) -> str:
    """`text` with the key segment of every `/k/<key>/...` path replaced."""
    return _KEY_SEGMENT.sub(HIDDEN, text)


class ScrubPathKeys(logging.Filter):
    """Rewrites a record's message (and exception text) without path keys; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/k/" in message:
            record.msg, record.args = scrub_path_keys(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and "/k/" in record.exc_text:
            record.exc_text = scrub_path_keys(record.exc_text)
        return True


def install_log_scrubbing(*logger_names: str) -> None:
    """Scrub path keys from these loggers' records (Django's request log by default)."""
    for name in logger_names or ("django.request", "django.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubPathKeys) for f in logger.filters):
            logger.addFilter(ScrubPathKeys())


class PathKeyMixin:
    """Authentication that takes the key from the URL (`/k/<key>/...`) before anywhere else."""

    def presented_key(self, request: Request) -> str | None:
        path_key = (request.parser_context or {}).get("kwargs", {}).get(PATH_KEY_KWARG)
        return path_key or super().presented_key(request)  # type: ignore[misc]


def path_key_variant(view_class: type) -> type:
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
