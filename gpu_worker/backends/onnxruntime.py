"""ONNX Runtime backend: the CPU default; CUDA / TensorRT execution providers when an
onnxruntime-gpu build is installed (the GPU image)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gpu_worker.backends.base import Backend, TensorSpec, strip_initializer_inputs

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
        model_bytes = strip_initializer_inputs(model_path.read_bytes())
        self._session = ort.InferenceSession(
            model_bytes, sess_options=options, providers=self._providers(ort)
        )
        self._inputs = [
            TensorSpec(
                i.name,
                tuple(d if isinstance(d, int) else None for d in i.shape),
                np.dtype(ORT_TYPES.get(i.type, np.float32)),
            )
            for i in self._session.get_inputs()
        ]
        self._output_names = [o.name for o in self._session.get_outputs()]

    def _providers(self, ort) -> list:
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
                        "trt_fp16_enable": True,
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
