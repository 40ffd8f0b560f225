"""Sliced inference asked through the portal: the native API's `slices`, the accurate tier and
a camera's setting, with the real worker; the answer names the slices that ran."""

from __future__ import annotations

import base64

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.cameras.services import create_camera, update_camera
from apps.tenants.model_registry import assign_model
from tests.gpu_worker.test_detector_slicing import distant_persons_frame

pytestmark = pytest.mark.usefixtures("inference")
PERSONS = "persons-detection"
LOWER_RIGHT = [[0.6, 0.5], [1.0, 0.5], [1.0, 1.0], [0.6, 1.0]]


@pytest.fixture(scope="module")
def frame() -> bytes:
    return distant_persons_frame()


@pytest.fixture
def accurate_is_the_workers_model(settings) -> None:
    """The session's worker serves one model; the accurate tier names it (as a deployment
    with one model would), so the tier's slicing is what the test sees."""
    settings.IPCAI_MODEL_TIERS = {"fast": "yolox_nano", "accurate": "yolox_nano"}


def native(client, key, image, query="", **kwargs):
    return client.post(
        f"/api/v1/detect/{PERSONS}{query}",
        data=image,
        content_type="image/jpeg",
        HTTP_X_API_KEY=key,
        **kwargs,
    )


def persons(body: dict) -> int:
    return sum(1 for d in body["detections"] if d["label"] == "person")


def test_slices_auto_finds_distant_people_and_names_the_slices(client, key_a, frame):
    plain = native(client, key_a.raw, frame).json()
    response = native(client, key_a.raw, frame, "?slices=auto")
    assert response.status_code == 200, response.content
    body = response.json()
    assert "slices" not in plain
    assert body["slices"]["requested"] == "auto"
    assert body["slices"]["planned"] >= 2  # a CPU worker runs those holding a candidate
    assert 1 <= body["slices"]["count"] == len(body["slices"]["windows"])
    assert body["model"] == "yolox_nano"
    assert persons(body) > persons(plain)


def test_slices_in_a_json_or_multipart_body(client, key_a, frame):
    json_body = client.post(
        f"/api/v1/detect/{PERSONS}",
        data=orjson.dumps({"image_base64": base64.b64encode(frame).decode(), "slices": "auto"}),
        content_type="application/json",
        HTTP_X_API_KEY=key_a.raw,
    ).json()
    form_body = client.post(
        f"/api/v1/detect/{PERSONS}",
        {"image": SimpleUploadedFile("f.jpg", frame, "image/jpeg"), "slices": "auto"},
        HTTP_X_API_KEY=key_a.raw,
    ).json()
    assert json_body["slices"] == form_body["slices"]
    assert json_body["slices"]["planned"] >= 2 and json_body["slices"]["count"] >= 1


def test_a_bad_slices_value_is_a_clear_400(client, key_a, frame):
    response = native(client, key_a.raw, frame, "?slices=sometimes")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_slices" and "auto or off" in error["message"]


def test_the_accurate_tier_slices_and_slices_off_overrides_it(
    client, tenant_a, key_a, frame, accurate_is_the_workers_model
):
    assign_model(tenant_a.services.get(application_type=PERSONS), tier="accurate")
    assert native(client, key_a.raw, frame).json()["slices"]["planned"] >= 2
    assert "slices" not in native(client, key_a.raw, frame, "?slices=off").json()


def test_a_camera_with_include_zones_slices_only_their_area(client, tenant_a, key_a, frame):
    camera = create_camera(
        tenant_a,
        {
            "name": "yard",
            "slicing": "on",
            "zones": [{"name": "lawn", "kind": "include", "points": LOWER_RIGHT}],
        },
    )
    body = native(client, key_a.raw, frame, f"?camera={camera.public_id}").json()
    slices = body["slices"]
    assert slices["requested"] == "regions"
    # The whole frame would plan 4 (tests/gpu_worker); the zone's run only with a candidate.
    assert 1 <= slices["count"] <= slices["planned"] < 4
    for x1, y1, _, _ in slices["windows"]:
        # The zone, a tenth wider and a quarter of the frame higher (bottom-centre anchor).
        assert x1 >= (0.6 - 0.1) * 1920 - 2 and y1 >= (0.5 - 0.25) * 1080 - 2
    assert persons(body) >= 1


def test_a_camera_set_off_is_not_sliced_even_on_the_accurate_tier(
    client, tenant_a, key_a, frame, accurate_is_the_workers_model
):
    assign_model(tenant_a.services.get(application_type=PERSONS), tier="accurate")
    camera = create_camera(tenant_a, {"name": "gate", "slicing": "off"})
    assert "slices" not in native(client, key_a.raw, frame, f"?camera={camera.public_id}").json()
    update_camera(camera, {"slicing": "tier"})
    body = native(client, key_a.raw, frame, f"?camera={camera.public_id}").json()
    assert body["slices"]["requested"] == "auto"


def test_the_cameras_api_sets_slicing_and_the_other_tenant_gets_404(client, key_a, key_b):
    created = client.post(
        "/api/v1/cameras",
        data=orjson.dumps({"name": "street", "slicing": "on"}),
        content_type="application/json",
        HTTP_X_API_KEY=key_a.raw,
    )
    assert created.status_code == 201, created.content
    assert created.json()["slicing"] == "on"
    path = f"/api/v1/cameras/{created.json()['id']}"
    body = orjson.dumps({"slicing": "sometimes"})
    bad = client.patch(path, data=body, content_type="application/json", HTTP_X_API_KEY=key_a.raw)
    assert bad.status_code == 400 and "slicing" in bad.json()["error"]["message"]
    body = orjson.dumps({"slicing": "off"})
    other = client.patch(path, data=body, content_type="application/json", HTTP_X_API_KEY=key_b.raw)
    assert other.status_code == 404
    mine = client.patch(path, data=body, content_type="application/json", HTTP_X_API_KEY=key_a.raw)
    assert mine.json()["slicing"] == "off"
