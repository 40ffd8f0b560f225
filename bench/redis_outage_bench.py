"""Detection with Redis up, killed and paused: latency and the portal's CPU per request.

    .venv/bin/python bench/redis_outage_bench.py [--requests 200] [--rounds 2] [--clients 4]

Starts a private redis-server, a real worker (yolox_nano, ONNX Runtime) and a real portal
(gunicorn 2 processes, SQLite) through the helpers the tests use, with five keys, three bound
to cameras (camera events on). Each round sends the same closed-loop load (`--clients` threads,
round-robin over the keys, the seed's persons.jpg to the native route) in three phases:
Redis up; Redis killed (SIGKILL); Redis paused (SIGSTOP: it accepts connections and never
answers). Redis is restarted (or continued) between phases and the portal waits until its
breaker has closed. Phases alternate within each round so machine noise hits them alike.

Per phase: p50 / p99 of the whole latency, p50 / p99 of the latency besides the worker (the
whole minus the worker's own `total`: the portal, its Redis calls or their fallbacks, the usage
event, HTTP; inference time, which machine noise moves most, left out), and the portal's CPU
per request (gunicorn master and workers, from /proc). Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.archiving_bench import cpu_seconds  # noqa: E402
from harness.images import seed_image  # noqa: E402
from harness.portal import Portal, running_portal  # noqa: E402
from harness.redis_server import RedisServer  # noqa: E402
from harness.worker import running_worker  # noqa: E402

PERSONS_JPEG = seed_image("persons")
SETUP = """
import json
from apps.cameras.services import create_camera, issue_camera_key
from apps.tenants.services import create_tenant, issue_api_key
cams = create_tenant("bench-cams", services=["persons-detection"])
plain = create_tenant("bench-plain", services=["persons-detection"], monthly_request_quota=10**7)
keys = [issue_camera_key(create_camera(cams, {"name": f"cam {i}"}))[1] for i in range(3)]
keys += [issue_api_key(plain, name=f"plain {i}")[1] for i in range(2)]
print(json.dumps(keys))
"""


def run_phase(portal: Portal, keys: list[str], requests_n: int, clients: int) -> dict:
    """`requests_n` requests from `clients` threads; latency, portal-only time, CPU."""
    latencies: list[float] = []
    portal_only: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(requests_n))
    url = f"{portal.base_url}/api/v1/detect/persons-detection"

    def client() -> None:
        session = requests.Session()
        for n in counter:
            started = time.perf_counter()
            response = session.post(
                url,
                data=PERSONS_JPEG,
                headers={"x-api-key": keys[n % len(keys)], "Content-Type": "image/jpeg"},
                timeout=120,
            )
            elapsed = (time.perf_counter() - started) * 1000
            timings = response.json().get("timings_ms", {}) if response.ok else {}
            with lock:
                latencies.append(elapsed)
                portal_only.append(elapsed - timings.get("total", 0.0))
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    pid = portal.server.process.pid
    cpu_before, wall = cpu_seconds(pid), time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latency": latencies,
        "portal_only": portal_only,
        "cpu_s": cpu_seconds(pid) - cpu_before,
        "n": len(latencies),
        "wall": time.monotonic() - wall,
        "statuses": statuses,
    }


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.1)


def health(portal: Portal) -> str:
    try:
        return requests.get(f"{portal.base_url}/healthz", timeout=30).json().get("status", "")
    except requests.RequestException:
        return ""


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        redis_server = RedisServer(directory / "redis", appendfsync="everysec").start()
        try:
            with (
                running_worker(directory) as (_, worker_url),
                running_portal(
                    directory / "portal",
                    worker_url,
                    workers=2,
                    REDIS_URL=redis_server.url,
                    CELERY_BROKER_URL=redis_server.url,
                    IPCAI_EVENT_SPOOL_DIR=str(directory / "spool"),
                ) as portal,
            ):
                keys = json.loads(portal.manage("shell", "-c", SETUP).splitlines()[-1])
                run_phase(portal, keys, 40, args.clients)  # warm-up, not measured
                results: dict[str, list[dict]] = {"up": [], "killed": [], "paused": []}
                for _ in range(args.rounds):
                    results["up"].append(run_phase(portal, keys, args.requests, args.clients))

                    os.kill(redis_server.pid, signal.SIGKILL)
                    redis_server.stop()
                    results["killed"].append(run_phase(portal, keys, args.requests, args.clients))
                    redis_server.start()
                    wait_for(lambda: health(portal) == "ok", 60)

                    os.kill(redis_server.pid, signal.SIGSTOP)
                    results["paused"].append(run_phase(portal, keys, args.requests, args.clients))
                    os.kill(redis_server.pid, signal.SIGCONT)
                    wait_for(lambda: health(portal) == "ok", 60)
        finally:
            if redis_server.pid:
                os.kill(redis_server.pid, signal.SIGCONT)
            redis_server.stop()

    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs; load average at the end "
        f"{os.getloadavg()[0]:.1f}. {args.rounds} rounds x {args.requests} requests per phase, "
        f"{args.clients} clients.\n"
    )
    print(
        "| Redis | requests | non-200 | p50 ms | p99 ms | besides the worker p50 ms | "
        "besides the worker p99 ms | portal CPU ms/request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for phase, runs in results.items():
        latency = [v for r in runs for v in r["latency"]]
        portal_only = [v for r in runs for v in r["portal_only"]]
        n = sum(r["n"] for r in runs)
        non_200 = sum(c for r in runs for s, c in r["statuses"].items() if s != 200)
        cpu_ms = sum(r["cpu_s"] for r in runs) * 1000 / n
        print(
            f"| {phase} | {n} | {non_200} | {statistics.median(latency):.0f} | "
            f"{p(latency, 99):.0f} | {statistics.median(portal_only):.1f} | "
            f"{p(portal_only, 99):.1f} | {cpu_ms:.1f} |"
        )


if __name__ == "__main__":
    main()
