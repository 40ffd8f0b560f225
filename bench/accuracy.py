"""Accuracy per service and throughput per model, to choose the default model by measurement.

    .venv/bin/python bench/accuracy.py [--models yolox_nano,picodet_s_416,deimv2_femto]

Runs the worker's own pipeline (gpu_worker.detector: the code the server serves) and scores
each service with pycocotools' COCOeval (bbox, max 100 detections, score threshold 0.01),
restricted to the service's classes, on the 158 val2017 images of shared/eval/coco_subset.
What a camera user sees is the answer at one threshold, so it also reports precision and recall
(IoU >= 0.5) at min_confidence 0.3 and 0.5. Throughput: the bare model, one single-threaded
session per core, measured in the same run.

--slices compares sliced inference (gpu_worker/slicing.py: the whole frame plus overlapping
slices, in one batch) with the whole frame alone, in one run, on the val2017 images as they are
and 3x upscaled: mAP, small- and large-object AP, precision / recall at 0.5 per service, the
slices run per image (a CPU runs those where the whole frame has a candidate) and the CPU time
per image.

Then a regression check on all 447 images (train2017 included, fine for comparing two decoders):
the served decoding (DCT-domain downscaling of large JPEGs) against a plain full decode, on the
images as they are and upscaled 3x (1920x1440, like camera frames), where downscaling engages.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.worker_bench import bare_model_rps  # noqa: E402
from gpu_worker.config import WorkerSettings, available_cpus  # noqa: E402
from gpu_worker.detector import Detector, PreparedImage  # noqa: E402
from gpu_worker.slicing import AUTO, OFF  # noqa: E402
from harness.coco_eval import (  # noqa: E402
    EVAL,
    SERVICES,
    EvalSet,
    detections,
    load_eval_set,
    service_map,
    service_stats,
)
from harness.processes import shared_dir  # noqa: E402

SHARED = shared_dir()
THRESHOLDS = (0.3, 0.5)


def upscaled(data: bytes, factor: int = 3) -> bytes:
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None, "an eval image does not decode"
    big = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def iou(box: list[float], other: list[float]) -> float:
    ax2, ay2, bx2, by2 = box[0] + box[2], box[1] + box[3], other[0] + other[2], other[1] + other[3]
    w = max(0.0, min(ax2, bx2) - max(box[0], other[0]))
    h = max(0.0, min(ay2, by2) - max(box[1], other[1]))
    inter = w * h
    union = box[2] * box[3] + other[2] * other[3] - inter
    return inter / union if union > 0 else 0.0


def precision_recall(data: EvalSet, results: list[dict], cats: list[int], threshold: float):
    """Greedy matching at IoU 0.5, same class, crowd regions ignored: what a user sees."""
    truth = defaultdict(list)
    for ann in data.coco["annotations"]:
        if ann["category_id"] in cats and ann["image_id"] in data.blobs and not ann["iscrowd"]:
            truth[(ann["image_id"], ann["category_id"])].append(ann["bbox"])
    kept = sorted((r for r in results if r["score"] >= threshold), key=lambda r: -r["score"])
    used: set[tuple] = set()
    tp = 0
    for det in kept:
        key = (det["image_id"], det["category_id"])
        best, best_iou = None, 0.5
        for index, box in enumerate(truth.get(key, ())):
            overlap = iou(det["bbox"], box)
            if (key, index) not in used and overlap >= best_iou:
                best, best_iou = index, overlap
        if best is not None:
            used.add((key, best))
            tp += 1
    total = sum(len(v) for v in truth.values())
    return tp / max(1, len(kept)), tp / max(1, total)


class SliceCounter:
    """Counts the slices a detector's run_batch ran and planned, running it unchanged."""

    def __init__(self, detector: Detector) -> None:
        self.run = self.planned = 0
        self._run_batch = detector.run_batch
        detector.run_batch = self._counting  # type: ignore[method-assign]  # same calls

    def _counting(self, lane: Any, items: list[PreparedImage]) -> list[dict[str, np.ndarray]]:
        outputs = self._run_batch(lane, items)
        self.run += sum(len(item.slices) for item in items)
        self.planned += sum(item.slices_planned for item in items)
        return outputs


