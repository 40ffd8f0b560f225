"""Portal throughput with request-event archiving on vs off, in the same run.

    .venv/bin/python bench/archiving_bench.py [--requests 1000] [--concurrency 80] [--rounds 2]
                                              [--archive folder|s3] [--worker-nice 19] [--redact]

Starts the real stack the way `make run` does (gpu_worker, the portal under gunicorn, a Celery
worker, a private Redis broker) plus the archive target: a local folder (the embedded default)
or S3 through moto's server mode. The model defaults to yolox_nano, the fastest, where
archiving's share of the work is largest. ApacheBench sends the seed's load-test body
(shared/images/post_data.txt) to POST /inference with one tenant's key, alternating rounds with
archiving off and on (off, on, off, on, ...; with --worker-nice also "on" with the Celery worker
niced) so drift on a shared machine hits every mode alike. After each "on" round it waits for
the archive to catch up and checks that every answered request was archived exactly once.
With --redact also "on, redact faces+plates" rounds (docs/PRIVACY.md): the tenant blurs faces
and plates in what is stored, so each archived image goes through the portal's redaction thread
and the worker's /regions; those rounds wait until every event is stored (the redaction queue
is in the portal, not in Redis) before reading the CPU counters, so the added CPU per stored
image is all in. Prints a Markdown table for docs/BENCHMARKS.md. Speed is only ever measured
here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import AbResult, ensure_ab, run_ab  # noqa: E402
from harness.moto import MotoServer  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.processes import model_dir, shared_dir  # noqa: E402
from harness.redis_server import RedisServer  # noqa: E402
from harness.worker import running_worker  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root_pid: int) -> float:
    """User+system CPU of a process and its live descendants (gunicorn workers, pool children)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack += children.get(pid, [])
    return total


def archived_count(base_url: str, key: str) -> int:
    url, total = f"{base_url}/api/v1/events?limit=500", 0
    while url:
        page = requests.get(url, headers={"x-api-key": key}, timeout=60).json()
        total += len(page["results"])
        url = page["next"]
    return total


