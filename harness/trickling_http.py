"""A real HTTP server on 127.0.0.1 that answers one byte at a time (a slow-loris receiver).

For the webhook sender's deadline: each request is read whole, then the answer is written a
byte every `interval_s` from the chosen phase on ("status": from the status line's first byte,
"headers": after the status line, "body": after the headers). Each byte comes well within any
per-read socket timeout, so only a deadline on the whole exchange ends it. After `limit_s` the
rest of the answer goes out at once (so a sender without a deadline still finishes, slowly);
`limit_s=None` trickles header lines forever. Every connection is recorded: its path, when it
was accepted and when the client closed it, so a test sees how long each attempt was held.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Literal

Phase = Literal["status", "headers", "body"]
BODY = b"slow ok"


@dataclass
class Connection:
    path: str
    accepted_at: float  # time.monotonic()
    closed_at: float | None = None  # when the client hung up (None: still open, or we finished)

    @property
    def held_s(self) -> float | None:
        return None if self.closed_at is None else self.closed_at - self.accepted_at


class TricklingServer:
    def __init__(
        self, phase: Phase = "status", interval_s: float = 0.5, limit_s: float | None = None
    ) -> None:
        self.phase, self.interval_s, self.limit_s = phase, interval_s, limit_s
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: set[socket.socket] = set()

    def start(self) -> TricklingServer:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._lock:
            for conn in list(self._open):
                with suppress(OSError):
                    conn.close()

    def finished(self) -> list[Connection]:
        """The connections the client has closed."""
        with self._lock:
            return [c for c in self.connections if c.closed_at is not None]

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)
        record = Connection(path="", accepted_at=time.monotonic())
        try:
            record.path = self._read_request(conn)
            with self._lock:
                self.connections.append(record)
            fast, slow = self._answer()
            conn.sendall(fast)
            trickle_until = None if self.limit_s is None else time.monotonic() + self.limit_s
            for byte in slow:
                if trickle_until is not None and time.monotonic() >= trickle_until:
                    conn.sendall(bytes(slow_rest(slow)))
                    break
                conn.sendall(bytes([byte]))
                if self._client_closed(conn, self.interval_s):
                    record.closed_at = time.monotonic()
                    return
            record.closed_at = self._wait_for_close(conn)
        except OSError:
            if record.closed_at is None:
                record.closed_at = time.monotonic()
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def _answer(self) -> tuple[bytes, Iterator[int]]:
        status = b"HTTP/1.1 200 OK\r\n"
        headers = b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(BODY)
        if self.phase == "body":
            return status + headers, _Bytes(BODY)
        if self.limit_s is None:  # header lines without end: only a deadline stops the client
            endless = _Endless(b"X-Trickle: a\r\n")
            return (b"", endless) if self.phase == "status" else (status, endless)
        if self.phase == "headers":
            return status, _Bytes(headers + BODY)
        return b"", _Bytes(status + headers + BODY)

    @staticmethod
    def _read_request(conn: socket.socket) -> str:
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                raise OSError("client closed before the request ended")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        conn.settimeout(None)
        return lines[0].split(" ")[1]

    def _client_closed(self, conn: socket.socket, wait_s: float) -> bool:
        """Wait up to wait_s; True when the client hung up meanwhile (or we are stopping)."""
        readable, _, _ = select.select([conn], [], [], wait_s)
        if self._stopped.is_set():
            return True
        return bool(readable) and conn.recv(1) == b""

    def _wait_for_close(self, conn: socket.socket) -> float:
        while not self._client_closed(conn, 0.5):
            pass
        return time.monotonic()


class _Bytes:
    """An iterator over bytes that can hand over what it has not yet given."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def __iter__(self) -> _Bytes:
        return self

    def __next__(self) -> int:
        if self.at >= len(self.data):
            raise StopIteration
        self.at += 1
        return self.data[self.at - 1]


class _Endless(_Bytes):
    def __next__(self) -> int:
        self.at += 1
        return self.data[(self.at - 1) % len(self.data)]


def slow_rest(slow: Iterator[int]) -> bytes:
    if isinstance(slow, _Bytes) and not isinstance(slow, _Endless):
        return slow.data[slow.at :]
    return b""


@contextmanager
def trickling_server(
    phase: Phase = "status", interval_s: float = 0.5, limit_s: float | None = None
) -> Iterator[TricklingServer]:
    server = TricklingServer(phase, interval_s, limit_s).start()
    try:
        yield server
    finally:
        server.stop()
