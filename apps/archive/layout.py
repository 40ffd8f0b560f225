"""Where an archived request event lives: its id, its image type and its storage keys.

Layout: ``<tenant>/<application_type>/<YYYY>/<MM>/<DD>/<event id>.<ext|json>``.

The AWS sample keyed objects by the camera's ``request_id`` and always used ``.png``: two cameras
sending the same request id overwrote each other, and JPEGs were stored as "PNG". Here the event
id is a random UUID minted by the portal when the request arrives (so a retried or duplicated
task reuses it and writes the same keys), and the extension comes from the image bytes.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, UnidentifiedImageError

# Formats a camera realistically sends; Pillow identifies them from the header alone (it does not
# decode pixels here), so sniffing stays cheap on the request path.
_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "GIF": ("gif", "image/gif"),
    "BMP": ("bmp", "image/bmp"),
    "WEBP": ("webp", "image/webp"),
    "TIFF": ("tif", "image/tiff"),
}


@dataclass(frozen=True)
class ImageType:
    extension: str
    content_type: str


def sniff_image_type(data: bytes) -> ImageType | None:
    """The image type of `data` from its content, or None when it is not an image we archive."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
            image_format = image.format
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    if image_format not in _FORMATS:
        return None
    extension, content_type = _FORMATS[image_format]
    return ImageType(extension, content_type)


def new_event_id() -> str:
    """A fresh, unguessable event id (UUID4 hex): unique across cameras, tenants and replicas."""
    return uuid.uuid4().hex


def event_key_stem(tenant: str, application_type: str, received_at: datetime, event_id: str) -> str:
    """The key of an event without extension; `received_at` must be timezone-aware (UTC used)."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    for part in (tenant, application_type, event_id):
        if not part or "/" in part or part in {".", ".."}:
            raise ValueError(f"unsafe key component: {part!r}")
    day = received_at.astimezone(UTC).strftime("%Y/%m/%d")
    return f"{tenant}/{application_type}/{day}/{event_id}"


def image_key(stem: str, image_type: ImageType) -> str:
    return f"{stem}.{image_type.extension}"


def record_key(stem: str) -> str:
    return f"{stem}.json"
