"""A SIMULATED GPU for benchmarks: not a product backend, never shipped, never used by tests.

No GPU is lent to this project's machines, yet the dynamic batcher exists for one. This backend
stands in for it behind the real server: one serial device (a process-wide lock) on which a
batch of n images takes `a + b·n` ms (default a = 3, b = 0.25: a T4-like shape for a small
detector), a sleep that holds no CPU, as a GPU kernel would not. Its outputs are the real
model's outputs for one image (computed once with ONNX Runtime at load), repeated per image, so
the family's decoding and the whole response path run as in production.

    # the worker, with the simulated GPU as its backend (IPCAI_* settings as usual):
    SIM_GPU_A_MS=3 SIM_GPU_B_MS=0.25 IPCAI_MODEL=deimv2_femto \\
        .venv/bin/python bench/simulated_gpu.py

bench/batching_bench.py starts it and drives it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Appended, not prepended: an older gpu_worker on PYTHONPATH (batching_bench.py --before) wins.
sys.path.append(str(REPO))

import gpu_worker.backends  # noqa: E402
from gpu_worker.backends import Backend, BackendOptions, TensorSpec  # noqa: E402
from gpu_worker.backends.onnxruntime import OnnxRuntimeBackend  # noqa: E402
from gpu_worker.families import create_family  # noqa: E402
from gpu_worker.images import decode_image, read_header  # noqa: E402
from gpu_worker.manifest import load_manifest  # noqa: E402

NAME = "simulated-gpu"
PERSONS = REPO.parent / "shared" / "images" / "persons.jpg"
_device = threading.Lock()  # one serial device for every lane and model in the process


class SimulatedGpuBackend(Backend):
    name = NAME

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.a_s = float(os.environ.get("SIM_GPU_A_MS", "3")) / 1000
        self.b_s = float(os.environ.get("SIM_GPU_B_MS", "0.25")) / 1000

    @property
    def device(self) -> str:
        return "cuda:simulated"

    def load(self, model_path: Path) -> None:
        real = OnnxRuntimeBackend(replace(self.options, threads=1))
        real.load(model_path)
        self._inputs: list[TensorSpec] = real.inputs
        # The real outputs for the seed's persons.jpg: realistic decoding work per response.
        spec = next(
            s for s in load_manifest(model_path.parent).values() if s.file == model_path.name
        )
        data = PERSONS.read_bytes()
        pixels = decode_image(data, read_header(data, 10**9)).pixels
        self._one_image = real.infer(create_family(spec).preprocess(pixels).inputs)

    @property
    def inputs(self) -> list[TensorSpec]:
        return self._inputs

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = len(next(iter(inputs.values())))
        with _device:
            time.sleep(self.a_s + self.b_s * n)
        return {k: np.repeat(v, n, axis=0) for k, v in self._one_image.items()}


def main() -> int:
    from gpu_worker.__main__ import serve
    from gpu_worker.config import WorkerSettings

    register(gpu_worker.backends)
    return serve(replace(WorkerSettings.from_env(), backend=NAME))


def register(backends) -> None:
    """Add the simulated backend; a worker from before `register_backend` existed gets its
    lookup wrapped instead (benchmarks only)."""
    if hasattr(backends, "register_backend"):
        backends.register_backend(NAME, SimulatedGpuBackend)
        return
    import gpu_worker.detector as detector

    original = backends.backend_class

    def backend_class(name: str):
        return SimulatedGpuBackend if name == NAME else original(name)

    backends.backend_class = detector.backend_class = backend_class


if __name__ == "__main__":
    sys.exit(main())
