"""Fixed-window counters held in this process: the stand-in for Redis's while it is down.

Used by the rate limits, the monthly quota and the failure limits when Redis does not answer.
They are approximate by design: each gunicorn process (and host) counts only what it served,
so N processes let up to N times a limit through during an outage, and counts start from zero
(a window Redis had half used is not known). Bounded: past `max_subjects` the expired windows
are dropped, then the oldest ones, so a flood of made-up subjects cannot grow memory.
"""

from __future__ import annotations

import threading
import time


class WindowCounters:
    def __init__(self, max_subjects: int = 100_000) -> None:
        self._max_subjects = max_subjects
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}  # subject -> (count, window end)

    def add(self, subject: str, window_s: float, amount: int = 1) -> tuple[int, float]:
        """Add `amount` to the subject's window (a new one starts after the last ended);
        return (the count now, seconds until the window ends)."""
        now = time.monotonic()
        with self._lock:
            count, ends = self._windows.get(subject, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window_s
                if subject not in self._windows and len(self._windows) >= self._max_subjects:
                    self._make_room(now)
            count += amount
            self._windows[subject] = (count, ends)
            return count, ends - now

    def get(self, subject: str) -> tuple[int, float]:
        """(count, seconds until the window ends), (0, 0) when no window is open."""
        now = time.monotonic()
        with self._lock:
            count, ends = self._windows.get(subject, (0, 0.0))
        return (count, ends - now) if ends > now else (0, 0.0)

    def pop_all(self) -> dict[str, int]:
        """Every open window's count, removed (handed over to Redis when it is back)."""
        now = time.monotonic()
        with self._lock:
            taken = {s: c for s, (c, ends) in self._windows.items() if ends > now and c}
            self._windows.clear()
        return taken

    def clear(self, subject: str) -> None:
        with self._lock:
            self._windows.pop(subject, None)

    def _make_room(self, now: float) -> None:
        for subject in [s for s, (_, ends) in self._windows.items() if ends <= now]:
            del self._windows[subject]
        if len(self._windows) >= self._max_subjects:  # all live: drop the oldest tenth
            oldest = sorted(self._windows, key=lambda s: self._windows[s][1])
            for subject in oldest[: max(1, self._max_subjects // 10)]:
                del self._windows[subject]
