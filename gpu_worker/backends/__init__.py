"""Inference backends: each module here runs an ONNX model on one kind of hardware.

A backend is one file, `gpu_worker/backends/<name>.py`, defining `BACKEND`, a subclass of
`base.Backend`. GPU backends import their heavy packages lazily, inside `load`, so this package
imports on machines without CUDA. Code outside the product (benchmarks, tests) may add a
backend under its own name with `register_backend`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from pathlib import Path

from gpu_worker.backends.base import Backend, BackendOptions, TensorSpec

__all__ = [
    "Backend",
    "BackendOptions",
    "TensorSpec",
    "backend_class",
    "candidate_backends",
    "load_first_backend",
    "register_backend",
    "resolve_backend_name",
]

log = logging.getLogger(__name__)
KNOWN_BACKENDS = ("onnxruntime", "tensorrt")
_registered: dict[str, type[Backend]] = {}


def register_backend(name: str, cls: type[Backend]) -> None:
    """Make `cls` loadable as `name` in this process (the simulated GPU in bench/)."""
    _registered[name] = cls


def backend_class(name: str) -> type[Backend]:
    if name in _registered:
        return _registered[name]
    if name not in KNOWN_BACKENDS:
        known = ", ".join([*KNOWN_BACKENDS, *_registered])
        raise ValueError(f"unknown backend {name!r}; choose one of {known}")
    return importlib.import_module(f"gpu_worker.backends.{name}").BACKEND


def candidate_backends(requested: str) -> list[str]:
    """The backends to try, in order. `auto`: TensorRT where it and a GPU are present, then
    ONNX Runtime (which itself uses the CUDA/TensorRT execution providers when an
    onnxruntime-gpu build is installed), so a failed engine build still serves."""
    if requested != "auto":
        return [requested]
    if backend_class("tensorrt").is_available():
        return ["tensorrt", "onnxruntime"]
    return ["onnxruntime"]


def resolve_backend_name(requested: str) -> str:
    """The backend `requested` tries first."""
    return candidate_backends(requested)[0]


def load_first_backend(names: Sequence[str], options: BackendOptions, path: Path) -> Backend:
    """One lane of the first backend in `names` that loads `path`. A later name is a fallback:
    without it a failed TensorRT build would leave /ping at 503 until SageMaker's startup
    timeout. The last failure is raised as is."""
    for index, name in enumerate(names):
        lane = backend_class(name)(options)
        try:
            lane.load(path)
            return lane
        except Exception as exc:
            lane.close()
            if index == len(names) - 1:
                raise
            fields = {"backend": name, "fallback": names[index + 1], "error": str(exc)}
            log.warning("backend failed to load; falling back", extra={"fields": fields})
    raise ValueError("no backend named")
