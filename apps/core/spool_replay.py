"""Replaying the disk spool: one daemon thread per process publishes what Redis refused once
Redis answers again. Shared by every floor that spools (usage, the archive): each names its
replay function per spool kind in settings.IPCAI_SPOOL_REPLAY, so this module imports none of them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from apps.core.heartbeats import beat
from apps.core.spool import ReplayResult, get_spool

logger = logging.getLogger(__name__)

_after_success: list[Callable[[], None]] = []


def after_successful_replay(callback: Callable[[], None]) -> None:
    """Call `callback` after each replay that reached Redis (a spooling floor's breaker closes)."""
    _after_success.append(callback)


def spool_for_replay(kind: str, name: str, payload: bytes) -> bool:
    """Keep a message Redis refused in this host's spool and make sure a replayer runs;
    False when the disk refused it too (the caller logs the loss)."""
    try:
        get_spool().put(name, payload, kind=kind)
    except OSError:
        logger.exception("spool refused %s message %s", kind, name)
        return False
    replayer.start()
    return True


@cache
def _replay_handlers() -> dict[str, Callable[[bytes], None]]:
    """kind -> replay function, named in settings (usage is metered on a higher floor)."""
    return {kind: import_string(path) for kind, path in settings.IPCAI_SPOOL_REPLAY.items()}


def replay_spool() -> ReplayResult:
    """Replay every spooled message Redis accepts now (used by all replay triggers)."""
    handlers = _replay_handlers()
    result = get_spool().replay(lambda kind, payload: handlers[kind](payload))
    if result.error is None:
        for callback in _after_success:
            callback()
        beat("spool_replay")
    return result


class _SpoolReplayer:
    """One daemon thread per process that replays the spool until it is empty."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._checked_pid = 0
        self._work_waiting = False

    def start_if_pending(self) -> None:
        """Once per process (so: at startup, on the first event), replay what an earlier run
        of this host left in the spool."""
        if self._checked_pid == os.getpid():
            return
        self._checked_pid = os.getpid()
        if get_spool().has_pending():
            self.start()

    def start(self) -> None:
        with self._lock:
            self._work_waiting = True
            # After a fork (gunicorn preload) the parent's thread does not exist in the child.
            if self._thread and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="archive-spool-replay", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        idle = threading.Event()
        while True:
            with self._lock:
                self._work_waiting = False
            try:
                result = replay_spool()
                drained = result.error is None and result.remaining == 0
            except Exception:
                logger.exception("archive spool replay failed")
                drained = False
            if drained:
                with self._lock:
                    # An event spooled while we replayed must not wait for the next trigger.
                    if not self._work_waiting:
                        self._thread = None
                        return
                continue
            idle.wait(settings.IPCAI_EVENT_SPOOL_REPLAY_S)


replayer = _SpoolReplayer()
