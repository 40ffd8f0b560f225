"""The ONNX Runtime backend on the real model files."""

from __future__ import annotations

import numpy as np

from gpu_worker.backends import BackendOptions, backend_class, resolve_backend_name
from gpu_worker.families import create_family
from gpu_worker.images import decode_image, read_header
from gpu_worker.manifest import get_spec
from harness.images import seed_image
from harness.processes import model_dir


def loaded(model: str, max_batch: int = 4):
    spec = get_spec(model)
    backend = backend_class("onnxruntime")(BackendOptions(max_batch=max_batch))
    backend.load(model_dir() / spec.file)
    return spec, backend


def test_fixed_batch_models_report_batch_one_and_dynamic_ones_the_setting():
    assert loaded("yolox_nano")[1].max_batch_size == 1
    assert loaded("picodet_s_416")[1].max_batch_size == 1
    assert loaded("deimv2_femto", max_batch=6)[1].max_batch_size == 6


def test_weights_listed_as_inputs_are_not_exposed_as_inputs():
    """PicoDet's file lists its 279 weights as graph inputs; the backend serves only `image`."""
    assert [spec.name for spec in loaded("picodet_s_416")[1].inputs] == ["image"]


def test_a_batch_gives_the_same_outputs_as_single_images():
    spec, backend = loaded("deimv2_femto")
    family = create_family(spec)
    prepared = []
    for name in ("persons", "pets", "vehicles"):
        data = seed_image(name)
        prepared.append(family.preprocess(decode_image(data, read_header(data, 10**8)).pixels))
    batch = {k: np.concatenate([p.inputs[k] for p in prepared]) for k in prepared[0].inputs}
    together = backend.infer(batch)
    for index, item in enumerate(prepared):
        alone = backend.infer(item.inputs)
        np.testing.assert_allclose(together["scores"][index], alone["scores"][0], atol=1e-4)


def test_auto_is_onnxruntime_without_a_gpu():
    assert resolve_backend_name("auto") == "onnxruntime"
