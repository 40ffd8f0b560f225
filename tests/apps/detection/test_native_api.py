"""POST /api/v1/detect/<application_type>: raw, multipart and JSON bodies."""

import base64

from django.test import Client

from harness.images import seed_image


def test_raw_jpeg_body_returns_detections_with_labels_scores_and_boxes(
    inference, post_native, key_a, pets_jpg
):
    response = post_native("pets-detection", pets_jpg, key_a.raw)
    assert response.status_code == 200
    body = response.json()
    assert body["application_type"] == "pets-detection"
    assert (body["width"], body["height"]) == (650, 868)
    assert [d["label"] for d in body["detections"]] == ["dog"] * 3
    for detection in body["detections"]:
        x1, y1, x2, y2 = detection["box"]
        assert 0 <= x1 < x2 <= 650 and 0 <= y1 < y2 <= 868
        assert 0.3 <= detection["score"] <= 1
    assert body["model"] == "yolox_nano"
    assert "infer" in body["timings_ms"]


def test_png_bodies_work_too(inference, post_native, key_a):
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.frombuffer(seed_image("persons"), np.uint8), cv2.IMREAD_COLOR)
    png = cv2.imencode(".png", pixels)[1].tobytes()
    body = post_native("persons-detection", png, key_a.raw, content_type="image/png").json()
    assert [d["label"] for d in body["detections"]] == ["person"] * 5


def test_multipart_upload_with_min_confidence_field(inference, client: Client, key_a, persons_jpg):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/detect/persons-detection",
        {
            "image": SimpleUploadedFile("cam.jpg", persons_jpg, "image/jpeg"),
            "min_confidence": "0.85",
        },
        **key_a.headers,
    )
    assert response.status_code == 200
    scores = [d["score"] for d in response.json()["detections"]]
    assert scores and all(s >= 0.85 for s in scores) and len(scores) < 5


def test_json_base64_body(inference, client: Client, key_a, persons_jpg):
    response = client.post(
        "/api/v1/detect/persons-detection",
        {"image_base64": base64.b64encode(persons_jpg).decode()},
        content_type="application/json",
        **key_a.headers,
    )
    assert response.status_code == 200
    assert len(response.json()["detections"]) == 5


def test_min_confidence_query_parameter(inference, post_native, key_a, persons_jpg):
    all_people = post_native("persons-detection", persons_jpg, key_a.raw).json()["detections"]
    confident = post_native(
        "persons-detection", persons_jpg, key_a.raw, query="?min_confidence=0.85"
    ).json()["detections"]
    assert len(confident) < len(all_people) == 5
    assert all(d["score"] >= 0.85 for d in confident)


def test_vehicles_come_back_only_when_asked_for(
    inference, post_native, key_b, tenant_b, vehicles_jpg
):
    from apps.tenants.services import enable_service

    enable_service(tenant_b, "vehicles-detection")
    labels = {
        d["label"]
        for d in post_native("vehicles-detection", vehicles_jpg, key_b.raw).json()["detections"]
    }
    assert {"bus", "car"} <= labels <= {"bicycle", "car", "motorcycle", "bus", "train", "truck"}
    people = post_native("persons-detection", vehicles_jpg, key_b.raw).json()["detections"]
    assert {d["label"] for d in people} <= {"person"}
