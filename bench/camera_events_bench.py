"""Camera events: the portal's CPU per camera request with tracking on and off, and how many
camera frames per second one portal takes from 50 cameras sending 2 frames a second.

    .venv/bin/python bench/camera_events_bench.py [--frames 140] [--rounds 2] [--cameras 50]
        [--fps 2] [--seconds 20]

Starts a real worker (yolox_nano, ONNX Runtime) and a real portal (gunicorn 2x8, SQLite,
Redis, Celery for the webhook/snapshot side) through the same helpers the tests use.

1. On vs off: two cameras of one tenant, one with events on (the default) and one with them
   off (CameraAlerting.enabled = False), each sent the same frames of the shared clip
   (one-by-one-person-detection.mp4 at 5 fps, with capture timestamps), in turn per round so
   machine noise hits both alike. CPU is the portal's (gunicorn master + workers, /proc) per
   request; the worker's CPU is not in it.
2. Load: N cameras each send the clip's frames at F fps (paced by wall clock, one thread per
   camera) for S seconds; reports frames offered and answered per second, latency, errors, and
   the portal's and the worker's CPU per frame.

Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.archiving_bench import cpu_seconds  # noqa: E402
from harness.camera_clip import sampled  # noqa: E402
from harness.camera_frames import create_camera, post_frame  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.worker import running_worker  # noqa: E402

EVENTS_OFF = """
from apps.cameras.models import Camera
from apps.alerts.models import CameraAlerting
CameraAlerting.objects.create(camera=Camera.objects.get(public_id={camera!r}), enabled=False)
"""


def send(session, base, key, camera, jpeg, t) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = post_frame(session, base, key, camera, jpeg, t)
    events = len(response.json().get("events", [])) if response.ok else 0
    return (time.perf_counter() - started) * 1000, response.status_code, events


def on_off(portal, key, frames, rounds) -> dict[str, dict]:
    base = portal.base_url
    cameras = {
        "on": create_camera(base, key, "events on"),
        "off": create_camera(base, key, "events off"),
    }
    portal.manage("shell", "-c", EVENTS_OFF.format(camera=cameras["off"]))
    session = requests.Session()
    pid = portal.server.process.pid
    results = {name: {"cpu": 0.0, "n": 0, "latency": [], "events": 0} for name in cameras}
    t0 = time.time() - 3600
    # One unmeasured round first: each gunicorn process pays its one-off costs (database
    # connection, the first event's import of the Celery task modules) outside the figures.
    for camera in cameras.values():
        for offset, jpeg in frames:
            send(session, base, key, camera, jpeg, t0 - 1000 + offset)
    for round_ in range(rounds):
        for name, camera in cameras.items():
            before = cpu_seconds(pid)
            for offset, jpeg in frames:
                ms, status, events = send(
                    session, base, key, camera, jpeg, t0 + round_ * 200 + offset
                )
                assert status == 200, status
                results[name]["latency"].append(ms)
                results[name]["events"] += events
            results[name]["cpu"] += cpu_seconds(pid) - before
            results[name]["n"] += len(frames)
    return results


def load(portal, worker_pid, key, cameras, fps, seconds, frames) -> dict:
    base = portal.base_url
    ids = [create_camera(base, key, f"load {i:02d}") for i in range(cameras)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.monotonic() + 1.0
    t0 = time.time() - 3600

    def camera_loop(index: int, camera: str) -> None:
        session = requests.Session()
        n = 0
        while True:
            due = start + index / (cameras * fps) + n / fps  # cameras spread over a period
            if due - start >= seconds:
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the offered load, not waiting for a result
            _, jpeg = frames[n % len(frames)]
            ms, status, _ = send(session, base, key, camera, jpeg, t0 + n / fps)
            with lock:
                latencies.append(ms)
                statuses[status] = statuses.get(status, 0) + 1
            n += 1

    portal_cpu, worker_cpu = cpu_seconds(portal.server.process.pid), cpu_seconds(worker_pid)
    wall = time.monotonic()
    threads = [threading.Thread(target=camera_loop, args=(i, c)) for i, c in enumerate(ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - wall - 1.0
    answered = statuses.get(200, 0)
    return {
        "offered_fps": cameras * fps,
        "answered_fps": answered / wall,
        "answered": answered,
        "errors": sum(n for s, n in statuses.items() if s != 200),
        "statuses": statuses,
        "p50": statistics.median(latencies),
        "p95": statistics.quantiles(latencies, n=20)[18],
        "portal_cpu_ms": (cpu_seconds(portal.server.process.pid) - portal_cpu) * 1000 / answered,
        "worker_cpu_ms": (cpu_seconds(worker_pid) - worker_cpu) * 1000 / answered,
        "wall": wall,
    }


def in_process(frames: int = 5000) -> dict[str, float]:
    """Microseconds per frame of the tracker alone, and of the whole Redis round (lock, load,
    step, save) for one camera, one person walking through (CPU time of this process)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ["IPCAI_REDIS_PREFIX"] = f"ipcai-bench-{os.getpid()}:"
    import django

    django.setup()
    from apps.alerts import track_store
    from apps.alerts.tracking import CameraState, Detection, TrackerSettings, step
    from harness.portal import forget_redis_prefix

    settings = TrackerSettings()

    def frame(i: int) -> list[Detection]:
        x = 100 + (i % 200) * 3
        return [Detection("person", 0.8, (x, 50.0, x + 120.0, 400.0), ("porch",))]

    state, started = CameraState(), time.process_time()
    for i in range(frames):
        step(state, frame(i), i * 0.2, settings, lambda: "e")
    step_us = (time.process_time() - started) * 1e6 / frames
    started_wall, started = time.perf_counter(), time.process_time()
    for i in range(frames):
        with track_store.locked_camera(1):
            stored = track_store.load(1)
            step(stored.state, frame(i), i * 0.2, settings, lambda: "e")
            track_store.save(1, stored, settings)
    round_us = (time.process_time() - started) * 1e6 / frames
    wall_us = (time.perf_counter() - started_wall) * 1e6 / frames
    forget_redis_prefix(os.environ["IPCAI_REDIS_PREFIX"])
    return {"step_us": step_us, "round_cpu_us": round_us, "round_wall_us": wall_us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=140, help="clip frames per camera (5 fps)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--parts", default="onoff,load,inprocess", help="what to run")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    frames = sampled(5)[: args.frames]
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}, "
        f"load average {os.getloadavg()[0]:.0f} at start"
    )
    if "inprocess" in parts:
        cost = in_process()
        print(
            f"\nIn process: tracker step {cost['step_us']:.0f} µs/frame; lock + load + step + "
            f"save in Redis {cost['round_cpu_us']:.0f} µs CPU, {cost['round_wall_us']:.0f} µs wall"
        )
    if not parts & {"onoff", "load"}:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with (
            running_worker(folder) as (worker, worker_url),
            running_portal(
                folder,
                worker_url,
                celery=True,
                workers=2,
                threads=8,
                IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
                IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
            ) as portal,
        ):
            key = portal.create_tenant("bench", ["persons-detection"])
            results = on_off(portal, key, frames, args.rounds) if "onoff" in parts else {}
            loaded = None
            if "load" in parts:
                loaded = load(
                    portal, worker.process.pid, key, args.cameras, args.fps, args.seconds, frames
                )
    if results:
        print(f"\n`bench/camera_events_bench.py --frames {args.frames} --rounds {args.rounds}`\n")
        print("| tracking | requests | portal CPU / request | p50 latency | events in answers |")
        print("|---|---|---|---|---|")
        for name, r in results.items():
            print(
                f"| {name} | {r['n']} | {r['cpu'] * 1000 / r['n']:.2f} ms | "
                f"{statistics.median(r['latency']):.1f} ms | {r['events']} |"
            )
        on, off = results["on"], results["off"]
        extra = on["cpu"] / on["n"] - off["cpu"] / off["n"]
        print(f"\nTracking costs {extra * 1000:.2f} ms of portal CPU per camera request.\n")
    if loaded:
        print(
            f"`--cameras {args.cameras} --fps {args.fps} --seconds {args.seconds}`: "
            f"offered {loaded['offered_fps']:.0f} frames/s, answered {loaded['answered_fps']:.1f} "
            f"frames/s ({loaded['answered']} in {loaded['wall']:.1f} s, {loaded['errors']} errors "
            f"{loaded['statuses']}), p50 {loaded['p50']:.0f} ms, p95 {loaded['p95']:.0f} ms, "
            f"portal CPU {loaded['portal_cpu_ms']:.1f} ms/frame, worker CPU "
            f"{loaded['worker_cpu_ms']:.1f} ms/frame; load average "
            f"{os.getloadavg()[0]:.0f} at the end."
        )


if __name__ == "__main__":
    main()
