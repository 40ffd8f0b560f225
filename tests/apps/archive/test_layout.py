"""Event ids, image types from content, and the storage key layout."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from PIL import Image

from apps.archive import layout
from harness.processes import shared_dir


def encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(buffer, format=fmt)
    return buffer.getvalue()


def test_camera_jpeg_is_stored_as_jpg_not_png_as_the_sample_did():
    data = (shared_dir() / "images" / "persons.jpg").read_bytes()
    assert layout.sniff_image_type(data) == layout.ImageType("jpg", "image/jpeg")


@pytest.mark.parametrize(
    ("fmt", "extension", "content_type"),
    [
        ("PNG", "png", "image/png"),
        ("GIF", "gif", "image/gif"),
        ("BMP", "bmp", "image/bmp"),
        ("WEBP", "webp", "image/webp"),
        ("TIFF", "tif", "image/tiff"),
    ],
)
def test_extension_comes_from_the_bytes(fmt, extension, content_type):
    assert layout.sniff_image_type(encoded(fmt)) == layout.ImageType(extension, content_type)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b'{"image": "json"}', b"\xff\xd8", b"%PDF-1.7\n" + b"x" * 64],
)
def test_non_image_bytes_have_no_image_type(data):
    assert layout.sniff_image_type(data) is None


def test_two_cameras_with_the_same_request_id_get_distinct_event_ids():
    ids = {layout.new_event_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_key_layout_is_tenant_service_utc_day_event():
    # 23:30 at UTC-2 is already the next day in UTC: the key uses the UTC day.
    received = datetime(2025, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    stem = layout.event_key_stem("acme", "pets-detection", received, "abc123")
    assert stem == "acme/pets-detection/2025/03/05/abc123"
    assert layout.image_key(stem, layout.ImageType("png", "image/png")) == f"{stem}.png"
    assert layout.record_key(stem) == f"{stem}.json"


@pytest.mark.parametrize("bad", ["", "..", "a/b", "."])
def test_key_components_cannot_escape_their_folder(bad):
    with pytest.raises(ValueError):
        layout.event_key_stem(bad, "persons-detection", datetime.now(UTC), "e1")
    with pytest.raises(ValueError):
        layout.event_key_stem("acme", "persons-detection", datetime.now(UTC), bad)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        layout.event_key_stem("acme", "persons-detection", datetime(2025, 1, 1), "e1")
