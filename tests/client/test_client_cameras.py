"""Both clients name the camera as the service expects (`?camera=`), against a real local HTTP
server that records the request; the live round trip is in test_cli_cameras.py."""

from __future__ import annotations

import asyncio

from ipcai import AsyncClient, Client

from harness.scripted_http import Reply
from tests.client.test_client import KEY, detection_body

CAMERA = "cam_0123456789abcdef"


def test_the_sync_and_async_clients_send_the_camera_id(server, images_dir):
    pets_jpeg = (images_dir / "pets.jpg").read_bytes()
    server.script(Reply(200, detection_body()), Reply(200, detection_body()))
    with Client(KEY, server.url) as client:
        client.detect(pets_jpeg, "pets-detection", camera=CAMERA)

    async def run():
        async with AsyncClient(KEY, server.url) as client:
            await client.detect(pets_jpeg, "pets-detection", min_confidence=0.4, camera=CAMERA)

    asyncio.run(run())
    first, second = server.received
    assert first.path == f"/api/v1/detect/pets-detection?camera={CAMERA}"
    assert second.path == f"/api/v1/detect/pets-detection?min_confidence=0.4&camera={CAMERA}"
