"""Event thumbnails are made once, by the archive task, and the web process only serves them:
a 6000x6000 PNG becomes a 360-pixel JPEG with its boxes drawn, and the events page's thumbnail
URL never opens an image."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import PIL.Image
import pytest
from django.test import Client
from PIL import Image

from apps.archive.models import ArchivedEvent
from apps.archive.records import RequestEvent
from apps.archive.store import purge_expired_events, store_event
from apps.archive.thumbnails import thumbnail_key, thumbnail_with_boxes
from tests.apps.archive.conftest import archive_files, event_message

pytestmark = pytest.mark.django_db

BOX = [600.0, 600.0, 4200.0, 5400.0]  # in the 6000x6000 image's pixels
RESPONSE = {
    "width": 6000,
    "height": 6000,
    "bbox_coords": [BOX],
    "bbox_scores": [[0.93]],
    "class_names": [["person"]],
}


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 60)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def big_png() -> bytes:
    return png(6000, 6000)


def test_a_6000_square_png_is_archived_with_a_small_thumbnail(archiving_a, archive, big_png):
    message = event_message(archiving_a, image=big_png, response=RESPONSE)
    store_event(message, archive)

    event = RequestEvent.from_message(message)
    stored = archive.get(thumbnail_key(event.record_key))
    assert len(stored) < 30_000
    with Image.open(io.BytesIO(stored)) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (360, 360))
        # The box's left edge (x = 600 of 6000 -> 36 of 360) is drawn in the person colour.
        red, green, blue = thumb.convert("RGB").getpixel((37, 180))
        assert red > 180 and green < 110 and blue < 110
        assert thumb.convert("RGB").getpixel((10, 10))[1] > 90  # the picture itself elsewhere
    assert sorted(archive_files(archive.root)) == sorted(
        [event.image_key, event.record_key, thumbnail_key(event.record_key)]
    )


def test_the_web_process_serves_the_thumbnail_without_decoding(
    archiving_a, archive, big_png, alice, monkeypatch
):
    message = event_message(archiving_a, image=big_png, response=RESPONSE)
    store_event(message, archive)
    client = Client()
    client.force_login(alice)
    opened = []
    real_open = PIL.Image.open
    monkeypatch.setattr(PIL.Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))

    response = client.get(f"/t/alpha/requests/{message['event_id']}/thumbnail.jpg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert len(response.content) < 30_000
    assert opened == []


def test_a_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 200, 200)).save(out, "JPEG")
    decoded = []
    real_load = Image.Image.load

    def spy_load(image):
        decoded.append(image.size)
        return real_load(image)

    monkeypatch.setattr(Image.Image, "load", spy_load)
    with Image.open(io.BytesIO(thumbnail_with_boxes(out.getvalue(), []))) as thumb:
        assert thumb.size == (360, 270)
    assert decoded and max(w for w, _ in decoded) <= 1000  # 1/8 DCT scale, never 4000 wide


def test_an_image_over_the_pixel_cap_is_archived_without_a_thumbnail(
    archiving_a, archive, settings
):
    settings.IPCAI_MAX_IMAGE_PIXELS = 1_000_000
    message = event_message(archiving_a, image=png(1200, 1000), response=RESPONSE)
    outcome = store_event(message, archive)
    event = RequestEvent.from_message(message)
    assert outcome.indexed is True
    assert not archive.exists(thumbnail_key(event.record_key))


def test_an_event_without_a_stored_thumbnail_answers_404_not_a_decode(archiving_a, archive, alice):
    message = event_message(archiving_a, response=RESPONSE)
    store_event(message, archive)
    event = RequestEvent.from_message(message)
    archive.delete([thumbnail_key(event.record_key)])  # as for events archived before
    client = Client()
    client.force_login(alice)
    assert client.get(f"/t/alpha/requests/{message['event_id']}/thumbnail.jpg").status_code == 404


def test_retention_removes_the_thumbnail_with_the_event(archiving_a, archive):
    old = datetime.now(UTC) - timedelta(days=400)
    message = event_message(archiving_a, received_at=old, response=RESPONSE)
    store_event(message, archive)
    assert purge_expired_events(storage=archive) == 1
    assert archive_files(archive.root) == []
    assert not ArchivedEvent.objects.exists()
