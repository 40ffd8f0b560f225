"""The TensorRT backend needs an NVIDIA GPU and TensorRT: skipped cleanly where either is
missing (this project's CI and development machines). Mocking a GPU would test nothing."""

from __future__ import annotations

import pytest

from gpu_worker.backends import BackendOptions, backend_class
from gpu_worker.config import WorkerSettings
from gpu_worker.detector import Detector
from gpu_worker.manifest import get_spec
from tests.support.images import seed_image
from tests.support.processes import model_dir

TensorRTBackend = backend_class("tensorrt")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not TensorRTBackend.is_available(), reason="needs TensorRT and an NVIDIA GPU"
    ),
]


def test_engine_is_built_once_and_cached(tmp_path):
    spec = get_spec("deimv2_femto")
    options = BackendOptions(max_batch=8, engine_cache_dir=tmp_path, model_sha256=spec.sha256)
    first = TensorRTBackend(options)
    first.load(model_dir() / spec.file)
    engines = list(tmp_path.glob("*.engine"))
    assert len(engines) == 1 and spec.sha256[:12] in engines[0].name
    mtime = engines[0].stat().st_mtime_ns
    TensorRTBackend(options).load(model_dir() / spec.file)
    assert engines[0].stat().st_mtime_ns == mtime


def test_tensorrt_finds_the_three_dogs(tmp_path):
    settings = WorkerSettings(
        model_dir=model_dir(),
        model="yolox_nano",
        backend="tensorrt",
        engine_cache_dir=tmp_path,
        lanes=1,
    )
    detector = Detector.load(settings)
    result = detector.detect(seed_image("pets"), "pets-detection", 0.5)
    assert result.labels == ["dog", "dog", "dog"]
