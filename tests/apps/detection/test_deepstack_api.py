"""POST /v1/vision/detection: DeepStack's request and response, for camera software."""

import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.tenants.services import disable_service, enable_service
from harness.prometheus import metric


def deepstack(client, image: bytes, **fields):
    return client.post(
        "/v1/vision/detection", {"image": SimpleUploadedFile("frame.jpg", image), **fields}
    )


def test_key_as_form_field_returns_deepstack_predictions(inference, client, key_a, pets_jpg):
    response = deepstack(client, pets_jpg, api_key=key_a.raw)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [p["label"] for p in body["predictions"]] == ["dog"] * 3
    for p in body["predictions"]:
        assert set(p) == {"label", "confidence", "x_min", "y_min", "x_max", "y_max"}
        assert all(isinstance(p[k], int) for k in ("x_min", "y_min", "x_max", "y_max"))
        assert 0 <= p["x_min"] < p["x_max"] <= 650 and 0 <= p["y_min"] < p["y_max"] <= 868


def test_key_in_the_header_works_too(inference, client, key_a, persons_jpg):
    response = client.post(
        "/v1/vision/detection", {"image": SimpleUploadedFile("f.jpg", persons_jpg)}, **key_a.headers
    )
    assert [p["label"] for p in response.json()["predictions"]] == ["person"] * 5


def test_labels_are_limited_to_the_tenants_enabled_services(
    inference, client, key_a, key_b, tenant_b, vehicles_jpg
):
    # Alpha has persons + pets: the buses and cars in the frame are not its business.
    alpha = deepstack(client, vehicles_jpg, api_key=key_a.raw).json()["predictions"]
    assert {p["label"] for p in alpha} <= {"person", "cat", "dog"}
    enable_service(tenant_b, "vehicles-detection")
    bravo = deepstack(client, vehicles_jpg, api_key=key_b.raw).json()["predictions"]
    assert {"bus", "car"} <= {p["label"] for p in bravo}


def test_min_confidence_form_field(inference, client, key_a, persons_jpg):
    predictions = deepstack(client, persons_jpg, api_key=key_a.raw, min_confidence="0.85").json()[
        "predictions"
    ]
    assert 0 < len(predictions) < 5
    assert all(p["confidence"] >= 0.85 for p in predictions)


def test_errors_use_deepstacks_shape_and_messages(client, key_a, persons_jpg):
    """DeepStack's body (`success`, `error`) plus CodeProject.AI's numeric `code`, with
    DeepStack's own message wherever DeepStack has one for the failure."""
    not_an_image = deepstack(client, b"this is text named frame.jpg", api_key=key_a.raw)
    assert not_an_image.status_code == 400
    assert not_an_image.json() == {
        "success": False,
        "error": "The data is not a JPEG or PNG image.",
        "code": 400,
    }
    cases = [
        ({"api_key": "ipcai_000000000000_wrong", "image": persons_jpg}, 401, "Incorrect api key"),
        ({"image": persons_jpg}, 401, "Incorrect api key"),
        ({"api_key": key_a.raw}, 400, "No valid image file found"),
        (
            {"api_key": key_a.raw, "image": persons_jpg, "min_confidence": "high"},
            400,
            "Invalid value for min_confidence",
        ),
        (
            {"api_key": key_a.raw, "image": persons_jpg, "min_confidence": "1.5"},
            400,
            "min_confidence cannot be greater than 1",
        ),
    ]
    for fields, status, message in cases:
        image = fields.pop("image", None)
        files = {"image": SimpleUploadedFile("frame.jpg", image)} if image else {}
        response = client.post("/v1/vision/detection", {**files, **fields})
        assert (response.status_code, response.json()) == (
            status,
            {"success": False, "error": message, "code": status},
        ), fields


def test_a_tenant_without_services_sees_deepstacks_not_activated(client, key_b, tenant_b):
    for service in tenant_b.services.filter(enabled=True):
        disable_service(tenant_b, service.application_type)
    response = deepstack(client, b"\xff\xd8", api_key=key_b.raw)
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "error": "Detection endpoint not activated",
        "code": 403,
    }


def test_codeproject_fields_beside_deepstacks_typed_as_its_clients_read_them(
    inference, client, key_a, pets_jpg
):
    body = deepstack(client, pets_jpg, api_key=key_a.raw).json()
    assert body["count"] == len(body["predictions"]) == 3
    assert body["message"] == "Found dog, dog, dog"
    assert body["command"] == "detect" and body["code"] == 200
    for name in ("inferenceMs", "processMs", "analysisRoundTripMs", "count", "code"):
        assert type(body[name]) is int, name
    assert body["processMs"] >= body["inferenceMs"] > 0
    assert body["analysisRoundTripMs"] >= body["processMs"]
    for name in ("moduleId", "moduleName", "executionProvider", "requestId", "timestampUTC"):
        assert isinstance(body[name], str) and body[name], name
    assert type(body["canUseGPU"]) is bool
    confidences = [p["confidence"] for p in body["predictions"]]
    assert confidences == sorted(confidences, reverse=True)


def test_all_enabled_services_cost_one_inference_each_at_its_own_threshold(
    inference, client, key_a, tenant_a, pets_jpg
):
    """One worker call for persons + pets + vehicles, split back per service: the pets
    service's own threshold still decides which dogs a DeepStack client sees."""
    enable_service(tenant_a, "vehicles-detection")
    union = "persons-detection+pets-detection+vehicles-detection"

    def worker_calls() -> float:
        text = requests.get(f"{inference}/metrics", timeout=10).text
        return metric(text, "ipcai_worker_requests_total", application_type=union, status="200")

    before = worker_calls()
    dogs = deepstack(client, pets_jpg, api_key=key_a.raw).json()["predictions"]
    assert [p["label"] for p in dogs] == ["dog"] * 3
    assert worker_calls() == before + 1

    enable_service(tenant_a, "pets-detection", min_confidence=0.99)
    strict = deepstack(client, pets_jpg, api_key=key_a.raw).json()["predictions"]
    assert [p["label"] for p in strict] == []
