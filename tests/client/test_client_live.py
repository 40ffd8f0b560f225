"""The library (sync and async) against a real portal and worker, including the portal's own
429 + Retry-After when a key goes over its rate limit."""

from __future__ import annotations

import asyncio
import time

import pytest
from ipcai import AsyncClient, AuthenticationError, Client, ConfigurationError, PermissionDenied
from ipcai.drawing import draw_detections
from PIL import Image

from harness.portal import running_portal
from tests.gpu_worker.test_detector_slicing import distant_persons_frame


def test_typed_results_and_drawing_for_the_pets_image(live_portal, api_key, images_dir):
    with Client(api_key, live_portal.base_url) as client:
        result = client.detect(images_dir / "pets.jpg", "pets-detection")
        strict = client.detect(images_dir / "pets.jpg", "pets-detection", min_confidence=0.745)

    assert result.counts() == {"dog": 3}
    assert result.model
    assert result.request_id
    assert (result.width, result.height) == Image.open(images_dir / "pets.jpg").size
    assert all(0 <= d.box.x1 < d.box.x2 <= result.width for d in result.detections)
    assert 0 < len(strict.detections) < 3
    assert all(d.score >= 0.745 for d in strict.detections)
    annotated = draw_detections(images_dir / "pets.jpg", result)
    assert annotated.size == (result.width, result.height)


def test_slices_auto_finds_distant_people_and_says_which_slices_ran(live_portal, api_key):
    frame = distant_persons_frame()  # 1920x1080, five pedestrians far off in the lower right
    with Client(api_key, live_portal.base_url) as client:
        plain = client.detect(frame, "persons-detection")
        sliced = client.detect(frame, "persons-detection", slices="auto")
        off = client.detect(frame, "persons-detection", slices="off")
        with pytest.raises(ConfigurationError):
            client.detect(frame, "persons-detection", slices="sometimes")

    assert plain.slices is None and off.slices is None
    assert sliced.slices is not None and sliced.slices["requested"] == "auto"
    assert sliced.slices["planned"] >= 2  # a CPU worker runs those holding a candidate
    assert 1 <= sliced.slices["count"] == len(sliced.slices["windows"])
    assert all(
        0 <= x1 < x2 <= 1920 and 0 <= y1 < y2 <= 1080 for x1, y1, x2, y2 in sliced.slices["windows"]
    )
    assert sliced.counts().get("person", 0) > plain.counts().get("person", 0)
    assert off.counts() == plain.counts()
    assert sliced.to_json()["slices"] == sliced.slices


def test_async_client_detects_several_images_at_once(live_portal, api_key, images_dir):
    names = ["persons.jpg", "pets.jpg", "vehicles.jpg"]

    async def run():
        async with AsyncClient(api_key, live_portal.base_url, max_connections=3) as client:
            return await asyncio.gather(
                *(client.detect(images_dir / n, "vehicles-detection") for n in names)
            )

    results = asyncio.run(run())
    assert [r.service for r in results] == ["vehicles-detection"] * 3
    assert results[1].counts() == {}  # no vehicles among the dogs
    assert results[2].counts().get("bus", 0) >= 2


def test_auth_and_permission_errors_carry_the_portals_code(live_portal, images_dir):
    persons_only = live_portal.create_tenant("persons-only", services=["persons-detection"])
    with Client(persons_only, live_portal.base_url) as client, pytest.raises(PermissionDenied) as e:
        client.detect(images_dir / "pets.jpg", "pets-detection")
    assert e.value.code == "service_not_enabled"
    wrong_key = Client("ipcai_000000000000_x", live_portal.base_url)
    with wrong_key as client, pytest.raises(AuthenticationError) as e:
        client.detect(images_dir / "pets.jpg", "pets-detection")
    assert e.value.code == "invalid_api_key"


class SleepThatRecords:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)  # really wait: the portal's rate window must pass


def test_over_the_rate_limit_the_client_waits_as_the_portal_says(
    tmp_path, live_worker_url, images_dir
):
    limits = {"IPCAI_RATE_LIMIT_REQUESTS": "1", "IPCAI_RATE_LIMIT_WINDOW_S": "1"}
    with running_portal(tmp_path, live_worker_url, **limits) as portal:
        key = portal.create_tenant("busy-camera", services=["pets-detection"])
        sleep = SleepThatRecords()
        with Client(key, portal.base_url, sleep=sleep) as client:
            # One request per second: back-to-back requests land in the same window, and the
            # portal answers 429 with Retry-After until the next one.
            results = [client.detect(images_dir / "pets.jpg", "pets-detection") for _ in range(4)]

    assert [r.counts() for r in results] == [{"dog": 3}] * 4
    assert sleep.delays
    assert all(0 < d <= 1 for d in sleep.delays)
