"""JPEG decoding on the GPU (gpu_decode.py) against the CPU path it stands in for. The tests
that decode on a GPU need nvidia-nvimgcodec-cu12 (the gpu extra) and a CUDA device; elsewhere
they skip, and what is left checks the choice of decoder and the fallback to the CPU."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gpu_worker.config import SettingsError, WorkerSettings
from gpu_worker.detector import Detector
from gpu_worker.gpu_decode import GpuJpegDecoder, jpeg_decoder_for
from gpu_worker.images import decode_image, read_header
from harness.images import seed_image
from harness.processes import model_dir

GPU_DECODER = GpuJpegDecoder.create()
needs_gpu_decoder = pytest.mark.skipif(
    GPU_DECODER is None, reason="needs nvidia-nvimgcodec-cu12 (gpu extra) and an NVIDIA GPU"
)


class DecliningDecoder(GpuJpegDecoder):
    """A GPU decoder that declines every image, as nvJPEG does a stream it cannot take."""

    def __init__(self) -> None:
        pass

    def decode_bgr(self, data: bytes) -> np.ndarray | None:
        return None


def test_cpu_setting_and_cpu_models_never_use_the_gpu_decoder():
    assert jpeg_decoder_for("cpu", "cuda:0") is None
    assert jpeg_decoder_for("auto", "cpu") is None


@pytest.mark.skipif(GPU_DECODER is not None, reason="nvImageCodec and a GPU are present")
def test_insisting_on_nvjpeg_without_it_is_a_configuration_error():
    with pytest.raises(RuntimeError, match="nvidia-nvimgcodec-cu12"):
        jpeg_decoder_for("nvjpeg", "cuda:0")
    assert jpeg_decoder_for("auto", "cuda:0") is None  # auto falls back to the CPU


def test_decoder_setting_is_checked_by_name():
    assert WorkerSettings.from_env({"IPCAI_JPEG_DECODER": "CPU"}).jpeg_decoder == "cpu"
    with pytest.raises(SettingsError, match="IPCAI_JPEG_DECODER"):
        WorkerSettings.from_env({"IPCAI_JPEG_DECODER": "gpu"})


def test_an_image_the_gpu_declines_is_decoded_on_the_cpu():
    data = seed_image("persons")
    header = read_header(data, 10**8)
    fallback = decode_image(data, header, gpu=DecliningDecoder())
    assert np.array_equal(fallback.pixels, decode_image(data, header).pixels)


@needs_gpu_decoder
@pytest.mark.parametrize("name", ["persons", "pets", "vehicles"])
def test_gpu_decode_matches_the_cpu_decode(name):
    assert GPU_DECODER is not None
    data = seed_image(name)
    cpu = decode_image(data, read_header(data, 10**8)).pixels
    gpu = GPU_DECODER.decode_bgr(data)
    assert gpu is not None and gpu.shape == cpu.shape and gpu.dtype == np.uint8
    # Two IDCT and chroma-upsampling implementations: pixels within a few levels.
    difference = np.abs(gpu.astype(np.int16) - cpu.astype(np.int16))
    assert difference.mean() < 1.5 and np.percentile(difference, 99) <= 8


@needs_gpu_decoder
def test_detections_are_the_same_whichever_decoder_ran():
    settings = WorkerSettings(model_dir=model_dir(), model="yolox_nano", lanes=1, idle_threads=1)
    cpu = Detector.load(replace(settings, jpeg_decoder="cpu"))
    gpu = Detector.load(replace(settings, jpeg_decoder="nvjpeg"))
    assert gpu.gpu_decoder is not None
    for name in ("persons", "pets", "vehicles"):
        a = cpu.detect(seed_image(name))
        b = gpu.detect(seed_image(name))
        assert a.labels == b.labels
        np.testing.assert_allclose(a.boxes, b.boxes, atol=3)
