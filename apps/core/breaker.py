"""The circuit breaker in front of Redis: while Redis is known down, no request waits for it.

Without it every Redis call of every request paid a connection timeout (a paused or
unreachable Redis: seconds per call, several calls per request) or redis-py's retries with
backoff (a killed one). With it, the first call that fails (refused, reset, or silent past
IPCAI_REDIS_TIMEOUT_S) opens the breaker; from then on every call raises RedisUnavailable at
once (a RedisError: every existing fallback applies unchanged), and a background thread pings
Redis every IPCAI_REDIS_PROBE_INTERVAL_S with its own short timeout. The first answered ping
closes the breaker, so Redis is used again within one probe interval of its return.

So while Redis is down a request waits for it at most once, and only if it was in flight when
Redis stopped answering: the bound is one IPCAI_REDIS_TIMEOUT_S.

The state is per process (each gunicorn or Celery process finds out for itself, after one
failed call) and survives no fork: a child starts closed. Besides the state it keeps counts of
what was served without Redis (`record_fallback`) for /metrics.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable

from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)


class RedisUnavailable(RedisConnectionError):
    """Redis is known to be down (the breaker is open); nothing was sent."""


class Breaker:
    """Open after one failure, closed by the first successful background probe.

    `probe()` returns True when Redis answers; it must bound its own wait. `on_close` hooks
    run in the probe thread right after closing (a failing hook is logged, never retried)."""

    def __init__(self, probe: Callable[[], bool], probe_interval_s: Callable[[], float]) -> None:
        self._probe = probe
        self._probe_interval_s = probe_interval_s
        self._on_close: list[Callable[[], None]] = []
        self._before_close: list[Callable[[], None]] = []
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._opened_at: float | None = None  # time.monotonic() of the trip; None: closed
        self._prober: threading.Thread | None = None
        self._fallbacks: Counter[str] = Counter()
        self.trips = 0

    def _this_process(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's state and thread are not ours
            self._reset()

    @property
    def is_open(self) -> bool:
        self._this_process()
        return self._opened_at is not None

    def open_for_s(self) -> float:
        """Seconds since the breaker opened (0 while closed)."""
        opened_at = self._opened_at
        return 0.0 if opened_at is None else time.monotonic() - opened_at

    def check(self) -> None:
        """Raise RedisUnavailable while open; called before any connection is used."""
        if self.is_open:
            raise RedisUnavailable("Redis is unavailable (circuit open; probing in background)")

    def trip(self, exc: BaseException) -> None:
        """A call failed for want of Redis: open, and start probing unless already doing so."""
        self._this_process()
        with self._lock:
            if self._opened_at is None:
                self._opened_at = time.monotonic()
                self.trips += 1
                logger.warning("Redis unavailable (%r): serving without it until it answers", exc)
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(
                    target=self._probe_until_closed, name="redis-breaker-probe", daemon=True
                )
                self._prober.start()

    def before_close(self, hook: Callable[[], None]) -> None:
        """Run `hook` once Redis answers, before anything uses it again (it must not use the
        breaker-guarded pool); while a hook raises, the breaker stays open and probing goes on."""
        self._before_close.append(hook)

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run `hook` each time Redis is back (say, to hand over what was counted without it)."""
        self._on_close.append(hook)

    def forget(self) -> None:
        """Closed again without a probe: Redis is another server now (REDIS_URL changed);
        what was counted without Redis goes to the new one (`on_close` hooks)."""
        with self._lock:
            was_open, self._opened_at = self._opened_at is not None, None
        if was_open:
            self._run_on_close()

    def _probe_until_closed(self) -> None:
        while True:
            time.sleep(self._probe_interval_s())
            if self._opened_at is None:
                return  # forgotten meanwhile
            if self._probe() and self._ready_to_close():
                break
        with self._lock:
            down_for = self.open_for_s()
            self._opened_at = None
        logger.warning("Redis answers again after %.1f s: circuit closed", down_for)
        self._run_on_close()

    def _run_on_close(self) -> None:
        for hook in self._on_close:
            try:
                hook()
            except Exception:  # Redis may have gone again: the hook's data waits for next time
                logger.exception("hook after Redis returned failed")

    def _ready_to_close(self) -> bool:
        try:
            for hook in self._before_close:
                hook()
        except Exception:
            logger.exception("Redis answers, but catching up before using it failed")
            return False
        return True

    def record_fallback(self, part: str, count: int = 1) -> None:
        """Count something served without Redis (`part`: api_key, rate_limit, ...)."""
        self._this_process()
        with self._lock:
            self._fallbacks[part] += count

    def fallbacks(self) -> dict[str, int]:
        """This process's fallback counts not yet handed over (`take_fallbacks`)."""
        self._this_process()
        with self._lock:
            return dict(self._fallbacks)

    def take_fallbacks(self) -> dict[str, int]:
        """The counts not yet handed over, now zeroed; `give_back_fallbacks` if that fails."""
        self._this_process()
        with self._lock:
            taken, self._fallbacks = dict(self._fallbacks), Counter()
            return taken

    def give_back_fallbacks(self, counts: dict[str, int]) -> None:
        with self._lock:
            self._fallbacks.update(counts)
