"""Camera health: the portal's CPU per camera frame with health checks on and off.

    .venv/bin/python bench/camera_health_bench.py [--frames 280] [--rounds 2] [--fps 5]
        [--parts inprocess,portals]

1. In process (exact): the health hook alone (apps/alerts/health.on_frame: one Redis round
   trip per NOTE_INTERVAL_S of the camera's frames, the image check on one frame per
   IPCAI_HEALTH_SAMPLE_S = 2 s of capture time), CPU time of this process per frame over the
   shared clip at --fps, on vs off, in alternating rounds; and the image check itself per
   sampled frame.
2. Two real portals side by side (gunicorn 2x8, SQLite, Redis; one real worker), one with
   IPCAI_HEALTH_CHECKS=true and one false, each sent the same clip frames as a camera with
   capture times, in turn per round so machine noise hits both alike. CPU is each portal's
   (gunicorn master + workers, /proc) per request; the worker's is not in it.

Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.archiving_bench import cpu_seconds  # noqa: E402
from harness.camera_clip import sampled  # noqa: E402
from harness.camera_frames import create_camera, post_frame  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.worker import running_worker  # noqa: E402


def in_process(frames: list[tuple[float, bytes]], rounds: int, fps: float) -> dict[str, float]:
    """CPU µs per frame of health.on_frame, on and off; µs per image check."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ["IPCAI_REDIS_PREFIX"] = f"ipcai-bench-{uuid.uuid4().hex[:6]}:"
    import django

    django.setup()
    from django.conf import settings

    from apps.alerts import health
    from apps.alerts.health_checks import analyse
    from harness.portal import forget_redis_prefix

    totals = {"on": 0.0, "off": 0.0}
    count = 0
    for round_ in range(rounds):
        for mode in ("on", "off"):
            settings.IPCAI_HEALTH_CHECKS = mode == "on"
            health._sampled_at.clear()
            camera = 10_000 + round_  # a fresh baseline each round
            t0 = 1_700_000_000.0 + round_ * 1000
            started = time.process_time()
            # The loop runs faster than real time: forget the per-process note as often as a
            # camera at this rate would pass NOTE_INTERVAL_S of wall time (rounded down).
            every = max(1, int(fps * health.NOTE_INTERVAL_S))
            for index, (offset, jpeg) in enumerate(frames):
                if index % every == 0:
                    health._noted_at.pop(camera, None)
                health.on_frame(camera, t0 + offset, jpeg, 768)
            health.wait_idle(60)  # the checks' thread: its CPU is the portal's too
            totals[mode] += time.process_time() - started
        count += len(frames)
    started = time.process_time()
    for _, jpeg in frames:
        analyse(jpeg, 768)
    check_us = (time.process_time() - started) * 1e6 / len(frames)
    forget_redis_prefix(os.environ["IPCAI_REDIS_PREFIX"])
    return {
        "on_us": totals["on"] * 1e6 / count,
        "off_us": totals["off"] * 1e6 / count,
        "check_us": check_us,
    }


def portals(frames: list[tuple[float, bytes]], rounds: int) -> dict[str, float]:
    """Portal CPU ms per camera request, health on vs off (two portals, one worker)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with (
            running_worker(folder) as (_, worker_url),
            running_portal(
                folder / "on", worker_url, workers=2, threads=8, IPCAI_HEALTH_CHECKS="true"
            ) as on,
            running_portal(
                folder / "off", worker_url, workers=2, threads=8, IPCAI_HEALTH_CHECKS="false"
            ) as off,
        ):
            stacks = {}
            for name, portal in (("on", on), ("off", off)):
                key = portal.create_tenant(f"health{name}")
                stacks[name] = (portal, key, create_camera(portal.base_url, key, "hall"))
            session = requests.Session()
            t0 = time.time() - 3600
            cpu = {"on": 0.0, "off": 0.0}
            n = 0
            for round_ in range(rounds + 1):  # round 0 warms both up, unmeasured
                order = list(stacks.items())
                if round_ % 2:
                    order.reverse()  # neither portal always goes first
                for name, (portal, key, camera) in order:
                    assert portal.server.process is not None  # started by running_portal
                    pid = portal.server.process.pid
                    before = cpu_seconds(pid)
                    for offset, jpeg in frames:
                        answer = post_frame(
                            session, portal.base_url, key, camera, jpeg, t0 + round_ * 300 + offset
                        )
                        assert answer.status_code == 200, answer.text
                    if round_:
                        cpu[name] += cpu_seconds(pid) - before
                if round_:
                    n += len(frames)
            return {name: seconds * 1000 / n for name, seconds in cpu.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=280, help="clip frames per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--parts", default="inprocess,portals")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    frames = sampled(args.fps)[: args.frames]
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}, "
        f"load average {os.getloadavg()[0]:.1f} at start; {len(frames)} frames of the clip at "
        f"{args.fps:g} fps, {args.rounds} rounds"
    )
    print("\n| measure | health on | health off | difference |\n|---|---|---|---|")
    if "inprocess" in parts:
        cost = in_process(frames, args.rounds, args.fps)
        print(
            f"| health hook, CPU µs per frame (in process) | {cost['on_us']:.0f} | "
            f"{cost['off_us']:.0f} | {cost['on_us'] - cost['off_us']:.0f} |"
        )
        print(f"| image check, CPU µs per sampled frame | {cost['check_us']:.0f} | - | - |")
    if "portals" in parts:
        cpu = portals(frames, args.rounds)
        print(
            f"| portal CPU ms per camera request (two portals) | {cpu['on']:.2f} | "
            f"{cpu['off']:.2f} | {cpu['on'] - cpu['off']:+.2f} |"
        )


if __name__ == "__main__":
    main()
