"""Redoc's standalone bundle for `/api/docs/`, as drf-spectacular-sidecar ships it except for its
one reference to another site: the "API docs by Redocly" logo, which the bundle loads from
cdn.redoc.ly (the Content Security Policy blocks it, and the console shows the refusal). Here
it is an empty inline SVG, so the docs page loads nothing from outside."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import drf_spectacular_sidecar
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

BUNDLE = Path(drf_spectacular_sidecar.__file__).parent / (
    "static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
)
OUTSIDE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
INLINE_LOGO = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
)


@cache
def redoc_bundle() -> bytes:
    return BUNDLE.read_text(encoding="utf-8").replace(OUTSIDE_LOGO, INLINE_LOGO).encode()


@require_GET
def redoc_standalone(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(redoc_bundle(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
