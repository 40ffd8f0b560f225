"""Inference backends: each module here runs an ONNX model on one kind of hardware.

A backend is one file, `gpu_worker/backends/<name>.py`, defining `BACKEND`, a subclass of
`base.Backend`. GPU backends import their heavy packages lazily, inside `load`, so this package
imports on machines without CUDA.
"""

from __future__ import annotations

import importlib

from gpu_worker.backends.base import Backend, BackendOptions, TensorSpec

__all__ = ["Backend", "BackendOptions", "TensorSpec", "backend_class", "resolve_backend_name"]

KNOWN_BACKENDS = ("onnxruntime", "tensorrt")


def backend_class(name: str) -> type[Backend]:
    if name not in KNOWN_BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(KNOWN_BACKENDS)}")
    return importlib.import_module(f"gpu_worker.backends.{name}").BACKEND


def resolve_backend_name(requested: str) -> str:
    """`auto` picks TensorRT where it and a GPU are present, else ONNX Runtime (which itself
    uses the CUDA/TensorRT execution providers when an onnxruntime-gpu build is installed)."""
    if requested != "auto":
        return requested
    if backend_class("tensorrt").is_available():
        return "tensorrt"
    return "onnxruntime"
