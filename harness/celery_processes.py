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
    webhook_worker: subprocess.Popen | None = None
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

    def worker_log_tail(self, lines: int = 60) -> str:
        """The worker log's last lines: a live test that finds the worker dead shows why."""
        try:
            text = self.worker_log.read_text(errors="replace")
        except OSError as error:
            return f"(no worker log: {error})"
        return f"{self.worker_log}, last {lines} lines:\n" + "\n".join(text.splitlines()[-lines:])

    def start_worker(self, timeout: float = 60) -> None:
        self.worker = self._spawn(
            "worker",
            ["worker", "-Q", default_queue(self.env), "--pool", "prefork",
             "--concurrency", str(self.concurrency),
             "--loglevel", "INFO", "--hostname", f"faults-{self._starts + 1}@%h",
             "--without-gossip", "--without-mingle"],
            new_session=True,
        )  # fmt: skip
        self._worker_start = self._starts
        _wait_ready(self.worker, self.worker_log, timeout)

    def start_webhook_worker(self, concurrency: int = 2, timeout: float = 60) -> None:
        """The webhook queue's own worker, as in production: a slow receiver holds it alone.
        Prefork, so the delivery task's time limit is enforced."""
        self.webhook_worker = self._spawn(
            "webhooks",
            ["worker", "-Q", webhook_queue(self.env), "--pool", "prefork",
             "--concurrency", str(concurrency), "--loglevel", "INFO",
             "--hostname", f"webhooks-{self._starts + 1}@%h",
             "--without-gossip", "--without-mingle"],
            new_session=True,
        )  # fmt: skip
        _wait_ready(self.webhook_worker, self.log_dir / f"webhooks-{self._starts}.log", timeout)

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
        for process in (self.beat, self.worker, self.webhook_worker):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.beat = self.worker = self.webhook_worker = None


def default_queue(env: dict[str, str]) -> str:
    """The stack's Celery queue (portal/settings.py: IPCAI_CELERY_QUEUE, else "celery")."""
    return env.get("IPCAI_CELERY_QUEUE", "celery")


def webhook_queue(env: dict[str, str]) -> str:
    """Its webhook queue, named as portal/settings.py names it."""
    return env.get("IPCAI_WEBHOOK_QUEUE", f"{default_queue(env)}-webhooks")


def _wait_ready(process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while " ready." not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Celery worker did not start:\n{log.read_text()}")
        time.sleep(0.1)
