"""Spooling off the request thread: while Redis is down, each request's usage event goes to
the disk spool, and a spool write (a file, its fsync, the folder's fsync) costs ~9 ms on this
project's test machine: more than everything else a request does without Redis. So requests
hand the message to one writer thread per process and return; the thread writes it exactly as
`spool_for_replay` would (apps/core/spool_replay.py).

What this trades: a message handed over but not yet written is lost if the process is killed
(SIGKILL, OOM) in that moment, normally a few milliseconds' worth. A graceful exit (gunicorn's
SIGTERM, a restart) writes what is queued first (atexit).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading

from apps.core.spool_replay import spool_for_replay

logger = logging.getLogger(__name__)

_Message = tuple[str, str, bytes]  # kind, name, payload


class _SpoolWriter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Message] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def put(self, kind: str, name: str, payload: bytes) -> None:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's queue and thread are not ours
                self._queue, self._thread, self._pid = queue.SimpleQueue(), None, os.getpid()
            self._queue.put((kind, name, payload))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="spool-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._write(self._queue.get())

    def flush(self) -> None:
        """Write whatever is still queued, in this thread (at exit)."""
        while True:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                return
            self._write(message)

    @staticmethod
    def _write(message: _Message) -> None:
        kind, name, _ = message
        if not spool_for_replay(*message):
            logger.error("%s message %s lost: Redis and the spool refused it", kind, name)


_writer = _SpoolWriter()
atexit.register(_writer.flush)


def spool_in_background(kind: str, name: str, payload: bytes) -> None:
    """Queue a message Redis refused for the spool, without waiting for the disk."""
    _writer.put(kind, name, payload)
