"""A camera driven over HTTP as a real one would: create it, then post frames with capture
timestamps (the camera-events tests, the client tests and the camera-events benchmark)."""

from __future__ import annotations

import requests

DETECT_PERSONS = "/api/v1/detect/persons-detection"


def create_camera(base_url: str, key: str, name: str) -> str:
    """A new camera of the key's tenant; its id (`cam_...`)."""
    response = requests.post(
        f"{base_url}/api/v1/cameras", json={"name": name}, headers={"x-api-key": key}, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def post_frame(
    session: requests.Session | None,
    base_url: str,
    key: str,
    camera: str,
    jpeg: bytes,
    captured_at: float,
    path: str = DETECT_PERSONS,
) -> requests.Response:
    """One frame of the camera, captured at `captured_at` (Unix seconds), as a raw JPEG."""
    return (session or requests).post(
        f"{base_url}{path}",
        params={"camera": camera, "timestamp": f"{captured_at:.3f}"},
        data=jpeg,
        headers={"x-api-key": key, "Content-Type": "image/jpeg"},
        timeout=60,
    )
