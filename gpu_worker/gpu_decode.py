"""JPEG decoding on the GPU (nvJPEG through NVIDIA's nvImageCodec), the CPU path its fallback.

On a CPU host the JPEG decode is most of what a request costs outside inference (2.0 of
~3 CPU ms for the seed's 819x546 persons.jpg, 1.5 of them the entropy decoding alone, which
no CPU-side trick removes), so on a GPU host it is what limits how many requests the host's
few vCPUs can feed the GPU. nvImageCodec hands the JPEG to nvJPEG (the hardware decoder where
the GPU has one, else its CUDA kernels); the pixels come back to host memory and the same
model-input step as the CPU path makes the tensor (families/base.py: model_input), so every
model sees the same input whichever decoder ran.

Optional: `nvidia-nvimgcodec-cu12` ships only in the `gpu` extra. IPCAI_JPEG_DECODER=auto
(the default) uses it when it imports and the model runs on a CUDA device; `cpu` never does;
`nvjpeg` insists (the worker refuses to start without it). Anything nvImageCodec cannot
decode (a CMYK JPEG, a truncated frame) goes to the CPU decoder, so a client never sees a
difference but speed. Not measured yet on a GPU: docs/BENCHMARKS.md says so.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)


class GpuJpegDecoder:
    """One nvImageCodec decoder per thread (a decoder keeps per-call state), on one device."""

    def __init__(self, nvimgcodec: Any, device_id: int) -> None:
        self._nvimgcodec = nvimgcodec
        self._device_id = device_id
        self._local = threading.local()

    @classmethod
    def create(cls, device_id: int = 0) -> GpuJpegDecoder | None:
        """The decoder, or None where nvImageCodec or a CUDA device is missing."""
        try:
            from nvidia import nvimgcodec  # type: ignore[import-not-found]  # GPU image only

            decoder = cls(nvimgcodec, device_id)
            decoder._decoder()  # fails here, at start-up, without a usable device
        except Exception as exc:  # ImportError, or a CUDA error from a host without a GPU
            log.info("GPU JPEG decoding unavailable", extra={"fields": {"reason": str(exc)}})
            return None
        return decoder

    def _decoder(self) -> Any:
        decoder = getattr(self._local, "decoder", None)
        if decoder is None:
            nvimgcodec = self._nvimgcodec
            backend = nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)
            decoder = nvimgcodec.Decoder(device_id=self._device_id, backends=[backend])
            self._local.decoder = decoder
        return decoder

    def decode_bgr(self, data: bytes) -> np.ndarray | None:
        """BGR uint8 HxWx3 pixels at full size, or None when the GPU decoder declines (the
        caller then decodes on the CPU)."""
        try:
            image = self._decoder().decode(data)
            if image is None:
                return None
            rgb = np.asarray(image.cpu())
        except Exception:  # a stream nvJPEG does not support: the CPU path takes it
            return None
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            return None
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def jpeg_decoder_for(setting: str, device: str) -> GpuJpegDecoder | None:
    """The GPU decoder IPCAI_JPEG_DECODER asks for on this model's device, or None for the
    CPU path. `nvjpeg` without nvImageCodec or a GPU is a configuration error."""
    if setting == "cpu" or (setting == "auto" and not device.startswith("cuda")):
        return None
    index = device.partition(":")[2]
    decoder = GpuJpegDecoder.create(int(index) if index.isdigit() else 0)
    if decoder is None and setting == "nvjpeg":
        raise RuntimeError(
            "IPCAI_JPEG_DECODER=nvjpeg needs nvidia-nvimgcodec-cu12 (the worker's gpu extra) "
            "and a CUDA device"
        )
    return decoder
