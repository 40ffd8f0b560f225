"""The seed's own load test through the portal, against the worker alone, in one run.

    .venv/bin/python bench/portal_bench.py [--requests 1000] [--concurrency 80] [--rounds 2]

Starts a real worker (`python -m gpu_worker`, `--model`: default deimv2_femto) and a real portal
(gunicorn, SQLite, Redis) through the same helpers the tests use, creates a tenant, then runs
the seed's exact command, alternating the two targets each round so machine noise hits both:

    ab -p ../shared/images/post_data.txt -T application/json -H 'x-api-key: KEY' \\
       -c 80 -n 1000 http://127.0.0.1:PORT/inference          (portal)
    ab -p ../shared/images/post_data.txt -T application/json \\
       -c 80 -n 1000 http://127.0.0.1:PORT/invocations        (worker alone, same body)

ab counts a response whose length differs from the first one as "failed (Length)"; every answer
here carries its own timings, so those are listed apart from real failures (non-2xx, connect,
receive, exceptions). Prints a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import AbResult, ensure_ab, run_ab  # noqa: E402
from tests.support.portal import running_portal  # noqa: E402
from tests.support.processes import shared_dir  # noqa: E402
from tests.support.worker import running_worker  # noqa: E402

POST_DATA = shared_dir() / "images" / "post_data.txt"


def row(run: AbResult) -> str:
    return (
        f"| {run.label} | {run.rps:.1f} | {run.p50} | {run.p95} | {run.p99} | "
        f"{run.max_ms} | {run.errors} | {run.length_mismatches} |"
    )


def ab(target: str, url: str, n: int, c: int, key: str | None = None) -> AbResult:
    """The seed's exact command: no keep-alive, the JSON body, the key header for the portal."""
    headers = [f"x-api-key: {key}"] if key else []
    return run_ab(target, url, POST_DATA, "application/json", n, c, headers, keepalive=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=80)
    parser.add_argument("--model", default="deimv2_femto", help="the worker's IPCAI_MODEL")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=16)
    args = parser.parse_args()
    ensure_ab()

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        logs = Path(tmp)
        with (
            running_worker(logs, model=args.model) as (_, worker_url),
            running_portal(
                logs,
                worker_url,
                workers=args.gunicorn_workers,
                threads=args.gunicorn_threads,
            ) as portal,
        ):
            key = portal.create_tenant("bench", ["persons-detection"])
            worker = f"{worker_url}/invocations"
            front = f"{portal.base_url}/inference"
            ab("warm-up", worker, 100, 8)
            ab("warm-up", front, 100, 8, key)
            runs: list[AbResult] = []
            for _ in range(args.rounds):
                runs.append(ab("worker alone", worker, args.requests, args.concurrency))
                runs.append(ab("portal", front, args.requests, args.concurrency, key))

    worker_rps = statistics.median(r.rps for r in runs if r.label == "worker alone")
    portal_rps = statistics.median(r.rps for r in runs if r.label == "portal")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"gunicorn {args.gunicorn_workers}x{args.gunicorn_threads} gthread\n"
    )
    print("| target | req/s | p50 ms | p95 ms | p99 ms | max ms | failed | length-only |")
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(row(run))
    print(f"\nportal / worker throughput (medians): {portal_rps / worker_rps:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
