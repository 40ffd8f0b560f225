"""The one error type the worker raises for anything a client did or must retry.

Each carries its HTTP status and a stable machine-readable code; the server turns it into
`{"error": {"code", "message"}}` so no client ever sees a stack trace.
"""

from __future__ import annotations


class WorkerError(Exception):
    """A client-visible failure with an HTTP status, a stable code and a readable message."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def to_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(code: str, message: str) -> WorkerError:
    return WorkerError(400, code, message)


def too_large(code: str, message: str) -> WorkerError:
    return WorkerError(413, code, message)


def overloaded(message: str, retry_after_s: int = 1) -> WorkerError:
    return WorkerError(503, "overloaded", message, {"Retry-After": str(retry_after_s)})
