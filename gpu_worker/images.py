"""Turn untrusted image bytes into pixels, refusing oversized or broken input cheaply.

Sizes are read from the header before anything is decoded, so a 20000x20000 PNG costs a few
hundred bytes of parsing, not 1.2 GB of memory. JPEG (the cameras' format) goes through
libjpeg-turbo (simplejpeg) and, when the frame is much larger than the model input, is decoded
at 1/2, 1/4 or 1/8 scale in the DCT domain: a 4K frame then costs a fraction of a full decode
and arrives already low-pass filtered for the resize that follows.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError

from gpu_worker.errors import bad_request, too_large
from gpu_worker.gpu_decode import GpuJpegDecoder

# We check pixel counts ourselves, against our own setting, before decoding.
Image.MAX_IMAGE_PIXELS = None
cv2.setNumThreads(1)  # parallelism comes from request threads; nested pools only oversubscribe

JPEG_MAGIC = b"\xff\xd8\xff"
OTHER_FORMATS = {"PNG", "BMP", "WEBP", "GIF", "TIFF"}
JPEG_SCALE_DIVISORS = (8, 4, 2)  # libjpeg-turbo's fast power-of-two IDCT scalings


@dataclass(frozen=True)
class ImageHeader:
    format: str  # "jpeg", "png", ...
    width: int
    height: int
    channels: int


@dataclass(frozen=True)
class DecodedImage:
    """BGR uint8 pixels plus the original size; pixels may be smaller (DCT scaling)."""

    pixels: np.ndarray
    header: ImageHeader

    @property
    def scale_to_original(self) -> tuple[float, float]:
        height, width = self.pixels.shape[:2]
        return self.header.width / width, self.header.height / height


def read_header(data: bytes, max_pixels: int) -> ImageHeader:
    """Format and size from the header only; 400 if not an image, 413 if too many pixels."""
    if not data:
        raise bad_request("empty_image", "the image is empty (0 bytes)")
    header = _jpeg_header(data) if data.startswith(JPEG_MAGIC) else _other_header(data)
    if header.width <= 0 or header.height <= 0:
        raise bad_request("corrupt_image", "the image header gives a zero width or height")
    pixels = header.width * header.height
    if pixels > max_pixels:
        raise too_large(
            "image_too_large",
            f"image is {header.width}x{header.height} ({pixels / 1e6:.1f} MP); the limit is "
            f"{max_pixels / 1e6:.1f} MP (IPCAI_MAX_PIXELS)",
        )
    return header


def _jpeg_header(data: bytes) -> ImageHeader:
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError as exc:
        raise bad_request("corrupt_image", f"the JPEG header cannot be read: {exc}") from None
    channels = 1 if colorspace.lower() == "gray" else 3
    return ImageHeader("jpeg", int(width), int(height), channels)


def _other_header(data: bytes) -> ImageHeader:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))  # lazy: parses the header, decodes nothing
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise bad_request(
            "not_an_image", "the body is not an image this service can read (JPEG, PNG, ...)"
        ) from None
    if image.format not in OTHER_FORMATS:
        raise bad_request(
            "unsupported_image_format",
            f"{image.format} images are not supported; send JPEG, PNG, BMP, WebP, GIF or TIFF",
        )
    channels = {"L": 1, "LA": 2, "RGBA": 4, "I": 1, "I;16": 1, "1": 1}.get(image.mode, 3)
    return ImageHeader(image.format.lower(), image.width, image.height, channels)


def jpeg_scale_divisor(width: int, height: int, min_width: int, min_height: int) -> int:
    """Largest power-of-two reduction that keeps the image at least min_width x min_height."""
    for divisor in JPEG_SCALE_DIVISORS:
        if math.ceil(width / divisor) >= min_width and math.ceil(height / divisor) >= min_height:
            return divisor
    return 1


def decode_image(
    data: bytes,
    header: ImageHeader,
    min_size: tuple[int, int] | None = None,
    fast: bool = False,
    gpu: GpuJpegDecoder | None = None,
) -> DecodedImage:
    """Decode to BGR pixels once read_header has accepted the data. min_size (w, h) is the
    smallest size the model still benefits from: JPEGs at least twice as large are decoded at
    a reduced scale (None decodes at full size). With `gpu`, a JPEG that the CPU could not
    reduce by more than half is decoded on the GPU (gpu_decode.py); larger frames keep the
    CPU's 1/4 and 1/8 DCT scaling rather than copy every pixel back from the device."""
    try:
        pixels = None
        if gpu is not None and header.format == "jpeg" and _gpu_worth_it(header, min_size):
            pixels = gpu.decode_bgr(data)
        if pixels is None and header.format == "jpeg":
            pixels = _decode_jpeg(data, header, min_size, fast)
        elif pixels is None:
            pixels = _decode_other(data)
    except (cv2.error, ValueError, OSError, SyntaxError):
        pixels = None  # a malformed image is the client's problem (400), never a 500
    if pixels is None or pixels.size == 0:
        raise bad_request("corrupt_image", f"the {header.format.upper()} data cannot be decoded")
    return DecodedImage(np.ascontiguousarray(pixels), header)


def _gpu_worth_it(header: ImageHeader, min_size: tuple[int, int] | None) -> bool:
    if min_size is None:
        return True
    return jpeg_scale_divisor(header.width, header.height, *min_size) <= 2


def _decode_jpeg(
    data: bytes, header: ImageHeader, min_size: tuple[int, int] | None, fast: bool
) -> np.ndarray | None:
    divisor = 1
    if min_size is not None:
        divisor = jpeg_scale_divisor(header.width, header.height, *min_size)
    try:
        return simplejpeg.decode_jpeg(
            data,
            colorspace="BGR",
            fastdct=fast,
            fastupsample=fast,
            min_width=math.ceil(header.width / divisor),
            min_height=math.ceil(header.height / divisor),
            strict=False,  # cameras often send a frame with a few missing bytes at the end
        )
    except ValueError:
        # libjpeg-turbo cannot convert some colour spaces (CMYK, YCCK) to BGR; OpenCV can.
        return _decode_other(data)


def _decode_other(data: bytes) -> np.ndarray | None:
    buffer = np.frombuffer(data, dtype=np.uint8)
    pixels = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if pixels is not None:
        return pixels
    try:  # formats OpenCV lacks (e.g. GIF on some builds)
        with Image.open(io.BytesIO(data)) as image:
            rgb = np.asarray(image.convert("RGB"))
        return rgb[:, :, ::-1]
    except (OSError, ValueError, SyntaxError):
        return None
