"""Exceptions raised by the client, one class per kind of failure a caller handles differently.

The service answers every error as `{"error": {"code": ..., "message": ...}}` with a meaningful
status; the class tells a camera agent whether to fix its configuration (401 / 403), drop the
image (400 / 413 / 415) or wait and try again (429 / 5xx / network).
"""

from __future__ import annotations

from typing import Any


class IpcaiError(Exception):
    """Base class of everything this package raises.

    `code` names the kind of failure in JSON output and summaries, as the service's error codes
    do for API errors (an APIError takes its code from the response)."""

    code = "client_error"


class ConfigurationError(IpcaiError):
    """The client cannot be used as configured (no API key, malformed base URL)."""

    code = "configuration_error"


class NetworkError(IpcaiError):
    """The service could not be reached or the connection broke, after all retries."""

    code = "network_error"


class APIError(IpcaiError):
    """The service answered with an error status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.body = body

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed later without any change."""
        return self.status == 429 or self.status >= 500


class BadRequest(APIError):
    """400: the body is not a usable image or a parameter is invalid."""


class AuthenticationError(APIError):
    """401: the API key is missing, unknown, expired or revoked."""


class PermissionDenied(APIError):
    """403: the tenant is inactive or the service is not enabled for it."""


class NotFound(APIError):
    """404: no such service or resource (for example a key id of another tenant)."""


class PayloadTooLarge(APIError):
    """413: the image is larger than the service accepts."""


class UnsupportedMediaType(APIError):
    """415: the image is not JPEG or PNG."""


class RateLimited(APIError):
    """429: over the per-key rate limit or the tenant's monthly quota; see `retry_after`."""


class ServiceUnavailable(APIError):
    """502 / 503 / 504: the inference worker failed or is overloaded."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: RateLimited,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}


def error_for_status(
    status: int, code: str, message: str, *, retry_after: float | None = None, body: Any = None
) -> APIError:
    """The most specific APIError subclass for an HTTP status."""
    cls = _BY_STATUS.get(status, APIError)
    return cls(status, code, message, retry_after=retry_after, body=body)
