"""False plates: how many frames without a vehicle answer a plate (frame_plates).

    .venv/bin/python bench/plates_false_plates.py [--limit 150] [--repo PATH]

The whole-frame search (PlateReader.read_frame) runs where the detector found no
plate-carrying vehicle, and a frame holds shop signs, shirts and words where a vehicle holds
its plate. This runs it on the COCO frames of shared/eval/coco_subset whose annotations hold
no car, motorcycle, bus or truck (the first --limit of them, file order) and prints each
plate answered. --repo runs another checkout's reader (a before/after pair, same images).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

VEHICLE_CATEGORIES = {3, 4, 6, 8}  # COCO ids: car, motorcycle, bus, truck


def frames_without_vehicles(coco: Path, limit: int) -> list[Path]:
    instances = json.loads((coco / "instances.json").read_text())
    with_vehicle = {
        a["image_id"] for a in instances["annotations"] if a["category_id"] in VEHICLE_CATEGORIES
    }
    names = sorted(i["file_name"] for i in instances["images"] if i["id"] not in with_vehicle)
    return [coco / "images" / name for name in names[:limit]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=150)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo.resolve()))
    from gpu_worker.images import decode_image, read_header
    from gpu_worker.manifest import stage_weights, verified_stage_path
    from gpu_worker.stages.plates import PlateReader

    coco = args.repo.resolve().parent / "shared" / "eval" / "coco_subset"
    frames = frames_without_vehicles(coco, args.limit)
    reader = PlateReader(
        verified_stage_path(stage_weights("plates_det"), None),
        verified_stage_path(stage_weights("plates_rec"), None),
    )
    answered, cpu_ms = [], []
    for frame in frames:
        data = frame.read_bytes()
        pixels = decode_image(data, read_header(data, 1 << 62)).pixels
        started = time.thread_time()
        read = reader.read_frame(pixels)
        cpu_ms.append((time.thread_time() - started) * 1000)
        if read is not None:
            answered.append(f"{frame.name}: {read.text} (score {read.score:.2f})")
    print(f"{args.repo}: {len(answered)} of {len(frames)} frames without a vehicle answer a plate")
    print(
        f"whole-frame search CPU ms, median / mean: {statistics.median(cpu_ms):.1f} / "
        f"{statistics.mean(cpu_ms):.1f}"
    )
    for line in answered:
        print(" ", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
