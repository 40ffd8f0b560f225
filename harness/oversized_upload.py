"""An upload that never ends, sent on a raw socket until the server answers: what the tests of
the body bounds use to show a too-large body is refused while it arrives (not after it is
stored), and that the refusing server's memory stays flat."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path


def send_until_answered(
    host: str,
    port: int,
    first: bytes,
    piece: bytes,
    max_pieces: int,
    until: bytes = b"payload_too_large",
) -> tuple[bytes, int]:
    """Sends `first` (the request head and the body's start), then `piece` again and again
    until the server answers or `max_pieces` went; then reads the answer's head and, while the
    connection lasts, on until `until` shows. Returns (what arrived, pieces sent)."""
    with socket.create_connection((host, port), timeout=30) as conn:
        conn.sendall(first)
        conn.settimeout(0.05)
        answer, pieces = b"", 0
        while pieces < max_pieces and not answer:
            try:
                conn.sendall(piece)
                pieces += 1
            except OSError:
                break  # the server answered and closed: fine
            with contextlib.suppress(TimeoutError):
                answer = conn.recv(65536)
        conn.settimeout(30)
        while b"\r\n\r\n" not in answer:
            more = conn.recv(65536)
            if not more:
                break
            answer += more
        with contextlib.suppress(OSError):
            while until not in answer and (more := conn.recv(65536)):
                answer += more
    return answer, pieces


def process_tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's master and workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(entry.name) == pid or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total
