"""A camera's uploaded still is opened as JPEG or PNG only, and a decompression bomb is a
clear refusal, not a 500 (security review, issue 31, Low)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.cameras.models import CameraStill
from apps.cameras.services import create_camera, set_still
from apps.cameras.validation import CameraInvalid
from tests.apps.dashboard.conftest import signed_in


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")  # a few kB for hundreds of megapixels
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "GIF")
    return out.getvalue()


@pytest.fixture
def camera(tenant_a):
    return create_camera(tenant_a, {"name": "yard"})


def test_a_decompression_bomb_is_refused_clearly(camera):
    bomb = png(20000, 20000)
    assert len(bomb) < 1024 * 1024
    with pytest.raises(CameraInvalid, match="too many pixels"):
        set_still(camera, bomb)
    assert not CameraStill.objects.filter(camera=camera).exists()


def test_only_jpeg_and_png_are_opened(camera):
    with pytest.raises(CameraInvalid, match="not a JPEG or PNG"):
        set_still(camera, gif())


def test_the_dashboard_answers_a_bomb_with_its_message(alice, camera):
    client = signed_in(alice)
    base = f"/t/alpha/cameras/{camera.public_id}"
    bomb = SimpleUploadedFile("still.png", png(20000, 20000), content_type="image/png")
    answer = client.post(f"{base}/still/", {"image": bomb}, follow=True)
    assert answer.status_code == 200
    assert "too many pixels" in answer.content.decode()
