"""Bounded, header-only checks of uploaded images before anything is forwarded to the worker.

The worker checks again (it is standalone); checking here too means junk, 0-byte bodies and
decompression bombs are refused at the edge with the same JSON error whatever the inference
backend, and never cost a worker round trip. Only the header is parsed: a 20000x20000 PNG costs
a few hundred bytes of reading, never 1.2 GB of pixels.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass

import pybase64
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from apps.core.errors import ApiError

# The portal accepts what cameras send; the worker can read more, but the API promises these.
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True, slots=True)
class CheckedImage:
    data: bytes
    content_type: str  # what the worker is told the body is
    width: int
    height: int


def decode_base64_image(text: object, field: str) -> bytes:
    """Bytes of a base64 (or data: URL) string; 400 with the field's name when it is not."""
    if not isinstance(text, str) or not text:
        raise ApiError(400, "missing_image", f"Send the image as a base64 string in {field!r}.")
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        # pybase64 decodes with SIMD and checks the alphabet as it goes: 0.02 ms for the seed's
        # 270 KB body where binascii's strict mode took 0.6 ms, an eighth of the portal's CPU
        # per request (docs/BENCHMARKS.md, "Portal tail latency").
        return pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:  # line-wrapped base64 (MIME style) is common from older camera firmware
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            400, "invalid_base64", f"{field!r} is not valid base64-encoded image data."
        ) from None


def check_image(data: bytes) -> CheckedImage:
    """Refuse empty, oversized, non-image or unsupported bodies from the header alone."""
    if not data:
        raise ApiError(400, "empty_image", "The image is empty (0 bytes).")
    max_bytes = settings.IPCAI_MAX_IMAGE_BYTES
    if len(data) > max_bytes:
        raise ApiError(
            413,
            "image_too_large",
            f"The image is {len(data)} bytes; the limit is {max_bytes} bytes.",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: we check pixels below
            image = Image.open(io.BytesIO(data))  # lazy: reads the header, decodes nothing
    except Image.DecompressionBombError:
        raise _too_many_pixels(None, None) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ApiError(400, "not_an_image", "The data is not a JPEG or PNG image.") from None
    content_type = CONTENT_TYPES.get(image.format or "")
    if content_type is None:
        raise ApiError(
            415,
            "unsupported_image_format",
            f"{image.format} images are not supported; send JPEG or PNG.",
        )
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ApiError(400, "corrupt_image", "The image header gives a zero width or height.")
    if width * height > settings.IPCAI_MAX_IMAGE_PIXELS:
        raise _too_many_pixels(width, height)
    return CheckedImage(data=data, content_type=content_type, width=width, height=height)


def _too_many_pixels(width: int | None, height: int | None) -> ApiError:
    limit_mp = settings.IPCAI_MAX_IMAGE_PIXELS / 1e6
    size = f"{width}x{height}" if width else "too large"
    return ApiError(
        413, "image_too_large", f"The image is {size}; the limit is {limit_mp:.1f} megapixels."
    )
