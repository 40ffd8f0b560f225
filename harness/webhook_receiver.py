"""A real webhook receiver process for tests: it answers every POST 200 (or the status in its
STATUS environment variable) and appends each request (headers and raw body) to a JSON-lines
file, so a test can verify signatures and count deliveries by webhook-id.

Run as ``python -m harness.webhook_receiver PORT RECORD_FILE``.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness.processes import ServerProcess, free_port, python_module


@dataclass
class Receiver:
    url: str
    port: int
    record: Path
    server: ServerProcess

    def requests(self) -> list[dict]:
        """Every request received so far: {"path", "headers", "body": bytes}."""
        if not self.record.exists():
            return []
        out = []
        for line in self.record.read_text().splitlines():
            item = json.loads(line)
            item["body"] = base64.b64decode(item["body"])
            out.append(item)
        return out

    def wait_for(self, count, timeout: float = 60.0) -> list[dict]:
        """Poll until `count(requests)` is true; the requests then (or fail with the log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.requests()
            if count(got):
                return got
            time.sleep(0.1)
        raise AssertionError(f"receiver got {len(self.requests())} requests:\n{self.server.log()}")


def start_receiver(log_dir: Path, port: int | None = None, status: int = 200) -> Receiver:
    port = port or free_port()
    record = log_dir / f"received-{port}.jsonl"
    server = ServerProcess(
        argv=python_module("harness.webhook_receiver", str(port), str(record)),
        env={"STATUS": str(status)},
        log_path=log_dir / f"receiver-{port}.log",
    ).start()
    receiver = Receiver(f"http://127.0.0.1:{port}/hooks/ipcai", port, record, server)
    server.wait_until(lambda: _listening(port), timeout=30)
    return receiver


@contextmanager
def running_receiver(log_dir: Path, port: int | None = None) -> Iterator[Receiver]:
    receiver = start_receiver(log_dir, port)
    try:
        yield receiver
    finally:
        receiver.server.stop()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _serve(port: int, record: Path) -> None:
    status = int(os.environ.get("STATUS", "200"))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            entry = {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": base64.b64encode(body).decode(),
            }
            with record.open("a") as f:
                f.write(json.dumps(entry) + "\n")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"not now")

        def log_message(self, *args) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), Path(sys.argv[2]))