def wait_for_drain(broker: RedisServer, timeout: float = 600) -> float:
    """Seconds until the archive outbox (in the broker's Redis, the portal's REDIS_URL here)
    holds no event that is not yet stored."""
    client, started = broker.client(), time.monotonic()
    while any(client.xlen(key) for key in client.scan_iter(match="*archive:outbox")):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"the archive did not catch up within {timeout}s")
        time.sleep(0.2)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=2, help="rounds per mode, interleaved")
    parser.add_argument("--archive", choices=["folder", "s3"], default="folder")
    parser.add_argument("--model", default="yolox_nano")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="also run 'on' rounds with the Celery worker at this nice level (background work "
        "yields the CPU to serving), interleaved with the others",
    )
    parser.add_argument(
        "--redact", action="store_true", help="also 'on' rounds with face+plate redaction"
    )
    args = parser.parse_args()
    ensure_ab()
    os.environ.setdefault("IPCAI_MODEL_DIR", str(model_dir()))
    body = shared_dir() / "images" / "post_data.txt"

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        broker = RedisServer(tmp / "broker", appendfsync="everysec").start()
        moto = MotoServer(tmp).start() if args.archive == "s3" else None
        archive_env: dict[str, str] = {"IPCAI_ARCHIVE_URL": f"file://{tmp / 'archive'}"}
        if moto:
            moto.create_bucket("bench-archive", versioned=False)
            archive_env = {"IPCAI_ARCHIVE_URL": "s3://bench-archive/events", **moto.env()}
        try:
            with (
                running_worker(tmp, model=args.model, LOG_LEVEL="WARNING") as (
                    worker,
                    worker_url,
                ),
                running_portal(
                    tmp / "portal",
                    worker_url,
                    celery=True,
                    workers=2,
                    CELERY_BROKER_URL=broker.url,
                    REDIS_URL=broker.url,  # one Redis, as make run and production have
                    IPCAI_EVENT_SPOOL_DIR=str(tmp / "spool"),
                    IPCAI_RATE_LIMIT_REQUESTS="1000000",
                    # Every image of a redacting round is redacted: the CPU per image is measured
                    # whole (production bounds the queue; what overflows is stored without image).
                    IPCAI_REDACTION_QUEUE="100000",
                    LOG_LEVEL="WARNING",
                    **archive_env,
                ) as portal,
            ):
                key = portal.create_tenant("bench")
                url = f"{portal.base_url}/inference"
                header = f"x-api-key: {key}"
                run_ab("warm-up", url, body, "application/json", 200, 8, [header])
                # mode -> (archiving switch, Celery worker nice level)
                modes = {"off": ("off", 0), "on": ("on", 0)}
                if args.worker_nice:
                    modes[f"on, worker nice {args.worker_nice}"] = ("on", args.worker_nice)
                if args.redact:
                    modes["on, redact faces+plates"] = ("on", 0)
                results: dict[str, list[AbResult]] = {mode: [] for mode in modes}
                processes = {
                    "portal": portal.server.process.pid,
                    "celery": portal.extra[0].process.pid,
                    "inference": worker.process.pid,
                    "broker": broker.pid,
                }
                cpu_ms: dict[str, dict[str, float]] = {
                    mode: dict.fromkeys(processes, 0.0) for mode in results
                }
                archived, catch_up = 0, []
                for round_index in range(args.rounds):
                    for mode, (switch, nice) in modes.items():
                        portal.manage("archive_requests", "bench", f"--{switch}")
                        redacting = mode.startswith("on, redact")
                        kinds = ["--faces", "--plates"] if redacting else []
                        portal.manage("redaction", "bench", *kinds)
                        os.setpriority(os.PRIO_PROCESS, processes["celery"], nice)
                        cpu_before = {n: cpu_seconds(p) for n, p in processes.items()}
                        result = run_ab(
                            f"{mode} #{round_index + 1}",
                            url,
                            body,
                            "application/json",
                            args.requests,
                            args.concurrency,
                            [header],
                        )
                        cpu_after = {n: cpu_seconds(p) for n, p in processes.items()}
                        results[mode].append(result)
                        print(result.label, f"{result.rps:.1f} req/s", flush=True)
                        if switch == "on":
                            # ab's "Failed requests" also counts responses whose length differs
                            # from the first one, which JSON detections always do.
                            archived += args.requests - result.non_2xx
                            if redacting:  # stored means redacted, in the portal, first
                                started = time.monotonic()
                                # Polled every 5 s: listing every event costs the portal
                                # CPU too (at 0.5 s it was most of the portal's figure).
                                while archived_count(portal.base_url, key) < archived:
                                    time.sleep(5)
                                wait_for_drain(broker)
                                catch_up.append(time.monotonic() - started)
                                cpu_after = {n: cpu_seconds(p) for n, p in processes.items()}
                            else:
                                catch_up.append(wait_for_drain(broker))
                            for background in ("celery", "broker"):
                                cpu_after[background] = cpu_seconds(processes[background])
                        for name in processes:
                            used = cpu_after[name] - cpu_before[name]
                            cpu_ms[mode][name] += 1000 * used / args.requests / args.rounds
                stored = archived_count(portal.base_url, key)
                if stored != archived:
                    raise SystemExit(f"{stored} events archived for {archived} requests")
        finally:
            if moto:
                moto.stop()
            broker.stop()

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    print(
        f"\n{time.strftime('%Y-%m-%d')} · {platform.node()} · {os.cpu_count()} CPUs · "
        f"model {args.model} · archive {args.archive} · "
        f"ab -k -c {args.concurrency} -n {args.requests} x {args.rounds} rounds per mode\n"
    )
    print("| round | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for round_results in zip(*results.values(), strict=True):
        for r in round_results:
            print(
                f"| {r.label} | {r.rps:.1f} | {r.p50} | {r.p95} | {r.p99} | {r.max_ms} | "
                f"{r.errors} |"
            )
    off_rps = mean([r.rps for r in results["off"]])
    print(f"\nMean req/s: off {off_rps:.1f}", end="")
    for mode, mode_results in list(results.items())[1:]:
        rps = mean([r.rps for r in mode_results])
        print(f"; {mode} {rps:.1f} ({100 * (rps - off_rps) / off_rps:+.1f}%)", end="")
    print(
        f". {archived} events archived, each exactly once; the archive caught up "
        f"{max(catch_up):.1f} s after a round at most."
    )
    print(
        "\nCPU ms per request (all processes of each part; the Celery worker's and the broker's "
        "until the archive has caught up):\n"
    )
    print("| archiving | " + " | ".join(processes) + " |")
    print("|---|" + "---|" * len(processes))
    for mode, per_part in cpu_ms.items():
        print(f"| {mode} | " + " | ".join(f"{v:.1f}" for v in per_part.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
