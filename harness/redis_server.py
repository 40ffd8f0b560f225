"""A private redis-server process for tests that stop and restart the broker.

Never stop the machine's shared Redis on 6379: other suites use it. This one listens on a free
port, keeps an append-only file so queued messages survive a stop/start (as a production broker
must be configured), and restarts on the same port so clients reconnect to the same URL.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from harness.processes import ServerProcess, free_port


def _answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


class RedisServer:
    def __init__(
        self, data_dir: Path, port: int | None = None, appendfsync: str = "always"
    ) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (scripts/ensure-services.sh)")
        self.data_dir = data_dir
        self.port = port or free_port()
        # "always": the fault tests stop Redis and expect every acknowledged write back.
        # Benchmarks use "everysec", Redis's default and the usual production setting.
        self.appendfsync = appendfsync
        self._process: ServerProcess | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self) -> RedisServer:
        argv = [
            "redis-server",
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
        ]  # fmt: skip
        self._process = ServerProcess(
            argv=argv, log_path=self.data_dir / f"redis-{self.port}.log"
        ).start()
        self._process.wait_until(lambda: _answers(self.port), timeout=30)
        return self

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and closes every client connection."""
        if self._process:
            self._process.stop()
            self._process = None

    @property
    def pid(self) -> int | None:
        process = self._process.process if self._process else None
        return process.pid if process else None

    @property
    def running(self) -> bool:
        process = self._process.process if self._process else None
        return process is not None and process.poll() is None


@contextmanager
def running_redis(data_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(data_dir).start()
    try:
        yield server
    finally:
        server.stop()
