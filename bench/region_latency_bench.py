"""Latency of one 320x320 JPEG at low load, as Frigate's deepstack detector sends it: the
portal's DeepStack route and the worker alone, side by side in one run.

    .venv/bin/python bench/region_latency_bench.py [--requests 200]
        [--models deimv2_femto,yolox_nano]

For each model (the served default first), starts a real worker and a real portal (gunicorn,
SQLite, Redis, the test helpers), creates a tenant with all three services, then sends one
request at a time, alternating the two targets so machine noise hits both alike:

- portal: `requests.post(URL/v1/vision/detection, data={"api_key": KEY},
  files={"image": jpeg})`, Frigate's exact call, a new connection each time as Frigate makes;
- worker: the same JPEG as the raw body of POST /invocations with the custom attributes the
  portal sends for that tenant (all three services, the default threshold), also a new
  connection each time.

Prints p50 / p90 / p99 / max in ms for each, the portal's own overhead (its round trip minus
the worker's), and the worker's inference time from its answers, as Markdown for
docs/BENCHMARKS.md. Frigate's detector waits `api_timeout` (default 0.1 s) for the answer.
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

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.images import region_jpeg  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.worker import running_worker  # noqa: E402

ALL_SERVICES = ("persons-detection", "pets-detection", "vehicles-detection")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(label: str, values: list[float]) -> str:
    return (
        f"| {label} | {len(values)} | {statistics.median(values):.1f} | "
        f"{percentile(values, 90):.1f} | {percentile(values, 99):.1f} | {max(values):.1f} |"
    )


def measure(model: str, jpeg: bytes, requests_per_target: int) -> dict[str, list[float]]:
    """One worker + portal for `model`; per-request times of both targets, alternated."""
    attributes = f"application_type={'+'.join(ALL_SERVICES)},min_confidence=0.5"
    times: dict[str, list[float]] = {"portal": [], "worker": [], "overhead": [], "infer": []}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_worker(Path(tmp), model=model) as (_, worker_url),
        running_portal(Path(tmp) / "portal", worker_url) as portal,
    ):
        key = portal.create_tenant("region-bench", ALL_SERVICES)

        def portal_call() -> dict:
            response = requests.post(
                f"{portal.base_url}/v1/vision/detection",
                data={"api_key": key},
                files={"image": jpeg},
                timeout=10,
            )
            response.raise_for_status()
            return response.json()

        def worker_call() -> dict:
            response = requests.post(
                f"{worker_url}/invocations",
                data=jpeg,
                headers={
                    "Content-Type": "image/jpeg",
                    "X-Amzn-SageMaker-Custom-Attributes": attributes,
                },
                timeout=10,
            )
            response.raise_for_status()
            return response.json()

        for _ in range(10):  # warm both paths (connections, caches, the model's lanes)
            portal_call()
            worker_call()
        for _ in range(requests_per_target):
            started = time.perf_counter()
            body = portal_call()
            times["portal"].append((time.perf_counter() - started) * 1000)
            times["overhead"].append(body["analysisRoundTripMs"] - body["processMs"])
            started = time.perf_counter()
            answer = worker_call()
            times["worker"].append((time.perf_counter() - started) * 1000)
            times["infer"].append(answer["timings_ms"]["infer"])
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per target and model")
    parser.add_argument("--models", default="deimv2_femto,yolox_nano", help="IPCAI_MODEL list")
    parser.add_argument("--image", default="persons", help="persons, pets or vehicles")
    args = parser.parse_args()

    jpeg = region_jpeg(args.image, 320)
    load = os.getloadavg()[0]
    results = {model: measure(model, jpeg, args.requests) for model in args.models.split(",")}
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs (load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} "
        f"at the end), 320x320 JPEG ({len(jpeg)} bytes) of {args.image}.jpg, one request at a "
        "time, a new connection per request\n"
    )
    print("| model | target | requests | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    labels = {
        "portal": "portal /v1/vision/detection (Frigate's call)",
        "worker": "worker /invocations alone (same image, services)",
        "overhead": "inside the portal (analysisRoundTripMs - processMs)",
        "infer": "model inference (worker timings_ms.infer)",
    }
    for model, times in results.items():
        for name, label in labels.items():
            print(f"| {model} " + summary(label, times[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
