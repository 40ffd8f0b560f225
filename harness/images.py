"""Test images built from real data: the seed's photos, re-encoded, resized or malformed."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from harness.processes import shared_dir


def seed_image(name: str) -> bytes:
    """persons.jpg, pets.jpg or vehicles.jpg from shared/images."""
    return (shared_dir() / "images" / f"{name}.jpg").read_bytes()


def seed_pixels(name: str) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(seed_image(name), np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None, f"{name}.jpg does not decode"
    return pixels


def encode(pixels: np.ndarray, ext: str = ".jpg", quality: int = 92) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == ".jpg" else []
    ok, buffer = cv2.imencode(ext, pixels, params)
    assert ok
    return buffer.tobytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A genuine, fully valid black RGB PNG of width x height (400 MP for the default), written
    row by row so building it never holds the 1.2 GB of pixels: it compresses to ~1.2 MB."""
    compressor = zlib.compressobj(1)
    row = b"\x00" * (1 + 3 * width)  # filter byte + RGB
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )
    return path


def region_jpeg(name: str, size: int = 320) -> bytes:
    """What a region-based client such as Frigate sends: the frame's centre square resized to
    the detector's input size, encoded by PIL from RGB pixels with PIL's default settings."""
    from PIL import Image

    pixels = seed_pixels(name)
    height, width = pixels.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    region = cv2.resize(pixels[top : top + side, left : left + side], (size, size))
    output = io.BytesIO()
    Image.fromarray(cv2.cvtColor(region, cv2.COLOR_BGR2RGB)).save(output, format="JPEG")
    return output.getvalue()
