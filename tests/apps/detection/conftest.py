"""Request helpers for the detection API tests: the seed's own images and body."""

from __future__ import annotations

import base64

import orjson
import pytest

from harness.images import seed_image
from harness.processes import shared_dir

SEED_BODY = (shared_dir() / "images" / "post_data.txt").read_bytes()


def seed_body(image: bytes, **fields) -> bytes:
    """The seed's JSON body for `image`, plus any extra fields (application_type, ...)."""
    return orjson.dumps(
        {
            "timestamp": "1627433835.844257",
            "request_id": 1242322,
            "image_base64_enc": base64.b64encode(image).decode(),
            **fields,
        }
    )


@pytest.fixture
def post_seed(client):
    """POST /inference with a raw JSON body and an optional key."""

    def post(body: bytes, key: str | None = None, **extra):
        headers = {"HTTP_X_API_KEY": key} if key else {}
        return client.post(
            "/inference", data=body, content_type="application/json", **headers, **extra
        )

    return post


@pytest.fixture
def post_native(client):
    """POST /api/v1/detect/<type> with a raw image body."""

    def post(
        application_type: str, image: bytes, key: str | None, content_type="image/jpeg", query=""
    ):
        headers = {"HTTP_X_API_KEY": key} if key else {}
        return client.post(
            f"/api/v1/detect/{application_type}{query}",
            data=image,
            content_type=content_type,
            **headers,
        )

    return post


@pytest.fixture
def persons_jpg() -> bytes:
    return seed_image("persons")


@pytest.fixture
def pets_jpg() -> bytes:
    return seed_image("pets")


@pytest.fixture
def vehicles_jpg() -> bytes:
    return seed_image("vehicles")
