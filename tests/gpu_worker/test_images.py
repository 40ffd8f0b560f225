"""Header checks and decoding of untrusted bytes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gpu_worker.errors import WorkerError
from gpu_worker.images import decode_image, jpeg_scale_divisor, read_header
from harness.images import encode, seed_image, seed_pixels


def test_jpeg_header_gives_size_without_decoding():
    header = read_header(seed_image("persons"), max_pixels=10**8)
    assert (header.format, header.width, header.height, header.channels) == ("jpeg", 819, 546, 3)


def test_huge_png_is_refused_from_the_header(huge_png_bytes):
    with pytest.raises(WorkerError) as refused:
        read_header(huge_png_bytes, max_pixels=40_000_000)
    assert refused.value.status == 413 and refused.value.code == "image_too_large"


@pytest.mark.parametrize(
    ("size", "minimum", "divisor"),
    [
        ((3840, 2160), (416, 234), 8),  # 4K frame, letterboxed model input
        ((1920, 1080), (416, 234), 4),
        ((1920, 1080), (416, 416), 2),  # stretched model input needs height >= 416
        ((819, 546), (416, 277), 1),  # 1/2 would be 410x273: smaller than the model needs
        ((640, 480), (416, 312), 1),
    ],
)
def test_jpeg_is_downscaled_only_as_far_as_the_model_input_allows(size, minimum, divisor):
    assert jpeg_scale_divisor(*size, *minimum) == divisor


def test_large_jpeg_is_decoded_at_reduced_scale_never_below_the_minimum():
    big = encode(cv2.resize(seed_pixels("persons"), (3276, 2184)))
    header = read_header(big, max_pixels=10**8)
    decoded = decode_image(big, header, min_size=(416, 278))
    # 1/8 would give 410x273, below the minimum; 1/4 gives 819x546.
    assert decoded.pixels.shape[:2] == (546, 819)
    assert decoded.scale_to_original == (4.0, 4.0)


def test_full_decode_without_a_minimum_keeps_every_pixel():
    header = read_header(seed_image("persons"), max_pixels=10**8)
    decoded = decode_image(seed_image("persons"), header)
    assert decoded.pixels.shape == (546, 819, 3) and decoded.pixels.dtype == np.uint8


@pytest.mark.parametrize("ext", [".png", ".bmp", ".webp", ".tiff"])
def test_other_formats_decode_to_the_same_size(ext):
    data = encode(seed_pixels("pets"), ext)
    header = read_header(data, max_pixels=10**8)
    assert header.format in ext
    assert decode_image(data, header).pixels.shape == (868, 650, 3)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_image"),
        (b"plain text pretending to be a photo", "not_an_image"),
        (b"\xff\xd8\xff\xe0garbage", "corrupt_image"),
        (b"%PDF-1.7\n", "not_an_image"),
    ],
)
def test_non_images_are_400_with_a_code(data, code):
    with pytest.raises(WorkerError) as refused:
        read_header(data, max_pixels=10**8)
    assert refused.value.status == 400 and refused.value.code == code
