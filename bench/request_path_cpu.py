"""A worker's request path without HTTP or the model: CPU per request, one thread.

    for tree in ../before/tree . ../before/tree . ; do
        .venv/bin/python bench/request_path_cpu.py $tree --batches 3
    done

Imports `gpu_worker` from TREE (another checkout, or this one) and times, per request, what a
lane or the decode pool does outside the model's infer call: the body parsed
(`parse_invocation`: JSON with base64 for the seed's body), the JPEG decoded, the model input
made, the outputs decoded and the seed's answer built, on persons.jpg with the default
DEIMv2-Femto. Thread CPU time over batches of 100 requests; run two trees alternately and
compare medians (bench/worker_cpu_bench.py is the whole worker under load).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tree", type=Path, help="the checkout whose gpu_worker is timed")
    parser.add_argument("--model", default="deimv2_femto")
    parser.add_argument("--batches", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    from gpu_worker.config import WorkerSettings
    from gpu_worker.detector import Detector
    from gpu_worker.payload import parse_invocation

    raw = (SHARED / "images" / "persons.jpg").read_bytes()
    seed = (SHARED / "images" / "post_data.txt").read_bytes()
    body = seed.replace(b"image_base64_enc", b"image_bytes")
    settings = WorkerSettings(
        model_dir=SHARED / "models", model=args.model, backend="onnxruntime", lanes=1
    )
    detector = Detector.load(settings)
    outputs = detector.run_batch(detector.lanes[0], [detector.prepare(raw)])[0]

    def request(kind: str) -> None:
        if kind == "raw JPEG":
            data = parse_invocation("image/jpeg", raw, None, "persons-detection", 0.5).image
        else:
            data = parse_invocation("application/json", body, None, "persons-detection", 0.5).image
        item = detector.prepare(data)
        detector.finish(item, outputs, "persons-detection", 0.5).to_seed_json()

    for kind in ("raw JPEG", "seed JSON"):
        for _ in range(20):
            request(kind)
        per_batch = []
        for _ in range(args.batches):
            started = time.thread_time()
            for _ in range(100):
                request(kind)
            per_batch.append((time.thread_time() - started) * 10)  # ms per request
        print(f"{args.tree} {kind}: " + " ".join(f"{ms:.3f}" for ms in per_batch) + " CPU ms/req")
    return 0


if __name__ == "__main__":
    sys.exit(main())
