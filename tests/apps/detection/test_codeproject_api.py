"""CodeProject.AI's routes as its clients and the DeepStack SDKs call them: custom models by
name, the tenant's model list, the update probe, and the same routes with the key in the URL.

Requests are built the way the DeepStack Python SDK sends them (`files={"image": bytes}`,
`data={"api_key": ..., "min_confidence": ...}`): a multipart body with the file named "image".
"""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.detection.key_scrubbing import ScrubPathKeys
from apps.tenants.services import enable_service
from harness.processes import free_port


def custom(client, model: str, image: bytes | None, prefix: str = "", **fields):
    files = {"image": SimpleUploadedFile("image", image)} if image is not None else {}
    return client.post(f"{prefix}/v1/vision/custom/{model}", {**files, **fields})


def labels(response) -> set[str]:
    return {p["label"] for p in response.json()["predictions"]}


def test_ipcam_general_runs_persons_and_vehicles_of_the_enabled_ones(
    inference, client, key_a, key_b, tenant_b, vehicles_jpg
):
    # Alpha has persons + pets: ipcam-general runs only its persons service.
    alpha = custom(client, "ipcam-general", vehicles_jpg, api_key=key_a.raw)
    assert alpha.status_code == 200
    assert labels(alpha) <= {"person"}
    assert alpha.json()["command"] == "custom"
    enable_service(tenant_b, "vehicles-detection")
    bravo = custom(client, "ipcam-general", vehicles_jpg, api_key=key_b.raw, min_confidence="0.3")
    assert {"bus", "car"} <= labels(bravo) <= {"person", "bus", "car", "truck", "bicycle", "train"}
    assert all(p["confidence"] >= 0.3 for p in bravo.json()["predictions"])


def test_ipcam_animal_and_combined(inference, client, key_a, pets_jpg, persons_jpg):
    assert labels(custom(client, "ipcam-animal", pets_jpg, api_key=key_a.raw)) == {"dog"}
    assert labels(custom(client, "ipcam-animal", persons_jpg, api_key=key_a.raw)) == set()
    combined = custom(client, "ipcam-combined", persons_jpg, api_key=key_a.raw).json()
    assert [p["label"] for p in combined["predictions"]].count("person") == 5
    dark = custom(client, "ipcam-dark", pets_jpg, api_key=key_a.raw).json()
    assert [p["label"] for p in dark["predictions"]] == ["dog"] * 3


def test_a_model_whose_services_are_all_off_is_not_activated(client, key_b, pets_jpg):
    # Bravo has only persons: ipcam-animal would need pets.
    response = custom(client, "ipcam-animal", pets_jpg, api_key=key_b.raw)
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "error": "Custom vision endpoint not activated",
        "code": 403,
    }


def test_unknown_model_names_are_404_with_the_valid_ones(client, key_a, pets_jpg):
    response = custom(client, "yolov5x", pets_jpg, api_key=key_a.raw)
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False and body["code"] == 404
    for name in ("ipcam-general", "ipcam-combined", "ipcam-animal", "ipcam-dark"):
        assert name in body["error"]


def test_the_model_list_is_the_tenants_own(client, key_a, key_b):
    alpha = client.post("/v1/vision/custom/list", {"api_key": key_a.raw}).json()
    assert alpha["success"] is True
    assert alpha["models"] == ["ipcam-general", "ipcam-combined", "ipcam-animal", "ipcam-dark"]
    assert alpha["command"] == "list-custom" and alpha["code"] == 200
    bravo = client.post("/v1/vision/custom/list", HTTP_X_API_KEY=key_b.raw).json()
    assert bravo["models"] == ["ipcam-general", "ipcam-combined", "ipcam-dark"]
    refused = client.post("/v1/vision/custom/list", HTTP_X_API_KEY="ipcai_000000000000_nope")
    assert refused.status_code == 401
    assert refused.json() == {"success": False, "error": "Incorrect api key", "code": 401}


def test_the_model_list_answers_without_a_key_as_codeproject_does(client):
    """Blue Iris asks for the list without a key; the names hold no tenant data."""
    response = client.post("/v1/vision/custom/list")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["command"] == "list-custom"
    assert body["models"] == ["ipcam-general", "ipcam-combined", "ipcam-animal", "ipcam-dark"]


def test_the_update_probe_needs_no_key_and_never_offers_an_update(client):
    body = client.get("/v1/status/updateavailable").json()
    assert body["success"] is True and body["updateAvailable"] is False
    assert body["current"] == body["latest"] == body["version"]
    assert {"major", "minor", "patch", "build", "preRelease", "securityUpdate"} <= set(
        body["current"]
    )


@pytest.mark.parametrize("route", ["/v1/vision/detection", "/v1/vision/custom/ipcam-combined"])
def test_the_key_in_the_path_for_software_that_only_takes_a_url(
    inference, client, key_a, pets_jpg, route
):
    response = client.post(f"/k/{key_a.raw}{route}", {"image": SimpleUploadedFile("i", pets_jpg)})
    assert response.status_code == 200
    assert labels(response) == {"dog"}
    wrong = client.post(
        f"/k/ipcai_000000000000_nope{route}", {"image": SimpleUploadedFile("i", pets_jpg)}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "Incorrect api key"


def test_path_key_list_and_probe(client, key_b):
    assert client.post(f"/k/{key_b.raw}/v1/vision/custom/list").json()["models"] == [
        "ipcam-general",
        "ipcam-combined",
        "ipcam-dark",
    ]
    assert client.get(f"/k/{key_b.raw}/v1/status/updateavailable").json()["success"] is True


def test_the_path_key_never_reaches_a_log_line(client, key_a, pets_jpg, settings, caplog):
    """Django logs every 5xx with the request path; with the worker unreachable the portal
    answers 503 and that log line carries the route, not the key."""
    settings.IPCAI_INFERENCE_CLIENT = "http"
    settings.IPCAI_WORKER_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    response = client.post(
        f"/k/{key_a.raw}/v1/vision/detection", {"image": SimpleUploadedFile("i", pets_jpg)}
    )
    assert response.status_code in (502, 503)
    messages = [record.getMessage() for record in caplog.records]
    assert any("/k/[key]/v1/vision/detection" in m for m in messages), messages
    assert not any(key_a.raw in m for m in messages)


def test_scrubbing_covers_gunicorns_access_line():
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        '%(h)s "%(r)s" %(s)s',
        {
            "h": "10.0.0.9",
            "r": "POST /k/ipcai_0123456789ab_secret/v1/vision/detection HTTP/1.1",
            "s": "200",
        },
        None,
    )
    ScrubPathKeys().filter(record)
    assert record.getMessage() == '10.0.0.9 "POST /k/[key]/v1/vision/detection HTTP/1.1" 200'
