"""Cameras: what the filter step costs the portal, per request, with a camera of 10 zones of
20 points each against no camera at all.

    .venv/bin/python bench/cameras_bench.py [--requests 200] [--rounds 3] [--calls 20000]

1. In process: the filter step alone (apps/cameras/filtering.filter_result) on the real worker's
   answer for the seed's persons.jpg at the lowest threshold (13 boxes, so the zone tests run
   for many boxes), and the camera lookup on a cache hit (one Redis MGET + the memoised parse),
   timed with time.process_time over many calls.
2. End to end: a real worker (yolox_nano, ONNX Runtime) and a real portal (gunicorn 2x8,
   SQLite, Redis) through the helpers the tests use; the same key sends persons.jpg as a raw
   JPEG to the native API, in alternating rounds without a camera and with `?camera=` (camera
   events switched off for that camera, so only the filter differs). CPU is the portal's
   (gunicorn master + workers, /proc) per request; the worker's CPU is not in it.

Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import math
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402

from apps.cameras import config  # noqa: E402
from apps.cameras.filtering import filter_result  # noqa: E402
from apps.core.redis import get_redis  # noqa: E402
from bench.archiving_bench import cpu_seconds  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.processes import shared_dir  # noqa: E402
from harness.worker import running_worker  # noqa: E402

PERSONS = (shared_dir() / "images" / "persons.jpg").read_bytes()
DETECT = "/api/v1/detect/persons-detection"
EVENTS_OFF = """
from apps.cameras.models import Camera
from apps.alerts.models import CameraAlerting
CameraAlerting.objects.create(camera=Camera.objects.get(public_id={camera!r}), enabled=False)
"""


def ten_zones_of_twenty_points() -> list[dict]:
    """Five masks across the top of the frame, five person-only include zones across the
    bottom, each a regular 20-gon: every kept box is tested against every zone."""
    zones = []
    for index in range(10):
        cx, cy = 0.1 + 0.2 * (index % 5), 0.3 if index < 5 else 0.8
        points = [
            [
                round(cx + 0.09 * math.cos(2 * math.pi * k / 20), 5),
                round(cy + 0.09 * math.sin(2 * math.pi * k / 20), 5),
            ]
            for k in range(20)
        ]
        zones.append(
            {
                "name": f"zone {index}",
                "kind": "mask" if index < 5 else "include",
                "points": points,
                "classes": [] if index < 5 else ["person"],
            }
        )
    return zones


def per_call_us(fn, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - started) * 1e6 / calls


def in_process(worker_url: str, calls: int) -> dict:
    answer = requests.post(
        f"{worker_url}/invocations",
        data=PERSONS,
        headers={
            "Content-Type": "image/jpeg",
            "X-Amzn-SageMaker-Custom-Attributes": "application_type=persons-detection,"
            "min_confidence=0.05",
        },
        timeout=60,
    ).json()
    entry = {
        "state": "active",
        "camera_id": "cam_bench000000000000",
        "pk": 1,
        "tenant_id": 1,
        "name": "bench",
        "services": ["persons-detection"],
        "class_thresholds": {},
        "min_box_area": None,
        "min_box_pixels": None,
        "anchor": "bottom_center",
        "zones": ten_zones_of_twenty_points(),
    }
    camera = config.config_of(entry)
    raw = orjson.dumps(entry)
    get_redis().set(config.camera_cache_key(entry["camera_id"]), raw, ex=600)
    get_redis().set(config.binding_cache_key("bench0000000"), b'{"camera":null}', ex=600)
    kept = filter_result(camera, answer, 0.05)
    return {
        "boxes": len(answer["bbox_coords"]),
        "kept": len(kept["bbox_coords"]),
        "filter_us": per_call_us(lambda: filter_result(camera, answer, 0.05), calls),
        "parse_us": per_call_us(lambda: config.config_of(orjson.loads(raw)), calls // 10),
        "lookup_us": per_call_us(
            lambda: config.lookup("bench0000000", entry["camera_id"]), calls // 10
        ),
        "lookup_none_us": per_call_us(lambda: config.lookup("bench0000000", None), calls // 10),
    }


def end_to_end(portal, requests_per_round: int, rounds: int) -> dict[str, dict]:
    base = portal.base_url
    key = portal.create_tenant("bench", ["persons-detection"])
    created = requests.post(
        f"{base}/api/v1/cameras",
        json={"name": "ten zones", "zones": ten_zones_of_twenty_points()},
        headers={"x-api-key": key},
        timeout=30,
    )
    created.raise_for_status()
    camera = created.json()["id"]
    portal.manage("shell", "-c", EVENTS_OFF.format(camera=camera))
    session = requests.Session()
    pid = portal.server.process.pid
    cases = {"no camera": {}, "camera, 10 zones x 20 points": {"camera": camera}}
    results = {name: {"cpu": 0.0, "n": 0, "latency": [], "kept": None} for name in cases}
    for _ in range(rounds):
        for name, params in cases.items():
            before = cpu_seconds(pid)
            for _ in range(requests_per_round):
                started = time.perf_counter()
                response = session.post(
                    f"{base}{DETECT}",
                    params=params,
                    data=PERSONS,
                    headers={"x-api-key": key, "Content-Type": "image/jpeg"},
                    timeout=60,
                )
                assert response.status_code == 200, response.text
                results[name]["latency"].append((time.perf_counter() - started) * 1000)
                results[name]["kept"] = len(response.json()["detections"])
            results[name]["cpu"] += cpu_seconds(pid) - before
            results[name]["n"] += requests_per_round
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per case and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=20000, help="in-process filter calls")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with running_worker(folder) as (_, worker_url):
            measured = in_process(worker_url, args.calls)
            with running_portal(folder, worker_url, workers=2, threads=8) as portal:
                results = end_to_end(portal, args.requests, args.rounds)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}")
    print(
        f"\n`bench/cameras_bench.py --requests {args.requests} --rounds {args.rounds} "
        f"--calls {args.calls}`\n"
    )
    print(
        f"In process: the filter step on {measured['boxes']} boxes (kept {measured['kept']}) "
        f"with 10 zones of 20 points: **{measured['filter_us']:.1f} µs** per answer; camera "
        f"lookup on a cache hit {measured['lookup_us']:.1f} µs (an unbound key naming no camera: "
        f"{measured['lookup_none_us']:.1f} µs); parsing the snapshot without the memo "
        f"{measured['parse_us']:.1f} µs.\n"
    )
    print("| case | requests | portal CPU / request | p50 latency | boxes kept |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['n']} | {r['cpu'] * 1000 / r['n']:.2f} ms | "
            f"{statistics.median(r['latency']):.1f} ms | {r['kept']} |"
        )
    names = list(results)
    extra = (
        results[names[1]]["cpu"] / results[names[1]]["n"]
        - results[names[0]]["cpu"] / results[names[0]]["n"]
    )
    print(f"\nThe camera costs {extra * 1000:.2f} ms of portal CPU per request end to end.")


if __name__ == "__main__":
    main()
