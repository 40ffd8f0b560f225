"""Start real server processes for tests and benchmarks and wait until they answer.

Shared by every test that needs a live worker, portal, Celery worker or moto server, so each
suite drives real HTTP processes the same way and never sleeps for a fixed time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when GET url answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@dataclass
class ServerProcess:
    """A child process plus the log file it writes, stopped with SIGTERM (graceful) on exit."""

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    cwd: Path = REPO_ROOT
    process: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        env = {**os.environ, **self.env}
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            list(self.argv), cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        return self

    def wait_until(self, ready: Callable[[], bool], timeout: float = 120.0) -> None:
        """Poll ready() until it is true; fail with the process log if the process dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.argv} exited with {self.process.returncode}\n{self.log()}"
                )
            if ready():
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.argv} not ready after {timeout}s\n{self.log()}")

    def log(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-5000:]
        return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        if not self.process or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def python_module(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module args` with this interpreter (the project's venv)."""
    return [sys.executable, "-m", module, *args]


def shared_dir() -> Path:
    """The read-only shared/ folder beside the checkout (models, images, eval data)."""
    return REPO_ROOT.parent / "shared"


def model_dir() -> Path:
    """Model folder from IPCAI_MODEL_DIR (set by .ci/run and the Makefile), else shared/models."""
    return Path(os.environ.get("IPCAI_MODEL_DIR", shared_dir() / "models"))
