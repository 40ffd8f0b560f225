"""Detections of an archived response, and event thumbnails with their boxes drawn.

Thumbnails are drawn here, once per event and cached by the browser, rather than in the page:
an events grid of fifty images would otherwise need fifty response records in the page too.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont, ImageOps

THUMBNAIL_WIDTH = 360
BOX_COLOURS = {
    "person": (230, 57, 70),
    "dog": (29, 120, 216),
    "cat": (124, 58, 237),
}
OTHER_COLOUR = (242, 140, 40)


def detections_in(response: dict) -> list[dict]:
    """`[{label, score, box: [x1, y1, x2, y2]}]` from a stored response, in whichever format
    it was archived: the native `detections`, DeepStack's `predictions`, or the seed's lists."""
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


def thumbnail_with_boxes(
    image: bytes, detections: list[dict], width: int = THUMBNAIL_WIDTH
) -> bytes:
    """A JPEG `width` pixels wide (never upscaled) with each detection's box and label."""
    with Image.open(io.BytesIO(image)) as opened:
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    scale = min(1.0, width / picture.width)
    if scale < 1.0:
        picture = picture.resize(
            (round(picture.width * scale), round(picture.height * scale)), Image.Resampling.LANCZOS
        )
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
