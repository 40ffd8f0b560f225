"""ApacheBench (`ab`, Debian's apache2-utils): run it and read its report. Shared by the
benchmarks so they all count errors and percentiles the same way."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class AbResult:
    label: str
    rps: float
    p50: int
    p95: int
    p99: int
    max_ms: int
    failed: int  # connect + receive + exceptions: real failures
    non_2xx: int
    # ab reports a response whose length differs from the first as "failed (Length)"; every
    # detection answer has its own boxes and timings, so these are not errors.
    length_mismatches: int = 0
    cpu_ms: float = 0.0  # filled in by benchmarks that account a server's CPU per request

    @property
    def errors(self) -> int:
        return self.failed + self.non_2xx


def ensure_ab() -> None:
    """Install apache2-utils when ab is missing (benchmarks only; tests never need it)."""
    if shutil.which("ab"):
        return
    print("ab not found: installing Debian's apache2-utils", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "apache2-utils"], check=True, env=env)


def run_ab(
    label: str,
    url: str,
    body: Path,
    content_type: str,
    n: int,
    c: int,
    headers: Sequence[str] = (),
    keepalive: bool = True,
) -> AbResult:
    """`ab -n n -c c -p body -T content_type [-k] [-H header...] url`, parsed."""
    argv = ["ab", "-q", "-n", str(n), "-c", str(c), "-p", str(body), "-T", content_type]
    if keepalive:
        argv.append("-k")
    for header in headers:
        argv += ["-H", header]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, out, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    breakdown = re.search(
        r"\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)", out
    )
    connect, receive, length, exceptions = map(int, breakdown.groups()) if breakdown else (0,) * 4
    return AbResult(
        label=label,
        rps=number(r"^Requests per second:\s+([\d.]+)"),
        p50=int(number(r"^\s+50%\s+(\d+)")),
        p95=int(number(r"^\s+95%\s+(\d+)")),
        p99=int(number(r"^\s+99%\s+(\d+)")),
        max_ms=int(number(r"^\s+100%\s+(\d+)")),
        failed=connect + receive + exceptions,
        non_2xx=int(number(r"^Non-2xx responses:\s+(\d+)")),
        length_mismatches=length,
    )
