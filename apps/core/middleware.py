"""Request guards every route shares, run before any view or parser sees the request.

- RequestBodyLimitMiddleware: bodies over IPCAI_MAX_REQUEST_BODY_BYTES get 413 before a byte is
  read (Content-Length), or as soon as the limit is passed (chunked). Django itself only bounds
  what it keeps in memory: a multi-GB multipart body to any other route was streamed to a
  temporary file before the view could answer 401.
- AdminNetworkMiddleware: /admin/ only from IPCAI_ADMIN_ALLOWED_NETWORKS, when set (others get
  the same 404 as any unknown page).
- ContentSecurityPolicyMiddleware: a Content-Security-Policy header on every response that has
  none, so an injected <script> or on*= handler does not run in the dashboard.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.client_ip import client_ip, in_networks, networks
from apps.core.errors import error_body

GetResponse = Callable[[HttpRequest], HttpResponse]
CHUNK_BYTES = 64 * 1024


def _own_limit(path: str) -> int | None:
    """The body bound of a route that has its own (IPCAI_LARGE_BODY_ROUTES: regex -> bytes)."""
    for pattern, limit in settings.IPCAI_LARGE_BODY_ROUTES.items():
        if re.fullmatch(pattern, path):
            return int(limit)
    return None


def _too_large(limit: int, length: int | None = None) -> JsonResponse:
    size = f"{length} bytes" if length is not None else f"over {limit} bytes"
    # The unread rest is never read by Django; gunicorn drains a bounded amount of it to reuse
    # the connection and otherwise closes it.
    return JsonResponse(
        error_body("payload_too_large", f"The request body is {size}; the limit is {limit} bytes."),
        status=413,
    )


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A route with its own bound (a video upload) reads its body as a stream, a chunked one
        # too (bounded as it arrives: apps/alerts/video_jobs/uploads.py), so it is never
        # buffered here.
        own_limit = _own_limit(request.path_info)
        limit = own_limit or settings.IPCAI_MAX_REQUEST_BODY_BYTES
        meta = request.META
        if meta.get("CONTENT_LENGTH"):
            try:
                length = int(meta["CONTENT_LENGTH"])
            except ValueError:
                return JsonResponse(
                    error_body("invalid_content_length", "Content-Length is not a number."),
                    status=400,
                )
            if length > limit:
                return _too_large(limit, length)
        elif own_limit is None and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = self._read_chunked(request, limit)
            if body is None:
                return _too_large(limit)
            # Django reads a body only as far as Content-Length says (none: nothing), so the
            # bounded body is handed on as an ordinary one.
            meta["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(  # type: ignore[assignment]  # as WSGIRequest does
                io.BytesIO(body), len(body)
            )
        return self.get_response(request)

    @staticmethod
    def _read_chunked(request: HttpRequest, limit: int) -> bytes | None:
        """The de-chunked body (the server decodes chunks), or None once it passes `limit`."""
        stream = request.META["wsgi.input"]  # META is the WSGI environ
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            part = stream.read(min(CHUNK_BYTES, limit + 1 - size))
            if not part:
                return b"".join(parts)
            parts.append(part)
            size += len(part)
        return None


class AdminNetworkMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        allowed = networks(tuple(settings.IPCAI_ADMIN_ALLOWED_NETWORKS))
        if (
            allowed
            and request.path_info.startswith(settings.IPCAI_ADMIN_PATH)
            and not in_networks(client_ip(request.META), allowed)
        ):
            return HttpResponse("Not Found", status=404, content_type="text/plain")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_for(request.path_info)
        return response


def policy_for(path: str) -> str:
    """The longest matching path prefix's policy from IPCAI_CSP_PATH_POLICIES, else the default."""
    overrides = settings.IPCAI_CSP_PATH_POLICIES
    matches = [prefix for prefix in overrides if path.startswith(prefix)]
    return overrides[max(matches, key=len)] if matches else settings.IPCAI_CONTENT_SECURITY_POLICY
