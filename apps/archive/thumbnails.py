"""Event thumbnails, made once by the archive task and stored beside the event's image.

The events page shows 24 thumbnails at a time; drawing them on request meant the web process
decoded up to 24 full archived images (a camera may send 40 MP) per page view. Here each
thumbnail is made once, in Celery, right after the event is stored: JPEGs are decoded at 1/2,
1/4 or 1/8 scale in the DCT (`Image.draft`), other formats are shrunk by integer `reduce` before
the final resample, and images over IPCAI_MAX_IMAGE_PIXELS are not decoded at all (the portal
already refuses such uploads; this guards images archived under an older limit). The web
process then only serves the small JPEG.
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from apps.core.storage import ArchiveStorage

logger = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 360
THUMBNAIL_CONTENT_TYPE = "image/jpeg"
BOX_COLOURS = {
    "person": (230, 57, 70),
    "dog": (29, 120, 216),
    "cat": (124, 58, 237),
}
OTHER_COLOUR = (242, 140, 40)


class ThumbnailError(ValueError):
    """The archived image cannot be made into a thumbnail (not an image, or too many pixels)."""


def thumbnail_key(record_key: str) -> str:
    """`<stem>.thumb.jpg` beside `<stem>.json`: derived from the record, so no index column."""
    stem = record_key.removesuffix(".json")
    return f"{stem}.thumb.jpg"


def detections_in(response: dict) -> list[dict]:
    """`[{label, score, box: [x1, y1, x2, y2]}]` from a stored response, in whichever format
    it was archived: the native `detections`, DeepStack's `predictions` (a request archives the
    answer its client received), or the seed-compatible lists."""
    if isinstance(response.get("detections"), list):
        return response["detections"]
    if isinstance(response.get("predictions"), list):
        return [
            {
                "label": p["label"],
                "score": p["confidence"],
                "box": [p["x_min"], p["y_min"], p["x_max"], p["y_max"]],
            }
            for p in response["predictions"]
        ]
    boxes = response.get("bbox_coords") or []
    scores = response.get("bbox_scores") or []
    names = response.get("class_names") or []
    return [
        {"label": name[0], "score": score[0], "box": box}
        for box, score, name in zip(boxes, scores, names, strict=False)
    ]


# EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _shrunk(image: bytes, width: int) -> tuple[Image.Image, float]:
    """The picture upright, RGB, at most `width` wide, and its scale from the upright original
    (the stored boxes are in those pixels)."""
    try:
        opened = Image.open(io.BytesIO(image))
    except (UnidentifiedImageError, OSError) as exc:
        raise ThumbnailError(f"not an image: {exc}") from None
    with opened:
        if opened.width * opened.height > settings.IPCAI_MAX_IMAGE_PIXELS:
            raise ThumbnailError(
                f"{opened.width}x{opened.height} is over {settings.IPCAI_MAX_IMAGE_PIXELS} px"
            )
        transpose = _UPRIGHT.get(opened.getexif().get(0x0112, 1))
        swapped = transpose in (
            Image.Transpose.TRANSPOSE,
            Image.Transpose.TRANSVERSE,
            Image.Transpose.ROTATE_90,
            Image.Transpose.ROTATE_270,
        )
        upright_width = opened.height if swapped else opened.width
        wanted = max(1, width * opened.width // upright_width)  # `width`, in stored orientation
        if opened.width > wanted:
            # JPEG only (a no-op otherwise): decode at the smallest DCT scale (1/2, 1/4, 1/8)
            # still at least `wanted` wide, never the full frame.
            opened.draft("RGB", (wanted, max(1, opened.height * wanted // opened.width)))
        picture = opened.convert("RGB")
    factor = picture.width // (2 * wanted)
    if factor >= 2:
        picture = picture.reduce(factor)  # integer box filter: cheap even at 36 MP
    if transpose is not None:
        picture = picture.transpose(transpose)
    if picture.width > width:
        height = max(1, round(picture.height * width / picture.width))
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    return picture, picture.width / upright_width


def thumbnail_with_boxes(
    image: bytes, detections: list[dict], width: int = THUMBNAIL_WIDTH
) -> bytes:
    """A JPEG `width` pixels wide (never upscaled) with each detection's box and label."""
    picture, scale = _shrunk(image, width)
    draw = ImageDraw.Draw(picture)
    line = max(3, round(picture.width / 120))
    font = ImageFont.load_default(size=max(12, picture.width // 26))
    for detection in detections:
        x1, y1, x2, y2 = (v * scale for v in detection["box"])
        colour = BOX_COLOURS.get(detection["label"], OTHER_COLOUR)
        draw.rectangle([x1, y1, x2, y2], outline=colour, width=line)
        text = f"{detection['label']} {detection['score']:.2f}"
        left, top, right, bottom = draw.textbbox((x1, y1), text, font=font)
        label_top = max(0, y1 - (bottom - top) - 4)
        draw.rectangle(
            [x1, label_top, x1 + (right - left) + 6, label_top + (bottom - top) + 4], fill=colour
        )
        draw.text((x1 + 3, label_top + 1 - (top - y1)), text, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=82)
    return out.getvalue()


def store_thumbnail(storage: ArchiveStorage, record_key: str, image: bytes, response: dict) -> bool:
    """Make and store the event's thumbnail unless it exists; True when written now.

    An image that cannot be thumbnailed is logged and skipped (False), so a bad image never
    makes the archive task retry; storage errors propagate and are retried like the event's
    other objects."""
    key = thumbnail_key(record_key)
    if storage.exists(key):
        return False
    try:
        data = thumbnail_with_boxes(image, detections_in(response))
    except (ThumbnailError, OSError, ValueError, Image.DecompressionBombError) as exc:
        logger.warning("no thumbnail for %s: %s", record_key, exc)
        return False
    return storage.put_once(key, data, THUMBNAIL_CONTENT_TYPE)
