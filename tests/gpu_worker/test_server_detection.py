"""Each real model, served by a real worker process, finds what is in the seed's images."""

from __future__ import annotations

from collections import Counter

import cv2
import pytest

from harness.images import encode, seed_image, seed_pixels
from harness.processes import shared_dir


def labels_at(body: dict, min_score: float) -> Counter:
    return Counter(
        name[0]
        for name, score in zip(body["class_names"], body["bbox_scores"], strict=True)
        if score[0] >= min_score
    )


def assert_boxes_inside(body: dict) -> None:
    for x1, y1, x2, y2 in body["bbox_coords"]:
        assert 0 <= x1 < x2 <= body["width"]
        assert 0 <= y1 < y2 <= body["height"]


def test_persons_image_gives_five_or_more_persons_and_nothing_else(any_model_worker):
    response = any_model_worker.invoke_raw(
        seed_image("persons"), attributes="application_type=persons-detection,min_confidence=0.5"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["width"], body["height"], body["channels"]) == (819, 546, 3)
    labels = labels_at(body, 0.5)
    assert labels["person"] >= 5
    assert set(labels) == {"person"}
    assert_boxes_inside(body)


def test_pets_image_gives_exactly_three_dogs(any_model_worker):
    response = any_model_worker.invoke_json(
        seed_image("pets"), application_type="pets-detection", min_confidence=0.5
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert labels_at(body, 0.5) == Counter({"dog": 3})
    assert_boxes_inside(body)


def test_vehicles_image_gives_buses_and_cars(any_model_worker):
    response = any_model_worker.invoke_raw(
        seed_image("vehicles"),
        attributes="application_type=vehicles-detection;min_confidence=0.5",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    labels = labels_at(body, 0.5)
    assert labels["bus"] >= 3 and labels["car"] >= 4
    assert set(labels) <= {"bicycle", "car", "motorcycle", "bus", "train", "truck"}
    assert_boxes_inside(body)


def test_response_names_model_and_stage_timings(any_model_worker):
    body = any_model_worker.invoke_raw(seed_image("persons")).json()
    assert body["application_type"] == "persons-detection"  # the default type
    assert body["model"] in {"yolox_nano", "picodet_s_416", "deimv2_femto"}
    assert set(body["timings_ms"]) == {"decode", "queue", "infer", "postprocess", "total"}
    assert body["timings_ms"]["infer"] > 0


@pytest.fixture
def seed_body() -> bytes:
    return (shared_dir() / "images" / "post_data.txt").read_bytes()


def test_seed_post_data_body_detects_persons(worker, seed_body):
    response = worker.http.post(
        f"{worker.base_url}/invocations",
        data=seed_body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert labels_at(response.json(), 0.5)["person"] >= 5


def test_png_body_gives_same_detections_as_jpeg(worker):
    jpeg = worker.invoke_raw(seed_image("pets"), attributes="application_type=pets-detection")
    png = worker.invoke_raw(
        encode(seed_pixels("pets"), ".png"),
        content_type="image/png",
        attributes="application_type=pets-detection",
    )
    assert png.status_code == 200, png.text
    assert labels_at(png.json(), 0.5) == labels_at(jpeg.json(), 0.5) == Counter({"dog": 3})


def test_large_camera_frame_is_reported_in_original_pixels(worker):
    """A 4x upscaled frame (3276x2184, decoded at reduced DCT scale inside) gives the same
    objects with boxes 4x those of the original, in the frame's own pixels."""
    small = worker.invoke_raw(seed_image("persons"), attributes="min_confidence=0.5").json()
    big_pixels = cv2.resize(seed_pixels("persons"), None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    big = worker.invoke_raw(encode(big_pixels), attributes="min_confidence=0.5").json()
    assert (big["width"], big["height"]) == (3276, 2184)
    assert labels_at(big, 0.5) == labels_at(small, 0.5)
    assert_boxes_inside(big)
    for small_box in small["bbox_coords"]:
        expected = [4 * v for v in small_box]
        best = min(
            big["bbox_coords"],
            key=lambda box, expected=expected: sum(
                abs(a - e) for a, e in zip(box, expected, strict=True)
            ),
        )
        assert all(abs(a - e) <= 24 for a, e in zip(best, expected, strict=True)), (best, expected)


def test_grayscale_jpeg_and_rgba_png_are_detected(worker):
    pixels = seed_pixels("persons")
    gray = encode(cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY))
    rgba = encode(cv2.cvtColor(pixels, cv2.COLOR_BGR2BGRA), ".png")
    gray_body = worker.invoke_raw(gray).json()
    rgba_body = worker.invoke_raw(rgba, content_type="image/png").json()
    assert gray_body["channels"] == 1 and labels_at(gray_body, 0.5)["person"] >= 4
    assert rgba_body["channels"] == 4 and labels_at(rgba_body, 0.5)["person"] >= 5


def test_several_types_in_one_call_answer_the_union_of_the_single_calls(worker):
    """DeepStack clients want every enabled service at once: one inference, not three."""
    image = seed_image("vehicles")

    def found(types: str) -> set:
        body = worker.invoke_raw(image, attributes=f"application_type={types}").json()
        return {
            (n[0], tuple(b)) for n, b in zip(body["class_names"], body["bbox_coords"], strict=True)
        }

    persons, vehicles = found("persons-detection"), found("vehicles-detection")
    assert found("persons-detection+vehicles-detection") == persons | vehicles
    assert vehicles  # the union is not trivially empty


def test_a_list_of_types_is_accepted_in_json_and_an_unknown_one_is_400(worker):
    ok = worker.invoke_json(
        seed_image("pets"), application_type=["pets-detection", "persons-detection"]
    )
    assert (
        ok.status_code == 200
        and ok.json()["application_type"] == "pets-detection+persons-detection"
    )
    bad = worker.invoke_json(seed_image("pets"), application_type="pets-detection+faces")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_application_type"
