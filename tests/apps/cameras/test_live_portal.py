"""Cameras on the portal as deployed (gunicorn with two processes, the real worker, Redis, a
fresh database), over plain HTTP the way cameras and their software call it: the camera's
filter gives the same kept boxes through all three endpoints, a zone edited through the API
applies in every gunicorn process from the next request, and a key bound through the API makes
a DeepStack client's frames the camera's."""

from __future__ import annotations

import base64

import pytest
import requests

from harness.images import seed_image
from harness.portal import Portal, running_portal

LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
PERSONS = seed_image("persons")


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Portal:
    with running_portal(tmp_path_factory.mktemp("cameras-portal"), worker_url, workers=2) as portal:
        yield portal


@pytest.fixture(scope="module")
def key(portal) -> str:
    return portal.create_tenant("alpha", ["persons-detection"])


def api(portal: Portal, method: str, path: str, key: str, body=None) -> requests.Response:
    return requests.request(
        method, f"{portal.base_url}{path}", json=body, headers={"x-api-key": key}, timeout=30
    )


def native(portal: Portal, key: str, camera: str | None = None) -> dict:
    response = requests.post(
        f"{portal.base_url}/api/v1/detect/persons-detection",
        params={"camera": camera} if camera else None,
        data=PERSONS,
        headers={"x-api-key": key, "Content-Type": "image/jpeg"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_same_kept_boxes_through_all_three_endpoints_with_a_bound_deepstack_key(portal, key):
    created = api(
        portal,
        "post",
        "/api/v1/cameras",
        key,
        {"name": "driveway", "zones": [{"name": "street", "kind": "mask", "points": LEFT_HALF}]},
    )
    assert created.status_code == 201, created.text
    camera = created.json()["id"]
    bound = api(portal, "post", f"/api/v1/cameras/{camera}/keys", key, {"name": "recorder"})
    bound_key = bound.json()["secret"]

    plain = native(portal, key)
    by_native = native(portal, key, camera)
    seed = requests.post(
        f"{portal.base_url}/inference",
        json={"image_base64_enc": base64.b64encode(PERSONS).decode(), "camera": camera},
        headers={"x-api-key": key},
        timeout=30,
    ).json()
    deepstack = requests.post(  # as Blue Iris or Frigate call it: the key, no camera id
        f"{portal.base_url}/v1/vision/detection",
        files={"image": ("frame.jpg", PERSONS, "image/jpeg")},
        data={"api_key": bound_key},
        timeout=30,
    ).json()

    kept = sorted(d["box"] for d in by_native["detections"])
    right = sorted(
        d["box"]
        for d in plain["detections"]
        if (d["box"][0] + d["box"][2]) / 2 >= plain["width"] / 2
    )
    assert kept == right and 0 < len(kept) < len(plain["detections"])
    assert sorted(seed["bbox_coords"]) == kept
    assert sorted(
        [p["x_min"], p["y_min"], p["x_max"], p["y_max"]] for p in deepstack["predictions"]
    ) == [[round(v) for v in box] for box in kept]


def test_an_edited_zone_applies_in_every_process_from_the_next_request(portal, key):
    camera = api(portal, "post", "/api/v1/cameras", key, {"name": "gate"}).json()["id"]
    # Several requests, so both gunicorn processes have the camera's snapshot memoised.
    assert all(native(portal, key, camera)["detections"] for _ in range(6))
    whole = [[0, 0], [1, 0], [1, 1], [0, 1]]
    changed = api(
        portal,
        "patch",
        f"/api/v1/cameras/{camera}",
        key,
        {"zones": [{"name": "all", "kind": "mask", "points": whole}]},
    )
    assert changed.status_code == 200
    assert all(native(portal, key, camera)["detections"] == [] for _ in range(6))
