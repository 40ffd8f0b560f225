"""TensorRT backend: an FP16 (or FP32) engine built from the ONNX file, cached on disk.

Written to TensorRT 10's Python API (explicit-batch networks, named I/O tensors,
`execute_async_v3`) with cuda-python for memory and streams. The engine is built once per
(model checksum, GPU name, TensorRT version, max batch, precision, build revision) and cached,
because a build takes tens of seconds to minutes and a SageMaker instance restarts often; a new
GPU type, TensorRT release or change to `_build` gets its own file automatically. Engines built
ahead of time for the target GPU (`python -m gpu_worker build-engines`) may ship in the model
folder's `engines/`, so a scaled-out instance starts without building. Where the model's batch
dimension is dynamic (DEIMv2) the engine gets an optimization profile for batch 1..max_batch;
fixed-batch exports (YOLOX, PicoDet) run at their fixed batch.

FP16 here is TensorRT 10's weakly typed `BuilderFlag.FP16`, deprecated since 10.12 and removed
in 11 (the `gpu` extra pins 10.13): moving to 11 means strongly typed networks, with the
mixed precision put into the ONNX file first (NVIDIA ModelOpt AutoCast) instead of
`IPCAI_TRT_FP32_LAYERS`.

NOT RUN IN THIS PROJECT'S CI OR DEVELOPMENT MACHINES: they have no GPU and TensorRT wheels are
GB-sized. The tests skip this backend cleanly without a GPU (tests/gpu_worker/backends).
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from gpu_worker.backends.base import Backend, TensorSpec, strip_initializer_inputs

log = logging.getLogger(__name__)
# Part of every engine's cache key: bump it whenever `_build` changes what an engine contains
# (flags, profiles, precision handling), so no instance reuses an engine built the old way.
BUILD_REVISION = 2
Engine = TypeVar("Engine")

_process_logger = None  # TensorRT wants one logger per process, shared by every engine
_logger_lock = threading.Lock()
_thread_device = threading.local()  # the CUDA device is current per thread, not per process


def trt_logger(trt: Any) -> Any:
    global _process_logger
    with _logger_lock:
        if _process_logger is None:
            _process_logger = trt.Logger(trt.Logger.WARNING)
        return _process_logger


def engine_file_name(
    model_stem: str,
    model_sha256: str,
    gpu_name: str,
    trt_version: str,
    max_batch: int,
    precision: str,
    fp32_layers: Sequence[str] = (),
) -> str:
    """The cache key: everything an engine depends on, readable in a directory listing."""
    gpu = re.sub(r"[^A-Za-z0-9]+", "-", gpu_name).strip("-")
    parts = [model_stem, (model_sha256 or "nosha")[:12], gpu, f"trt{trt_version}"]
    parts += [f"b{max_batch}", precision]
    if fp32_layers:
        layers = ",".join(sorted(fp32_layers)).encode()
        parts.append(f"fp32layers{hashlib.sha256(layers).hexdigest()[:8]}")
    parts.append(f"r{BUILD_REVISION}")
    return "-".join(parts) + ".engine"


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file of this process's own (mkstemp) in the same folder,
    then rename: two instances building the same engine never interleave their bytes, and a
    crash mid-write never leaves a truncated engine under the real name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached_or_built(
    name: str,
    cache_dir: Path,
    build: Callable[[], bytes],
    deserialize: Callable[[bytes], Engine | None],
    prebuilt_dirs: Iterable[Path] = (),
) -> Engine:
    """The engine `name` from a prebuilt folder or the cache, else built and cached. A file
    that no longer deserializes (truncated, corrupt, or built by another TensorRT) is rebuilt
    rather than failing every start."""
    for folder in [*prebuilt_dirs, cache_dir]:
        path = folder / name
        if not path.is_file():
            continue
        try:
            engine = deserialize(path.read_bytes())
        except Exception as exc:  # TensorRT raises or returns None, depending on the fault
            log.warning("cached engine %s raised %s", path, exc)
            engine = None
        if engine is not None:
            log.info("loaded TensorRT engine %s", path)
            return engine
        log.warning("TensorRT engine %s cannot be used; rebuilding it", path)
    log.info("building TensorRT engine %s (first start on this GPU)", name)
    data = build()
    engine = deserialize(data)
    if engine is None:
        raise RuntimeError(f"TensorRT could not deserialize the engine it just built ({name})")
    write_atomically(cache_dir / name, data)
    return engine


def matching_layers(names: Iterable[str], patterns: Sequence[str]) -> list[str]:
    """Layer names matching any fnmatch pattern (IPCAI_TRT_FP32_LAYERS)."""
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def _cudart() -> Any:
    try:
        from cuda.bindings import runtime as cudart  # cuda-python >= 12.6
    except ImportError:  # older cuda-python
        from cuda import cudart
    return cudart


def _check(result: Any) -> Any:
    """cuda-python returns (error, value...) tuples; raise on any error."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise RuntimeError(f"CUDA error {err}")
    return values[0] if len(values) == 1 else values


