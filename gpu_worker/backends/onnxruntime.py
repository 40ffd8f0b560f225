"""ONNX Runtime backend: the CPU default; CUDA / TensorRT execution providers when an
onnxruntime-gpu build is installed (the GPU image)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from gpu_worker.backends.base import Backend, TensorSpec, strip_initializer_inputs

log = logging.getLogger(__name__)
ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
}


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"

    def load(self, model_path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.options.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: per-tensor warnings flood the log
        if not self.options.spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model_bytes = strip_initializer_inputs(model_path.read_bytes())
        providers = self._providers(ort)
        self._session = ort.InferenceSession(model_bytes, sess_options=options, providers=providers)
        self._inputs = [
            TensorSpec(
                i.name,
                tuple(d if isinstance(d, int) else None for d in i.shape),
                np.dtype(ORT_TYPES.get(i.type, np.float32)),
            )
            for i in self._session.get_inputs()
        ]
        self._output_names = [o.name for o in self._session.get_outputs()]
        # onnxruntime-gpu silently drops a provider it cannot load (its TensorRT provider is
        # built against one TensorRT minor, maybe not the image's): say which ones it uses.
        requested = [p if isinstance(p, str) else p[0] for p in providers]
        active = self._session.get_providers()
        if len(requested) > 1:
            level = logging.INFO if active == requested else logging.WARNING
            fields = {"requested": requested, "active": active}
            log.log(level, "onnxruntime providers", extra={"fields": fields})

    def _providers(self, ort: Any) -> list:
        available = set(ort.get_available_providers())
        providers: list = []
        if "TensorrtExecutionProvider" in available:
            cache = self.options.engine_cache_dir / "ort-trt"
            cache.mkdir(parents=True, exist_ok=True)
            providers.append(
                (
                    "TensorrtExecutionProvider",
                    {
                        "device_id": self.options.device_id,
                        "trt_fp16_enable": self.options.precision == "fp16",
                        "trt_engine_cache_enable": True,
                        "trt_engine_cache_path": str(cache),
                    },
                )
            )
        if "CUDAExecutionProvider" in available:
            providers.append(("CUDAExecutionProvider", {"device_id": self.options.device_id}))
        providers.append("CPUExecutionProvider")
        return providers

    @property
    def device(self) -> str:
        active = self._session.get_providers()[0]
        return "cpu" if active == "CPUExecutionProvider" else f"cuda:{self.options.device_id}"

    @property
    def inputs(self) -> list[TensorSpec]:
        return self._inputs

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = self._session.run(self._output_names, inputs)
        return dict(zip(self._output_names, results, strict=True))


BACKEND = OnnxRuntimeBackend
