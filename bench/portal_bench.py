"""The seed's own load test through the portal, against the worker alone, in one run.

    .venv/bin/python bench/portal_bench.py [--requests 1000] [--concurrency 80] [--rounds 2]
        [--models deimv2_femto,yolox_nano] [--portals 2x16,2x64,2x64@/tmp/before]

For each model, starts a real worker (`python -m gpu_worker`) and one real portal (gunicorn,
SQLite, Redis, through the same helpers the tests use) per candidate configuration
(`WORKERSxTHREADS`, optionally `+wait=S` for the in-portal bound IPCAI_WORKER_QUEUE_TIMEOUT_S,
and `@CHECKOUT` to run that portal from another checkout, e.g. `git worktree add /tmp/before
<commit>`, so a change is measured against its parent in the same run), creates a tenant,
then runs the seed's exact command, every target once per round in turn so machine noise hits
all of them alike:

    ab -p ../shared/images/post_data.txt -T application/json -H 'x-api-key: KEY' \\
       -c 80 -n 1000 http://127.0.0.1:PORT/inference          (portal)
    ab -p ../shared/images/post_data.txt -T application/json \\
       -c 80 -n 1000 http://127.0.0.1:PORT/invocations        (worker alone, same body)

ab counts a response whose length differs from the first one as "failed (Length)"; every answer
here carries its own timings, so those are listed apart from real failures (non-2xx, connect,
receive, exceptions). The portal's CPU per request comes from /proc (gunicorn master and
workers). Prints Markdown tables for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import AbResult, ensure_ab, run_ab  # noqa: E402
from bench.archiving_bench import cpu_seconds  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.processes import shared_dir  # noqa: E402
from harness.worker import running_worker  # noqa: E402

POST_DATA = shared_dir() / "images" / "post_data.txt"


@dataclass(frozen=True)
class Candidate:
    """One portal configuration: gunicorn processes x threads, optional in-portal wait bound."""

    workers: int
    threads: int
    queue_timeout_s: float | None = None
    tree: Path = REPO

    @classmethod
    def parse(cls, text: str) -> Candidate:
        text, _, tree = text.partition("@")
        shape, _, wait = text.partition("+wait=")
        workers, threads = (int(n) for n in shape.split("x"))
        return cls(
            workers, threads, float(wait) if wait else None, Path(tree).resolve() if tree else REPO
        )

    @property
    def label(self) -> str:
        wait = f", wait ≤ {self.queue_timeout_s:g} s" if self.queue_timeout_s is not None else ""
        tree = f" @{self.tree.name}" if self.tree != REPO else ""
        return f"portal {self.workers}x{self.threads}{wait}{tree}"

    def env(self) -> dict[str, str]:
        env = {"IPCAI_WORKER_POOL_SIZE": str(self.threads)}
        if self.queue_timeout_s is not None:
            env["IPCAI_WORKER_QUEUE_TIMEOUT_S"] = str(self.queue_timeout_s)
        return env


def row(run: AbResult) -> str:
    cpu = f"{run.cpu_ms:.1f}" if run.cpu_ms else "-"
    return (
        f"| {run.label} | {run.rps:.1f} | {run.p50} | {run.p95} | {run.p99} | "
        f"{run.max_ms} | {run.errors} | {run.length_mismatches} | {cpu} |"
    )


def ab(target: str, url: str, n: int, c: int, key: str | None = None) -> AbResult:
    """The seed's exact command: no keep-alive, the JSON body, the key header for the portal."""
    headers = [f"x-api-key: {key}"] if key else []
    return run_ab(target, url, POST_DATA, "application/json", n, c, headers, keepalive=False)


def bench_model(model: str, candidates: list[Candidate], args: argparse.Namespace) -> list:
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
        _, worker_url = stack.enter_context(running_worker(logs, model=model))
        portals = []
        for index, candidate in enumerate(candidates):
            portal = stack.enter_context(
                running_portal(
                    logs / f"portal-{index}",
                    worker_url,
                    workers=candidate.workers,
                    threads=candidate.threads,
                    tree=candidate.tree,
                    **candidate.env(),
                )
            )
            key = portal.create_tenant("bench", ["persons-detection"])
            portals.append((candidate, portal, key))
        worker = f"{worker_url}/invocations"
        ab("warm-up", worker, 100, 8)
        for _, portal, key in portals:
            ab("warm-up", f"{portal.base_url}/inference", 100, 8, key)
        runs: list[AbResult] = []
        for _ in range(args.rounds):
            runs.append(ab("worker alone", worker, args.requests, args.concurrency))
            for candidate, portal, key in portals:
                pid = portal.server.process.pid
                before = cpu_seconds(pid)
                run = ab(
                    candidate.label,
                    f"{portal.base_url}/inference",
                    args.requests,
                    args.concurrency,
                    key,
                )
                run.cpu_ms = (cpu_seconds(pid) - before) * 1000 / args.requests
                runs.append(run)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=80)
    parser.add_argument("--models", default="deimv2_femto", help="comma-separated IPCAI_MODEL")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--portals",
        default="2x64",
        help="comma-separated portal candidates WORKERSxTHREADS[+wait=SECONDS][@CHECKOUT]",
    )
    args = parser.parse_args()
    ensure_ab()
    candidates = [Candidate.parse(text) for text in args.portals.split(",")]
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"ab -c {args.concurrency} -n {args.requests}, {args.rounds} rounds"
    )
    for model in args.models.split(","):
        runs = bench_model(model, candidates, args)
        print(f"\n**{model}**\n")
        print(
            "| target | req/s | p50 ms | p95 ms | p99 ms | max ms | failed | length-only "
            "| portal CPU ms/req |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for run in runs:
            print(row(run))
        worker_runs = [r for r in runs if r.label == "worker alone"]
        worker_rps = statistics.median(r.rps for r in worker_runs)
        worker_p99 = statistics.median(r.p99 for r in worker_runs)
        print()
        for candidate in candidates:
            mine = [r for r in runs if r.label == candidate.label]
            print(
                f"- {candidate.label}: throughput / worker "
                f"{statistics.median(r.rps for r in mine) / worker_rps:.2f}, "
                f"p99 / worker p99 {statistics.median(r.p99 for r in mine) / worker_p99:.2f}, "
                f"failures {sum(r.errors for r in mine)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
