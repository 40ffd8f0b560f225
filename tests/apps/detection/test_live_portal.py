"""The portal as deployed: gunicorn, the real worker, Celery worker + beat, Redis, a fresh
database, driven over HTTP with plain `requests` the way cameras and their software do."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import requests

from harness.images import seed_image
from harness.portal import Portal, running_portal
from tests.apps.detection.conftest import SEED_BODY


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Portal:
    with running_portal(
        tmp_path_factory.mktemp("portal"),
        worker_url,
        celery=True,
        IPCAI_USAGE_DRAIN_INTERVAL_S="0.5",
    ) as portal:
        yield portal


@pytest.fixture(scope="module")
def keys(portal) -> dict[str, str]:
    return {
        "alpha": portal.create_tenant("alpha", ["persons-detection", "pets-detection"]),
        "bravo": portal.create_tenant("bravo", ["vehicles-detection"]),
    }


def test_the_seed_load_test_body_through_gunicorn(portal, keys):
    response = requests.post(
        f"{portal.base_url}/inference",
        data=SEED_BODY,
        headers={"x-api-key": keys["alpha"], "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json()["class_names"] == [["person"]] * 5


def test_a_plain_requests_deepstack_call_returns_deepstack_predictions(portal, keys):
    response = requests.post(
        f"{portal.base_url}/v1/vision/detection",
        files={"image": ("frame.jpg", seed_image("pets"), "image/jpeg")},
        data={"api_key": keys["alpha"], "min_confidence": "0.4"},
        timeout=30,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [p["label"] for p in body["predictions"]] == ["dog"] * 3
    assert all(p["confidence"] >= 0.4 for p in body["predictions"])


def test_tenants_are_isolated_over_http(portal, keys):
    vehicles = seed_image("vehicles")

    def detect(service: str, key: str) -> requests.Response:
        return requests.post(
            f"{portal.base_url}/api/v1/detect/{service}",
            data=vehicles,
            headers={"x-api-key": key, "Content-Type": "image/jpeg"},
            timeout=30,
        )

    assert detect("vehicles-detection", keys["bravo"]).status_code == 200
    assert detect("vehicles-detection", keys["alpha"]).status_code == 403
    assert detect("persons-detection", keys["bravo"]).status_code == 403
    deepstack = requests.post(
        f"{portal.base_url}/v1/vision/detection",
        files={"image": ("f.jpg", vehicles)},
        headers={"x-api-key": keys["alpha"]},
        timeout=30,
    ).json()
    assert {p["label"] for p in deepstack["predictions"]} <= {"person", "cat", "dog"}


def test_concurrent_cameras_all_get_answers(portal, keys):
    def call(_):
        return requests.post(
            f"{portal.base_url}/inference",
            data=SEED_BODY,
            headers={"x-api-key": keys["alpha"]},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(24) as pool:
        assert set(pool.map(call, range(48))) == {200}


def test_errors_are_json_never_html(portal, keys):
    for response in [
        requests.get(f"{portal.base_url}/no/such/page", timeout=10),
        requests.post(f"{portal.base_url}/inference", data=b"{", timeout=10),
        requests.post(
            f"{portal.base_url}/inference",
            data=b"{",
            headers={"x-api-key": keys["alpha"]},
            timeout=10,
        ),
    ]:
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["error"]["code"]


def test_usage_reaches_the_database_through_celery(portal, keys):
    statuses = [
        requests.post(
            f"{portal.base_url}/inference",
            data=SEED_BODY,
            headers={"x-api-key": keys["bravo"]},
            timeout=30,
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [200] * 3  # bravo's default service: vehicles-detection
    deadline = time.monotonic() + 60
    vehicles: list[dict] = []
    while time.monotonic() < deadline:
        report = portal.manage("usage_report", "--tenant", "bravo").splitlines()
        vehicles = [
            row
            for row in map(orjson.loads, report)
            if row["application_type"] == "vehicles-detection"
        ]
        if vehicles and vehicles[0]["requests"] - vehicles[0]["errors"] >= 3:
            break
    assert vehicles and vehicles[0]["requests"] - vehicles[0]["errors"] >= 3


def test_the_api_docs_and_schema_are_served(portal):
    schema = requests.get(f"{portal.base_url}/api/schema/", timeout=10)
    assert schema.status_code == 200
    assert "/v1/vision/detection" in schema.text
    assert requests.get(f"{portal.base_url}/api/docs/", timeout=10).status_code == 200
