"""One error shape for the whole API: `{"error": {"code": "...", "message": "..."}}`.

Every failure a client can cause, or must retry, becomes an ApiError with its status, so no
client ever sees a stack trace or an HTML error page.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from redis.exceptions import RedisError
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _as_api_error(exc: Exception) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RedisError):
        logger.error("Redis unavailable: %s", exc)
        return ApiError(
            503,
            "service_unavailable",
            "The service is briefly unavailable; retry shortly.",
            {"Retry-After": "5"},
        )
    if isinstance(exc, RequestDataTooBig):
        return ApiError(413, "payload_too_large", "The request body is too large.")
    if isinstance(exc, exceptions.NotAuthenticated):
        return ApiError(401, "missing_api_key", "Send your API key in the x-api-key header.")
    if isinstance(exc, exceptions.AuthenticationFailed):
        return ApiError(401, _code(exc, "invalid_api_key"), _message(exc))
    if isinstance(exc, exceptions.Throttled):
        wait = exc.wait  # type: ignore[attr-defined]  # Throttled.__init__ sets it; stubs omit it
        return ApiError(
            429,
            _code(exc, "rate_limited"),
            _message(exc),
            {"Retry-After": str(max(1, int(wait or 1)))},
        )
    if isinstance(exc, exceptions.PermissionDenied):
        return ApiError(403, _code(exc, "forbidden"), _message(exc))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ApiError(415, "unsupported_media_type", _message(exc))
    if isinstance(exc, exceptions.ParseError):
        return ApiError(400, "invalid_body", _message(exc))
    if isinstance(exc, exceptions.APIException):
        return ApiError(exc.status_code, _code(exc, "error"), _message(exc))
    return None


def json_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: known errors as JSON; anything else is a bug (logged, 500)."""
    error = _as_api_error(exc)
    if error is None:
        logger.exception("unhandled error in %s", context.get("view"))
        error = ApiError(500, "internal_error", "Internal error; it has been logged.")
    response = Response(error_body(error.code, error.message), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def _code(exc: exceptions.APIException, default: str) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) and codes not in {"error", "invalid"} else default


def _message(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, list | dict):
        return str(detail)
    return str(detail)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_body("not_found", "No such endpoint."), status=status.HTTP_404_NOT_FOUND
    )


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("internal_error", "Internal error; it has been logged."), status=500
    )


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)
