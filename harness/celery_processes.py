"""A real Celery worker (prefork, its own process group) and a separate beat, for fault tests.

The worker is started in a new session so a test can SIGKILL the whole group at once (the
parent and every pool child, as an OOM kill of a container or `kill -9 -PGID` does); beat runs
as its own process, as in production and `make run`, so it can die alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.processes import REPO_ROOT


@dataclass
class CeleryProcesses:
    env: dict[str, str]
    log_dir: Path
    concurrency: int = 2
    worker: subprocess.Popen | None = None
    beat: subprocess.Popen | None = None
    _starts: int = field(default=0)
    _worker_start: int = field(default=0)

    def _spawn(self, name: str, args: list[str], new_session: bool) -> subprocess.Popen:
        self._starts += 1
        log = open(self.log_dir / f"{name}-{self._starts}.log", "wb")  # noqa: SIM115
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", *args],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )

    @property
    def worker_log(self) -> Path:
        return self.log_dir / f"worker-{self._worker_start}.log"

    def start_worker(self, timeout: float = 60) -> None:
        self.worker = self._spawn(
            "worker",
            ["worker", "--pool", "prefork", "--concurrency", str(self.concurrency),
             "--loglevel", "INFO", "--hostname", f"faults-{self._starts + 1}@%h",
             "--without-gossip", "--without-mingle"],
            new_session=True,
        )  # fmt: skip
        self._worker_start = self._starts
        deadline = time.monotonic() + timeout
        while " ready." not in self.worker_log.read_text(errors="replace"):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Celery worker did not start:\n{self.worker_log.read_text()}")
            time.sleep(0.1)

    def kill_worker_group(self) -> None:
        """SIGKILL the worker's whole process group (parent and pool children) and reap it."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=30)
        self.worker = None

    def start_beat(self) -> None:
        self.beat = self._spawn(
            "beat",
            ["beat", "--loglevel", "INFO", "--schedule", str(self.log_dir / "beat-schedule")],
            new_session=True,
        )

    def kill_beat(self) -> None:
        assert self.beat is not None
        self.beat.send_signal(signal.SIGKILL)
        self.beat.wait(timeout=30)
        self.beat = None

    def stop(self) -> None:
        for process in (self.beat, self.worker):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.beat = self.worker = None
