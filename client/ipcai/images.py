"""Turn what a caller has (bytes, a path, a Pillow image) into a body the service accepts.

The native endpoint takes raw JPEG or PNG. Those are sent untouched (re-encoding would cost
time and quality); anything else Pillow can read (BMP, WebP, TIFF...) is converted to JPEG
here, so `ipcai detect` works on whatever a camera saved.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Union

from PIL import Image, UnidentifiedImageError

from ipcai.errors import IpcaiError

ImageInput = Union[bytes, bytearray, memoryview, str, os.PathLike, Image.Image]  # noqa: UP007

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# File extensions `ipcai detect` picks up when given a folder.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class ImageError(IpcaiError):
    """The input is not an image this client can send."""

    code = "unreadable_image"


def sniff_content_type(data: bytes) -> str | None:
    """'image/jpeg' or 'image/png' from the first bytes, None for anything else."""
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    return None


def encode_pillow(image: Image.Image, quality: int = 95) -> bytes:
    """JPEG bytes of a Pillow image (alpha and palettes flattened to RGB)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def encode_image(image: ImageInput) -> tuple[bytes, str]:
    """(body, content type) for an image given as bytes, a file path or a Pillow image."""
    if isinstance(image, Image.Image):
        return encode_pillow(image), "image/jpeg"
    if isinstance(image, str | os.PathLike):
        try:
            data = Path(image).read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read {image}: {exc.strerror or exc}") from exc
    elif isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
    else:
        raise TypeError(f"expected bytes, a path or a PIL.Image, got {type(image).__name__}")
    content_type = sniff_content_type(data)
    if content_type:
        return data, content_type
    try:
        with Image.open(io.BytesIO(data)) as decoded:
            return encode_pillow(decoded), "image/jpeg"
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError("not an image (expected JPEG, PNG or a format Pillow reads)") from exc
