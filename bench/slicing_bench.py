"""What sliced inference costs: CPU per image, and device time on the simulated GPU.

    .venv/bin/python bench/slicing_bench.py [--model deimv2_femto] [--runs 20]

CPU: the seed's persons.jpg and vehicles.jpg upscaled to 1920x1080 (a camera frame), and the
tests' distant-people frame (persons.jpg at 40% in a corner of a plain 1080p wall: a camera
scene mostly empty), each run through the worker's own pipeline (gpu_worker.detector: decode,
preprocess, infer, merge) on one single-threaded lane, whole frame against whole frame +
slices, side by side in one run. CPU time (not wall time), so the figures hold on a machine
shared with other jobs. "As served on a CPU": one input per call, the whole frame first, then
only the slices where it has a candidate (gpu_worker/slicing.py, screening); "one batch": all
slices with the whole frame in one call, as a GPU runs them, for comparison.

Simulated GPU (bench/simulated_gpu.py: a batch of n takes a + b*n ms on one serial device):
wall time per request through the same pipeline, whole against sliced in one batch against
sliced one call per input; the CPU work (decode, preprocess, merge) is counted as it runs here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.simulated_gpu import NAME, SimulatedGpuBackend  # noqa: E402
from gpu_worker.backends import Backend, register_backend  # noqa: E402
from gpu_worker.config import WorkerSettings, available_cpus  # noqa: E402
from gpu_worker.detector import Detector, SliceJob  # noqa: E402
from gpu_worker.slicing import AUTO  # noqa: E402
from harness.images import encode, seed_pixels  # noqa: E402
from harness.processes import shared_dir  # noqa: E402

SHARED = shared_dir()
FRAME = (1920, 1080)


class TimedLane:
    """The real lane, timing its inference calls (on the simulated GPU: the device's time);
    per_call=1 makes it take one input per call, as a static-batch model does."""

    def __init__(self, lane: Backend, per_call: int | None = None) -> None:
        self.lane = lane
        self.max_batch_size = per_call or lane.max_batch_size
        self.infer_s = 0.0

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        started = time.perf_counter()
        outputs = self.lane.infer(inputs)
        self.infer_s += time.perf_counter() - started
        return outputs


def camera_frame(name: str) -> bytes:
    data = (SHARED / "images" / f"{name}.jpg").read_bytes()
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None, f"{name}.jpg does not decode"
    big = cv2.resize(pixels, FRAME, interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def distant_persons_frame() -> bytes:
    """tests/gpu_worker's frame: five pedestrians far off (persons.jpg at 40%) in the lower
    right of a plain 1920x1080 wall, as a camera watching a mostly empty scene sees them."""
    small = cv2.resize(seed_pixels("persons"), None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    canvas = np.full((FRAME[1], FRAME[0], 3), 110, np.uint8)
    canvas[600 : 600 + small.shape[0], 1300 : 1300 + small.shape[1]] = small
    return encode(canvas)


def one_request(detector: Detector, lane, job) -> str:
    """One request's pipeline; the slices it ran / planned."""
    item = detector.prepare(job)
    outputs = detector.run_batch(lane, [item])
    detector.finish(item, outputs[0], "persons-detection+vehicles-detection", 0.5)
    return f"{len(item.slices)}/{item.slices_planned}"


def cpu_ms(detector: Detector, lane, job, runs: int) -> tuple[float, str]:
    """Median CPU ms per request over `runs` (after one unmeasured run), and slices run."""
    slices = one_request(detector, lane, job)
    samples = []
    for _ in range(runs):
        started = time.process_time()
        one_request(detector, lane, job)
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples), slices


def device_and_wall_ms(detector: Detector, lane: TimedLane, job, runs: int) -> str:
    """Median device ms (time inside the lane's infer calls) / wall ms per request."""
    one_request(detector, lane, job)
    device, wall = [], []
    for _ in range(runs):
        lane.infer_s = 0.0
        started = time.perf_counter()
        one_request(detector, lane, job)
        wall.append((time.perf_counter() - started) * 1000)
        device.append(lane.infer_s * 1000)
    return f"{statistics.median(device):.2f} / {statistics.median(wall):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="deimv2_femto")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    base = WorkerSettings(
        model_dir=SHARED / "models", model=args.model, lanes=1, idle_threads=1, max_batch=8
    )
    frames = {name: camera_frame(name) for name in ("persons", "vehicles")}
    frames["distant people"] = distant_persons_frame()
    print(
        f"\n{time.strftime('%Y-%m-%d')} · {platform.node()} · {available_cpus()} CPUs · "
        f"{args.model} · frames {FRAME[0]}x{FRAME[1]} · median of {args.runs}\n"
    )
    detector = Detector.load(replace(base, backend="onnxruntime"))
    lane = detector.lanes[0]
    print(
        "| frame | whole frame CPU ms | sliced, as served on a CPU | slices run / planned | "
        "sliced / whole | sliced, one batch of all | one batch / whole |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, data in frames.items():
        whole, _ = cpu_ms(detector, lane, data, args.runs)
        served, slices = cpu_ms(detector, TimedLane(lane, 1), SliceJob(data, AUTO), args.runs)
        batched, _ = cpu_ms(detector, lane, SliceJob(data, AUTO), args.runs)
        print(
            f"| {name} | {whole:.1f} | {served:.1f} | {slices} | {served / whole:.2f}x | "
            f"{batched:.1f} | {batched / whole:.2f}x |",
            flush=True,
        )
    detector.close()

    register_backend(NAME, SimulatedGpuBackend)
    print(
        "\nSimulated GPU (a + b*n ms per batch of n), persons frame, device ms / wall ms per "
        "request (wall includes this CPU's decode, preprocessing and merge):\n"
    )
    print("| a ms | b ms | whole frame | sliced, one batch | sliced, one call each |")
    print("|---|---|---|---|---|")
    for a_ms, b_ms in ((3.0, 0.25), (20.0, 5.0)):
        os.environ["SIM_GPU_A_MS"], os.environ["SIM_GPU_B_MS"] = str(a_ms), str(b_ms)
        detector = Detector.load(replace(base, backend=NAME))
        lane = detector.lanes[0]
        data = frames["persons"]
        job = SliceJob(data, AUTO)
        cells = [
            device_and_wall_ms(detector, TimedLane(lane), data, args.runs),
            device_and_wall_ms(detector, TimedLane(lane), job, args.runs),
            device_and_wall_ms(detector, TimedLane(lane, 1), job, args.runs),
        ]
        print(f"| {a_ms:g} | {b_ms:g} | " + " | ".join(cells) + " |", flush=True)
        detector.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
