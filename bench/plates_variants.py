"""Plate reader variants side by side, in process, on the worker's own vehicle boxes.

    .venv/bin/python bench/plates_variants.py "" "det_sides=(416, 544)" "accept_rank=0.9"

Each argument is one variant: PlateOptions overrides (`name=python literal`, comma-free values
or a tuple in quotes), "" for the defaults. The vehicle boxes come once from a real worker
(deimv2_femto at 0.5, as bench/plates_bench.py asks) and are reused, so variants differ only
in the reader; every variant reads the same decoded images in one process, one image at a time
round-robin, so the machine's load moves them alike. Prints exact reads (with the set's even
and odd halves: a change should gain on both), and the CPU of this thread per read vehicle
(median / mean), the frame search (frame_plates) included for images without a vehicle, as
the worker does. bench/plates_bench.py is the figure of record; this is for choosing.
"""

from __future__ import annotations

import ast
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.plates_bench import invoke, worker  # noqa: E402
from gpu_worker.images import decode_image, read_header  # noqa: E402
from gpu_worker.manifest import stage_weights, verified_stage_path  # noqa: E402
from gpu_worker.stages.plates import PLATE_CLASSES, PlateOptions, PlateReader  # noqa: E402
from harness.plates_eval import judge, load_truth  # noqa: E402


def parse(variant: str) -> dict:
    """`a=1 b=(2, 3)` → {"a": 1, "b": (2, 3)}: space-separated overrides."""
    options = {}
    for part in variant.replace(", ", ",").split():
        name, value = part.split("=", 1)
        options[name] = ast.literal_eval(value)
    return options


def main() -> int:
    variants = sys.argv[1:] or [""]
    truths = load_truth()
    with tempfile.TemporaryDirectory() as logs, worker(Path(logs), "deimv2_femto") as (_, url):
        answers = [invoke(url, t.image.read_bytes(), "vehicles-detection", 0.5) for t in truths]
    det = verified_stage_path(stage_weights("plates_det"), None)
    rec = verified_stage_path(stage_weights("plates_rec"), None)
    readers = [PlateReader(det, rec, options=PlateOptions(**parse(v))) for v in variants]
    exact = [[0, 0] for _ in variants]
    cpu_ms: list[list[float]] = [[] for _ in variants]
    for index, (truth, answer) in enumerate(zip(truths, answers, strict=True)):
        data = truth.image.read_bytes()
        pixels = decode_image(data, read_header(data, 1 << 62)).pixels
        boxes = np.asarray(answer["bbox_coords"], np.float32).reshape(-1, 4)
        labels = [names[0] for names in answer["class_names"]]
        vehicles = sum(label in PLATE_CLASSES for label in labels)
        for number, reader in enumerate(readers):
            started = time.thread_time()
            reads = reader.read_many(pixels, boxes, labels)
            frame = [] if vehicles else [reader.read_frame(pixels)]
            if vehicles:
                cpu_ms[number].append((time.thread_time() - started) * 1000 / vehicles)
            plates = [None if r is None else r.to_json() for r in reads]
            frame_plates = [r.to_json() for r in frame if r is not None]
            judged = judge(truth, {**answer, "plates": plates, "frame_plates": frame_plates})
            exact[number][index % 2] += judged.exact
    print("| variant | exact (even + odd) | CPU ms per read vehicle, median / mean |")
    print("|---|---|---|")
    for variant, (even, odd), ms in zip(variants, exact, cpu_ms, strict=True):
        print(
            f"| {variant or 'defaults'} | {even + odd}/{len(truths)} ({even} + {odd}) | "
            f"{statistics.median(ms):.1f} / {statistics.mean(ms):.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
