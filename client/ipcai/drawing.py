"""Draw detection boxes on an image with Pillow, for people who would rather look than read.

Line width and font size follow the image size so the boxes stay legible on a 4K frame and
on a thumbnail; each label keeps one colour across images and runs.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ipcai.images import ImageInput, encode_image
from ipcai.models import Detection, DetectionResult

# Distinct, colour-blind friendly colours (Okabe-Ito), then a few more.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
    (255, 255, 255),
    (120, 200, 80),
    (255, 80, 80),
)


def label_color(label: str) -> tuple[int, int, int]:
    """The same colour for a label every time (crc32, unlike hash(), is not salted per run)."""
    return PALETTE[zlib.crc32(label.encode()) % len(PALETTE)]


def open_image(image: ImageInput) -> Image.Image:
    """A Pillow RGB image from bytes, a path or a Pillow image."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    data, _ = encode_image(image)
    with Image.open(io.BytesIO(data)) as decoded:
        return decoded.convert("RGB")


def _matching_orientation(image: Image.Image, result: DetectionResult | None) -> Image.Image:
    # A phone photo stores its rotation in EXIF; if the service measured the rotated image,
    # draw on the rotated image too, or every box lands in the wrong place.
    if result is None or image.size == (result.width, result.height):
        return image
    rotated = ImageOps.exif_transpose(image)
    return rotated if rotated.size == (result.width, result.height) else image


def draw_detections(
    image: ImageInput,
    detections: DetectionResult | Iterable[Detection],
    *,
    show_scores: bool = True,
) -> Image.Image:
    """A copy of `image` with a box and a `label score` tag for each detection."""
    if isinstance(detections, DetectionResult):
        result: DetectionResult | None = detections
        items = detections.detections
    else:
        result, items = None, tuple(detections)
    canvas = _matching_orientation(open_image(image), result).copy()
    draw = ImageDraw.Draw(canvas)
    short_side = min(canvas.size)
    line_width = max(2, round(short_side / 250))
    font = ImageFont.load_default(size=max(12, round(short_side / 40)))
    for detection in items:
        color = label_color(detection.label)
        box = detection.box
        draw.rectangle(box.as_list(), outline=color, width=line_width)
        text = f"{detection.label} {detection.score:.2f}" if show_scores else detection.label
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        pad = line_width
        tag_height = bottom - top + 2 * pad
        # Put the tag above the box, or inside it when the box touches the top edge.
        tag_y = box.y1 - tag_height if box.y1 - tag_height >= 0 else box.y1
        draw.rectangle(
            [box.x1, tag_y, box.x1 + right - left + 2 * pad, tag_y + tag_height], fill=color
        )
        draw.text((box.x1 + pad - left, tag_y + pad - top), text, fill=(0, 0, 0), font=font)
    return canvas
