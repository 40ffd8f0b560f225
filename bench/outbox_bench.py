"""Request-path cost of handing one archive event over: the old Celery message vs the outbox.

    .venv/bin/python bench/outbox_bench.py [--events 300] [--rounds 3]

What the request thread pays per event, measured in-process against a private redis-server
(append-only, ``appendfsync everysec`` as in production), with the seed's 208 KB persons.jpg:

- ``celery message`` (before issue 18): ``SET`` the image bytes in Redis, then publish a ~2 KB
  Celery task message naming them (the message can be lost when a Celery process group dies);
- ``outbox + wake-up`` (now): ``XADD`` message and image as one stream entry, then publish a
  tiny Celery wake-up task (losing it delays the event until the sweep, never drops it);
- ``outbox only``: the ``XADD`` alone, the floor of any stream-based design.

Modes alternate round by round so drift on a shared machine hits all of them alike. Wall and
CPU (process_time) per event; prints a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.processes import shared_dir  # noqa: E402
from harness.redis_server import RedisServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="events per mode and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    image = (shared_dir() / "images" / "persons.jpg").read_bytes()

    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp) / "redis", appendfsync="everysec").start()
        try:
            os.environ.update(
                DJANGO_SETTINGS_MODULE="portal.settings",
                DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", f"bench-{uuid.uuid4().hex}"),
                REDIS_URL=redis_server.url,
                CELERY_BROKER_URL=redis_server.url,
                IPCAI_REDIS_PREFIX=f"bench-{uuid.uuid4().hex[:6]}:",
            )
            import django

            django.setup()
            rows = run(image, args.events, args.rounds, redis_server)
        finally:
            redis_server.stop()
    print(f"{args.events} events per mode and round, {args.rounds} rounds, {len(image)} B image")
    print("| hand-over | wall ms p50 | wall ms p95 | CPU ms per event |")
    print("|---|---|---|---|")
    for mode, (walls, cpu) in rows.items():
        walls.sort()
        p95 = walls[int(len(walls) * 0.95)]
        print(f"| {mode} | {statistics.median(walls):.3f} | {p95:.3f} | {cpu:.3f} |")
    return 0


def run(
    image: bytes, events: int, rounds: int, redis_server: RedisServer
) -> dict[str, tuple[list[float], float]]:
    from apps.archive import layout, outbox
    from apps.archive.records import RequestEvent
    from apps.core.redis import get_redis
    from portal.celery import app

    def message() -> dict:
        image_type = layout.sniff_image_type(image)
        return RequestEvent(
            event_id=layout.new_event_id(),
            tenant_id=1,
            tenant_slug="bench",
            application_type="persons-detection",
            received_at=datetime.now(UTC),
            response={"bbox_coords": [[1, 2, 3, 4]] * 5, "bbox_scores": [[0.9]] * 5},
            image=None,
            image_type=image_type,
            image_size=len(image),
        ).to_message()

    def celery_message() -> None:
        body = message()
        key = f"bench:image:{body['event_id']}"
        get_redis().set(key, image)
        body["image_ref"] = key
        app.send_task(
            "events.archive_event",
            args=[body],
            retry=False,
            argsrepr=f"(event {body['event_id']})",
            kwargsrepr="{}",
        )

    def outbox_and_wake_up() -> None:
        outbox.add(message(), image)
        app.send_task("events.archive_next", retry=False, argsrepr="()", kwargsrepr="{}")

    def outbox_only() -> None:
        outbox.add(message(), image)

    modes: dict[str, Callable[[], None]] = {
        "celery message (before)": celery_message,
        "outbox + wake-up (now)": outbox_and_wake_up,
        "outbox only": outbox_only,
    }
    walls: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, float] = dict.fromkeys(modes, 0.0)
    for mode in modes.values():  # warm connections and imports
        mode()
    for _ in range(rounds):
        for name, mode in modes.items():
            cpu_start = time.process_time()
            for _ in range(events):
                started = time.perf_counter()
                mode()
                walls[name].append((time.perf_counter() - started) * 1000)
            cpu[name] += time.process_time() - cpu_start
            redis_server.client().flushall()  # each mode starts from an empty Redis
    return {name: (walls[name], cpu[name] * 1000 / (events * rounds)) for name in modes}


if __name__ == "__main__":
    raise SystemExit(main())