def compare_slicing(coco_gt, val: EvalSet, served: WorkerSettings, models: list[str]) -> None:
    """Whole frame against whole frame + slices: same model, same run, both image sizes."""
    print(
        "\nSliced inference against the whole frame alone (val2017): mAP50:95 (small / large "
        "AP), precision / recall at IoU 0.5 and min_confidence 0.5, slices run / planned per "
        "image, CPU seconds per image:\n"
    )
    header = " | ".join(f"{s.split('-')[0]} mAP (S / L)" for s in SERVICES)
    pr_header = " | ".join(f"{s.split('-')[0]} P / R" for s in SERVICES)
    print(
        f"| model | images | inference | {header} | {pr_header} | slices run / planned "
        "| CPU s / image |"
    )
    print("|---" * (5 + 2 * len(SERVICES)) + "|")
    big = {image_id: upscaled(data) for image_id, data in val.blobs.items()}
    for model in models:
        detector = Detector.load(dataclasses.replace(served, model=model))
        slices = SliceCounter(detector)
        for label, blobs, scale in (("as they are", val.blobs, 1.0), ("3x upscaled", big, 3.0)):
            for name, request in (("whole frame", OFF), ("sliced (auto)", AUTO)):
                slices.run = slices.planned = 0
                started = time.process_time()
                found = detections(detector, val, blobs, scale, request)
                cpu_s = (time.process_time() - started) / len(val.images)
                count = len(val.images)
                per_image = f"{slices.run / count:.2f} / {slices.planned / count:.2f}"
                cells, rates = [], []
                for s in SERVICES:
                    stats = service_stats(coco_gt, found[s], val.image_ids, val.cat_ids[s])
                    small = f"{stats[3]:.3f}" if stats[3] >= 0 else "-"
                    cells.append(f"{stats[0]:.3f} ({small} / {stats[5]:.3f})")
                    precision, recall = precision_recall(val, found[s], val.cat_ids[s], 0.5)
                    rates.append(f"{precision:.2f} / {recall:.2f}")
                print(
                    f"| {model} | {label} | {name} | "
                    + " | ".join([*cells, *rates])
                    + f" | {per_image} | {cpu_s:.3f} |",
                    flush=True,
                )
        detector.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="yolox_nano,picodet_s_416,deimv2_femto")
    parser.add_argument("--bare-seconds", type=float, default=10.0)
    parser.add_argument("--skip-decode-check", action="store_true")
    parser.add_argument("--skip-models", action="store_true", help="only the decoding check")
    parser.add_argument(
        "--slices", action="store_true", help="only sliced against whole-frame inference"
    )
    args = parser.parse_args()
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(EVAL / "instances.json"))
    val = load_eval_set(val_only=True)
    everything = load_eval_set(val_only=False)
    base = WorkerSettings.from_env({"IPCAI_MODEL_DIR": str(SHARED / "models"), "IPCAI_LANES": "1"})
    served = dataclasses.replace(base, jpeg_dct_scaling=True)
    plain = dataclasses.replace(base, jpeg_fast=False, jpeg_dct_scaling=False)
    cpus = available_cpus()
    models = args.models.split(",")

    def instances(data: EvalSet, service: str) -> int:
        return sum(
            1
            for a in data.coco["annotations"]
            if a["category_id"] in data.cat_ids[service] and a["image_id"] in data.blobs
        )

    print(
        f"\n{time.strftime('%Y-%m-%d')} · {platform.node()} · {cpus} CPUs · "
        f"{len(val.images)} val2017 images; instances: "
        + ", ".join(f"{s} {instances(val, s)}" for s in SERVICES)
    )
    if args.slices:
        compare_slicing(coco_gt, val, served, models)
        return 0
    print("\nmAP50:95 per service (COCOeval), and precision / recall at IoU 0.5:\n")
    header = " | ".join(f"{s.split('-')[0]} mAP" for s in SERVICES)
    pr_header = " | ".join(f"{s.split('-')[0]} P/R @{t}" for t in THRESHOLDS for s in SERVICES)
    print(f"| model | {header} | bare inferences/s ({cpus}x1 thread) | {pr_header} |")
    print("|---" * (2 + len(SERVICES) + len(SERVICES) * len(THRESHOLDS)) + "|")
    for model in [] if args.skip_models else models:
        detector = Detector.load(dataclasses.replace(served, model=model))
        found = detections(detector, val, val.blobs, 1.0)
        detector.close()
        maps = [service_map(coco_gt, found[s], val.image_ids, val.cat_ids[s]) for s in SERVICES]
        prs = [
            precision_recall(val, found[s], val.cat_ids[s], t) for t in THRESHOLDS for s in SERVICES
        ]
        rps = bare_model_rps(model, SHARED / "models", args.bare_seconds, cpus, 1)
        print(
            f"| {model} | "
            + " | ".join(f"{m:.3f}" for m in maps)
            + f" | {rps:.1f} | "
            + " | ".join(f"{p:.2f} / {r:.2f}" for p, r in prs)
            + " |",
            flush=True,
        )
    if args.skip_decode_check:
        return 0

    print(
        f"\nDecoding check on all {len(everything.images)} images (instances: "
        + ", ".join(f"{s} {instances(everything, s)}" for s in SERVICES)
        + "), mAP50:95:\n"
    )
    print("| model | images | decoding | persons | pets | vehicles |")
    print("|---|---|---|---|---|---|")
    big = {image_id: upscaled(data) for image_id, data in everything.blobs.items()}
    fast = dataclasses.replace(served, jpeg_fast=True)
    for model in models:
        for label, blobs, scale in (
            ("as they are", everything.blobs, 1.0),
            ("3x upscaled", big, 3.0),
        ):
            for decoding, settings in (
                ("plain full decode", plain),
                ("served: DCT downscaling", served),
                ("DCT downscaling + fast IDCT", fast),
            ):
                detector = Detector.load(dataclasses.replace(settings, model=model))
                found = detections(detector, everything, blobs, scale)
                detector.close()
                maps = [
                    service_map(coco_gt, found[s], everything.image_ids, everything.cat_ids[s])
                    for s in SERVICES
                ]
                print(
                    f"| {model} | {label} | {decoding} | "
                    + " | ".join(f"{m:.4f}" for m in maps)
                    + " |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
