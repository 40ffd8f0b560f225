"""JSON out, whatever the client asks for: the detection routes' renderer and negotiation.

Camera software sends whatever Accept header its HTTP library defaults to, and every answer of
these routes is JSON anyway, so asking DRF to negotiate only costs a parse of the header (or a
406 for an odd one). orjson renders the answer in a fraction of the standard library's time.
Together they took about 0.2 ms off the portal's CPU per request (docs/BENCHMARKS.md,
"Portal tail latency").
"""

from __future__ import annotations

from decimal import Decimal

import orjson
from django.utils.functional import Promise
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer


def _default(value: object) -> object:
    """What orjson does not know: lazy translations (DRF's own error messages), decimals."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259); no charset parameter

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else orjson.dumps(data, default=_default)


class AlwaysJson(DefaultContentNegotiation):
    """Parsers chosen as usual (by Content-Type); the view's first renderer, without reading
    Accept: the answer is JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
