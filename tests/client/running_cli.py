"""Run the `ipcai` command line as its own process, as a user or a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.processes import REPO_ROOT


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def cli_env(base_url: str, api_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPCAI_")}
    return {**env, "IPCAI_URL": base_url, "IPCAI_API_KEY": api_key, "PYTHONUNBUFFERED": "1"}


def ipcai_argv(*args: str) -> list[str]:
    """argv of the installed `ipcai` console script (the package's entry point)."""
    script = Path(sys.executable).with_name("ipcai")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "ipcai", *args]


def run_cli(args: Sequence[str], base_url: str, api_key: str, timeout: float = 120) -> CliRun:
    """`ipcai ARGS` with stdout and stderr to pipes (so not a terminal), stdin closed."""
    done = subprocess.run(
        ipcai_argv(*args),
        cwd=REPO_ROOT,
        env=cli_env(base_url, api_key),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def paths_of(records: Sequence[dict]) -> list[str]:
    return [Path(r["image"]).name for r in records]


class StreamingRun:
    """A long-running `ipcai` process whose output lines are collected as they arrive."""

    def __init__(self, args: Sequence[str], base_url: str, api_key: str) -> None:
        self.process = subprocess.Popen(
            ipcai_argv(*args),
            cwd=REPO_ROOT,
            env=cli_env(base_url, api_key),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        pipes = ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))
        for stream, lines in pipes:
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()

    def _collect(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Block until condition() holds; fail with the output so far if it never does."""
        with self._changed:
            if (
                not self._changed.wait_for(
                    lambda: condition() or self.process.poll() is not None, timeout=timeout
                )
                or not condition()
            ):
                raise AssertionError(
                    f"not seen within {timeout}s: {what} (exit {self.process.poll()})\n"
                    + "\n".join(self.stderr[-20:])
                )

    def records(self) -> list[dict]:
        with self._changed:
            return json_lines("\n".join(self.stdout))

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as systemd or docker would send, and the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