class TensorRTBackend(Backend):
    name = "tensorrt"

    @classmethod
    def is_available(cls) -> bool:
        try:
            import tensorrt  # noqa: F401

            count = _check(_cudart().cudaGetDeviceCount())
        except Exception:  # ImportError, no driver, no device: all mean "not here"
            return False
        return count > 0

    @property
    def device(self) -> str:
        return f"cuda:{self.options.device_id}"

    @property
    def inputs(self) -> list[TensorSpec]:
        return self._inputs

    def load(self, model_path: Path) -> None:
        import tensorrt as trt

        self._trt = trt
        self._cudart = _cudart()
        self._use_device()
        self._logger = trt_logger(trt)
        # Held for the engine's lifetime: an engine must not outlive the runtime that made it.
        self._runtime = runtime = trt.Runtime(self._logger)
        self._engine = cached_or_built(
            self._engine_name(model_path),
            self.options.engine_cache_dir,
            lambda: self._build(model_path),
            runtime.deserialize_cuda_engine,
            self.options.prebuilt_engine_dirs,
        )
        self._context = self._engine.create_execution_context()
        self._stream = _check(self._cudart.cudaStreamCreate())
        self._inputs, self._output_names = [], []
        for index in range(self._engine.num_io_tensors):
            name = self._engine.get_tensor_name(index)
            shape = tuple(d if d >= 0 else None for d in self._engine.get_tensor_shape(name))
            dtype = np.dtype(trt.nptype(self._engine.get_tensor_dtype(name)))
            if self._engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                self._inputs.append(TensorSpec(name, shape, dtype))
            else:
                self._output_names.append(name)
        self._buffers: dict[str, tuple[int, int]] = {}  # name -> (device pointer, bytes)

    def _use_device(self) -> None:
        """Make the lane's GPU current on the calling thread (lanes run on pool threads, not
        the thread that loaded them; a wrong device fails far from here)."""
        if getattr(_thread_device, "id", None) != self.options.device_id:
            _check(self._cudart.cudaSetDevice(self.options.device_id))
            _thread_device.id = self.options.device_id

    def _engine_name(self, model_path: Path) -> str:
        props = _check(self._cudart.cudaGetDeviceProperties(self.options.device_id))
        return engine_file_name(
            model_path.stem,
            self.options.model_sha256,
            props.name.decode(errors="replace"),
            self._trt.__version__,
            self.options.max_batch,
            self.options.precision,
            self.options.fp32_layers,
        )

    def _build(self, model_path: Path) -> bytes:
        trt = self._trt
        builder = trt.Builder(self._logger)
        network = builder.create_network(0)  # TensorRT 10: always explicit batch
        parser = trt.OnnxParser(network, self._logger)
        # PicoDet's file lists its weights as graph inputs: without stripping them the engine
        # would expect 279 more input tensors at every call.
        if not parser.parse(strip_initializer_inputs(model_path.read_bytes())):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise RuntimeError(f"TensorRT cannot parse {model_path}: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 2 << 30)
        if self.options.precision == "fp16":
            config.set_flag(trt.BuilderFlag.FP16)  # weakly typed: see the module docstring
            layers = [network.get_layer(i) for i in range(network.num_layers)]
            kept = set(matching_layers((layer.name for layer in layers), self.options.fp32_layers))
            for layer in layers:
                if layer.name in kept:
                    layer.precision = trt.float32
                    for index in range(layer.num_outputs):
                        layer.set_output_type(index, trt.float32)
            if kept:
                # Without it TensorRT 10 treats the per-layer precision as a mere preference.
                config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
                log.info("TensorRT: %d layers kept in FP32", len(kept))
        profile = builder.create_optimization_profile()
        dynamic = False
        for index in range(network.num_inputs):
            tensor = network.get_input(index)
            shape = list(tensor.shape)
            if shape and shape[0] < 0:
                dynamic = True
                rest = [d if d > 0 else 1 for d in shape[1:]]
                # DEIMv2's orig_target_sizes is [N, 2]; images [N, 3, H, W].
                opt = max(1, self.options.max_batch // 2)
                profile.set_shape(
                    tensor.name, [1, *rest], [opt, *rest], [self.options.max_batch, *rest]
                )
        if dynamic:
            config.add_optimization_profile(profile)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise RuntimeError(f"TensorRT failed to build an engine for {model_path}")
        return bytes(serialized)

    def _device_buffer(self, name: str, nbytes: int) -> int:
        pointer, size = self._buffers.get(name, (0, 0))
        if size < nbytes:
            if pointer:
                _check(self._cudart.cudaFree(pointer))
            pointer = _check(self._cudart.cudaMalloc(nbytes))
            self._buffers[name] = (pointer, nbytes)
        return pointer

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        cudart = self._cudart
        self._use_device()
        to_device = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        to_host = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        for spec in self._inputs:
            array = np.ascontiguousarray(inputs[spec.name], dtype=spec.dtype)
            if not self._context.set_input_shape(spec.name, array.shape):
                # Say it here: otherwise execution fails later with an unrelated-looking error.
                raise ValueError(
                    f"input {spec.name} of shape {array.shape} is outside the engine's "
                    f"optimization profile (batch 1..{self.max_batch_size})"
                )
            pointer = self._device_buffer(spec.name, array.nbytes)
            _check(
                cudart.cudaMemcpyAsync(
                    pointer, array.ctypes.data, array.nbytes, to_device, self._stream
                )
            )
            self._context.set_tensor_address(spec.name, pointer)
        outputs: dict[str, np.ndarray] = {}
        for name in self._output_names:
            shape = tuple(self._context.get_tensor_shape(name))
            if any(dim < 0 for dim in shape):
                # Shapes that depend on the data (not on the inputs' shapes) need TensorRT's
                # output allocator; none of the families here has one, so say so plainly.
                raise RuntimeError(f"output {name} has a data-dependent shape {shape}")
            dtype = np.dtype(self._trt.nptype(self._engine.get_tensor_dtype(name)))
            outputs[name] = np.empty(shape, dtype=dtype)
            pointer = self._device_buffer(name, outputs[name].nbytes)
            self._context.set_tensor_address(name, pointer)
        if not self._context.execute_async_v3(self._stream):
            raise RuntimeError("TensorRT execution failed")
        for name, array in outputs.items():
            pointer, _ = self._buffers[name]
            _check(
                cudart.cudaMemcpyAsync(
                    array.ctypes.data, pointer, array.nbytes, to_host, self._stream
                )
            )
        _check(cudart.cudaStreamSynchronize(self._stream))
        return outputs

    def close(self) -> None:
        for pointer, _ in getattr(self, "_buffers", {}).values():
            self._cudart.cudaFree(pointer)
        self._buffers = {}
        if getattr(self, "_stream", None) is not None:
            self._cudart.cudaStreamDestroy(self._stream)
            self._stream = None


BACKEND = TensorRTBackend
