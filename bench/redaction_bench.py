"""What redaction costs per stored image, and what it costs the request path.

    .venv/bin/python bench/redaction_bench.py [--plates-photos 20] [--repeat 2]

Starts a real worker (the default yolox_nano, the plate reader installed) and, in this process,
redacts through apps/core/redaction.redact exactly as the portal's redaction thread does:
persons.jpg (4 faces, 2 vehicles) and photos of the US plate set, for faces, plates and both.
CPU is read from /proc: the worker's (its `/regions` work: YuNet, the detector, the plate
reader) and this process's (the portal's side: the HTTP call, decode, blur, encode). Then the
request path's side: the time of one hand-over to the redaction queue (what a request of a
redacting tenant pays instead of the outbox write, which moves to the thread).
Speed is only ever measured here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from apps.core import redaction  # noqa: E402
from bench.archiving_bench import cpu_seconds  # noqa: E402
from harness.processes import model_dir, shared_dir  # noqa: E402
from harness.worker import running_worker  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plates-photos", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("IPCAI_MODEL_DIR", str(model_dir()))
    plates = shared_dir() / "eval" / "plates" / "us"
    names = list(
        dict.fromkeys(e["image"] for e in json.loads((plates / "plates.json").read_text()))
    )
    sets = {
        "persons.jpg": [(shared_dir() / "images" / "persons.jpg").read_bytes()],
        f"{args.plates_photos} plate photos": [
            (plates / "images" / n).read_bytes() for n in names[: args.plates_photos]
        ],
    }
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_worker(Path(tmp), LOG_LEVEL="WARNING") as (
            worker,
            url,
        ),
    ):
        settings.IPCAI_WORKER_URL = url
        assert worker.process is not None
        worker_pid = worker.process.pid
        for images in sets.values():  # warm: the face stage loads on its first ask
            redaction.redact(images[0], {"faces", "plates"})
        for label, images in sets.items():
            for kinds in (("faces",), ("plates",), ("faces", "plates")):
                worker_before, here_before = cpu_seconds(worker_pid), time.process_time()
                wall = time.perf_counter()
                for _ in range(args.repeat):
                    for image in images:
                        redaction.redact(image, kinds)
                count = args.repeat * len(images)
                rows.append(
                    (
                        label,
                        "+".join(kinds),
                        1000 * (time.process_time() - here_before) / count,
                        1000 * (cpu_seconds(worker_pid) - worker_before) / count,
                        1000 * (time.perf_counter() - wall) / count,
                    )
                )
                print(rows[-1], flush=True)
    # The request path: one hand-over (the thread then fails fast: nothing listens on :9).
    settings.IPCAI_WORKER_URL = "http://127.0.0.1:9"
    queue = redaction.RedactionQueue(100_000)
    image = sets["persons.jpg"][0]
    started = time.perf_counter()
    for _ in range(2000):
        queue.submit(image, {"faces"}, lambda redacted: None)
    hand_over_us = 1e6 * (time.perf_counter() - started) / 2000
    queue.wait_idle(60)

    print(f"\n{time.strftime('%Y-%m-%d')} · {os.cpu_count()} CPUs · worker yolox_nano\n")
    print("| images | kinds | portal CPU ms / image | worker CPU ms / image | wall ms / image |")
    print("|---|---|---|---|---|")
    for label, asked, here, there, wall in rows:
        print(f"| {label} | {asked} | {here:.1f} | {there:.1f} | {wall:.0f} |")
    print(f"\nHand-over on the request path: {hand_over_us:.1f} µs per image (a queue put).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
