"""The backend interface: load a model, warm it up, infer a batch. Nothing else.

Backends know nothing of images, families or HTTP; they map named input arrays with a leading
batch dimension to named output arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int | None, ...]  # None for a dynamic dimension
    dtype: np.dtype


@dataclass(frozen=True)
class BackendOptions:
    threads: int = 1  # CPU threads inside one model instance
    max_batch: int = (
        8  # upper bound where the model's batch dimension is dynamic (TensorRT profile)
    )
    engine_cache_dir: Path = Path("/tmp/ipcai-engines")
    model_sha256: str = ""  # keys compiled-engine caches
    device_id: int = 0
    # Whether idle intra-op threads spin: off for the all-cores idle session, whose spinning
    # threads would otherwise take CPU from the single-threaded lanes running beside it.
    spinning: bool = True
    precision: str = "fp16"  # TensorRT: fp16 or fp32
    fp32_layers: tuple[str, ...] = ()  # TensorRT: layer-name patterns kept in FP32
    # TensorRT: read-only folders of engines built ahead of time (the model folder's engines/),
    # looked up before engine_cache_dir under the same names.
    prebuilt_engine_dirs: tuple[Path, ...] = ()


class Backend(ABC):
    """One loaded model instance. Not thread-safe: the server gives each lane its own."""

    name: str = "base"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options

    @classmethod
    def is_available(cls) -> bool:
        """True when this backend can run on this machine."""
        return True

    @abstractmethod
    def load(self, model_path: Path) -> None:
        """Load (and where needed compile) the model file."""

    @property
    @abstractmethod
    def inputs(self) -> list[TensorSpec]: ...

    @property
    def device(self) -> str:
        """Where inference runs, for logs and metrics: 'cpu', 'cuda:0', ..."""
        return "cpu"

    @property
    def max_batch_size(self) -> int:
        """How many images one infer call may carry: a static batch dimension fixes it."""
        batch_dims = {spec.shape[0] if spec.shape else 1 for spec in self.inputs}
        if None in batch_dims:
            return self.options.max_batch
        return max(1, min(dim for dim in batch_dims if dim is not None))

    @abstractmethod
    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one batch; every input and output has the batch as its first dimension."""

    def warm_up(self, sample: dict[str, np.ndarray], batch_size: int = 1, runs: int = 3) -> None:
        """Run the first inferences before traffic arrives: allocators, kernels and (GPU)
        autotuning happen here, not on a camera's request. Covers the largest batch the server
        will send too (on a CPU that is 1, so no time goes on batches never served)."""
        for _ in range(runs):
            self.infer(sample)
        if batch_size > 1:
            big = {k: np.repeat(v, batch_size, axis=0) for k, v in sample.items()}
            self.infer(big)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release device memory and handles."""


def strip_initializer_inputs(onnx_bytes: bytes) -> bytes:
    """Remove weight tensors that a model also lists as graph inputs.

    Some exporters (the PicoDet file here) list all 279 weights as inputs; ONNX Runtime then
    cannot constant-fold them and warns once per tensor. Dropping them from the input list kept
    every output within 2e-5 and cut PicoDet from 39.3 to 29.9 ms per image on this CPU
    (shared/models/README.md). The file on disk, and its checksum, stay as they are.
    """
    import onnx

    model = onnx.load_from_string(onnx_bytes)
    weights = {init.name for init in model.graph.initializer}
    inputs = [inp for inp in model.graph.input if inp.name not in weights]
    if len(inputs) == len(model.graph.input):
        return onnx_bytes
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    return model.SerializeToString()
