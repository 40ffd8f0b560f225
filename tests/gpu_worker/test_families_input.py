"""The fused model-input step (families/base.py: model_input) against the former one: resize,
letterbox canvas, OpenCV's blobFromImage and normalisation in separate passes. Same tensor,
so the accuracy measured with the old path still holds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gpu_worker.families import create_family
from gpu_worker.families.base import Family, resize
from gpu_worker.manifest import get_spec
from harness.images import seed_pixels
from harness.processes import model_dir

MODELS = ("yolox_nano", "picodet_s_416", "deimv2_femto")


def reference_tensor(family: Family, image: np.ndarray) -> np.ndarray:
    """The tensor as the families built it before the fused step."""
    layout = family.layout
    if layout.letterbox:
        src_h, src_w = image.shape[:2]
        ratio = min(layout.width / src_w, layout.height / src_h)
        new_w, new_h = max(1, int(src_w * ratio)), max(1, int(src_h * ratio))
        canvas = np.full((layout.height, layout.width, 3), layout.pad, np.uint8)
        canvas[:new_h, :new_w] = resize(image, new_w, new_h)
    else:
        canvas = resize(image, layout.width, layout.height)
    blob = np.asarray(cv2.dnn.blobFromImage(canvas, swapRB=layout.rgb), np.float32)
    scale = np.array(layout.scale, np.float32).reshape(1, 3, 1, 1)
    offset = np.array(layout.offset, np.float32).reshape(1, 3, 1, 1)
    return blob * scale + offset


def images() -> dict[str, np.ndarray]:
    persons = seed_pixels("persons")  # 819x546: wider than tall
    pets = seed_pixels("pets")  # 650x868: taller than wide
    return {
        "persons": persons,
        "pets": pets,
        "4x upscaled (area shrink)": cv2.resize(persons, (3276, 2184)),
        "a slice (a view, not contiguous)": persons[100:400, 200:700],
        "tiny": persons[:5, :7],
    }


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", list(images()))
def test_fused_model_input_equals_the_former_separate_passes(model, name):
    family = create_family(get_spec(model, model_dir()))
    image = images()[name]
    prepared = family.preprocess(image)
    tensor = prepared.inputs[family.input_name]
    assert tensor.shape == (1, 3, family.input_height, family.input_width)
    assert tensor.dtype == np.float32 and tensor.flags.c_contiguous
    np.testing.assert_allclose(tensor, reference_tensor(family, image), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("model", MODELS)
def test_scale_maps_tensor_pixels_back_to_the_decoded_image(model):
    family = create_family(get_spec(model, model_dir()))
    prepared = family.preprocess(seed_pixels("persons"))
    if family.letterbox:
        ratio = min(family.input_width / 819, family.input_height / 546)
        assert prepared.scale_x == prepared.scale_y == pytest.approx(1 / ratio)
    else:
        assert prepared.scale_x == pytest.approx(819 / family.input_width)
        assert prepared.scale_y == pytest.approx(546 / family.input_height)
