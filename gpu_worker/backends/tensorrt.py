"""TensorRT backend: an FP16 engine built from the ONNX file, cached on disk.

Written to TensorRT 10's Python API (explicit-batch networks, named I/O tensors,
`execute_async_v3`) with cuda-python for memory and streams. The engine is built once per
(model checksum, GPU name, TensorRT version, max batch) and cached, because a build takes
tens of seconds to minutes and a SageMaker instance restarts often; a new GPU type or TensorRT
release gets its own file automatically. Where the model's batch dimension is dynamic (DEIMv2)
the engine gets an optimization profile for batch 1..max_batch; fixed-batch exports (YOLOX,
PicoDet) run at their fixed batch.

NOT RUN IN THIS PROJECT'S CI OR DEVELOPMENT MACHINES: they have no GPU and TensorRT wheels are
GB-sized. The tests skip this backend cleanly without a GPU (tests/gpu_worker/backends).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from gpu_worker.backends.base import Backend, TensorSpec

log = logging.getLogger(__name__)


def _cudart():
    try:
        from cuda.bindings import runtime as cudart  # cuda-python >= 12.6
    except ImportError:  # older cuda-python
        from cuda import cudart
    return cudart


def _check(result):
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
        _check(self._cudart.cudaSetDevice(self.options.device_id))
        self._logger = trt.Logger(trt.Logger.WARNING)
        engine_bytes = self._cached_or_built_engine(model_path)
        runtime = trt.Runtime(self._logger)
        self._engine = runtime.deserialize_cuda_engine(engine_bytes)
        if self._engine is None:
            raise RuntimeError(f"TensorRT could not deserialize the engine for {model_path}")
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

    def _engine_path(self, model_path: Path) -> Path:
        props = _check(self._cudart.cudaGetDeviceProperties(self.options.device_id))
        gpu = re.sub(r"[^A-Za-z0-9]+", "-", props.name.decode(errors="replace")).strip("-")
        key = "-".join(
            [
                model_path.stem,
                (self.options.model_sha256 or "nosha")[:12],
                gpu,
                f"trt{self._trt.__version__}",
                f"b{self.options.max_batch}",
                "fp16",
            ]
        )
        return self.options.engine_cache_dir / f"{key}.engine"

    def _cached_or_built_engine(self, model_path: Path) -> bytes:
        path = self._engine_path(model_path)
        if path.is_file():
            log.info("loading cached TensorRT engine %s", path)
            return path.read_bytes()
        log.info("building TensorRT engine for %s (first start on this GPU)", model_path)
        engine = self._build(model_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(engine)
        tmp.replace(path)  # atomic: a crash mid-write never leaves a truncated engine
        return engine

    def _build(self, model_path: Path) -> bytes:
        trt = self._trt
        builder = trt.Builder(self._logger)
        network = builder.create_network(0)  # TensorRT 10: always explicit batch
        parser = trt.OnnxParser(network, self._logger)
        if not parser.parse(model_path.read_bytes()):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise RuntimeError(f"TensorRT cannot parse {model_path}: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 2 << 30)
        if builder.platform_has_fast_fp16:
            config.set_flag(trt.BuilderFlag.FP16)
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
        to_device = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        to_host = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        for spec in self._inputs:
            array = np.ascontiguousarray(inputs[spec.name], dtype=spec.dtype)
            self._context.set_input_shape(spec.name, array.shape)
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
