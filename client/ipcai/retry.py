"""When to try a request again and how long to wait first.

Kept free of I/O so the sync and async clients share one policy. The service sends
`Retry-After` with every 429 (rate limit or quota) and may send it with 503 (worker
overloaded); waiting exactly that long instead of hammering is what lets many cameras share a
tenant's rate limit. A quota that resets next month says so with a huge `Retry-After`: we give
up at once rather than block a caller for days.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

# Failures where the request may not have reached the service, or the connection died before
# an answer came back (a keep-alive connection the server had just closed). Read timeouts are
# absent on purpose: a slow worker is best not given the same work twice.
RETRYABLE_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
# Retried even for requests that change state: the request never reached the service.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential backoff and jitter, honouring Retry-After.

    max_retries: extra attempts after the first (0 disables retrying).
    backoff: first wait in seconds when the service gives no Retry-After; doubles each time.
    max_backoff: upper bound of any computed wait.
    max_retry_after: a Retry-After longer than this is not waited for; the error is raised.
    statuses: HTTP statuses that are retried.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def backoff_delay(self, attempt: int) -> float:
        """Wait before retry number `attempt` (0-based): half fixed, half random (equal jitter),
        so cameras that failed together do not come back together."""
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def delay_for_status(
        self, attempt: int, status: int, retry_after: float | None
    ) -> float | None:
        """Seconds to wait before retrying after an error status, or None to give up."""
        if attempt >= self.max_retries or status not in self.statuses:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff_delay(attempt)

    def delay_for_exception(self, attempt: int, exc: Exception, idempotent: bool) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to give up."""
        if attempt >= self.max_retries:
            return None
        retryable = RETRYABLE_TRANSPORT_ERRORS if idempotent else NOT_SENT_ERRORS
        return self.backoff_delay(attempt) if isinstance(exc, retryable) else None
