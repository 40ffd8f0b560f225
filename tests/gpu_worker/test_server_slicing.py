"""Sliced inference asked of a real worker process, through both request shapes."""

from __future__ import annotations

from tests.gpu_worker.test_detector_slicing import distant_persons_frame


def persons(body: dict) -> int:
    return sum(1 for name in body["class_names"] if name == ["person"])


def test_slices_auto_in_the_header_finds_more_distant_people_and_says_what_ran(
    any_model_worker,
):
    frame = distant_persons_frame()
    plain = any_model_worker.invoke_raw(frame, attributes="min_confidence=0.5")
    sliced = any_model_worker.invoke_raw(frame, attributes="min_confidence=0.5,slices=auto")
    assert plain.status_code == sliced.status_code == 200, sliced.text
    assert "slices" not in plain.json()
    body = sliced.json()
    assert body["slices"]["requested"] == "auto"
    assert body["slices"]["count"] == len(body["slices"]["windows"]) >= 2
    assert body["model"] in {"yolox_nano", "picodet_s_416", "deimv2_femto"}
    assert persons(body) > persons(plain.json())
    for x1, y1, x2, y2 in body["bbox_coords"]:
        assert 0 <= x1 < x2 <= 1920 and 0 <= y1 < y2 <= 1080


def test_json_regions_slice_only_that_area(worker):
    body = worker.invoke_json(
        distant_persons_frame(), min_confidence=0.5, slices=[[0.6, 0.5, 1.0, 1.0]]
    ).json()
    assert body["slices"]["requested"] == "regions"
    assert body["slices"]["count"] >= 1
    for x1, y1, _, _ in body["slices"]["windows"]:
        assert x1 >= 0.6 * 1920 - 1 and y1 >= 0.5 * 1080 - 1


def test_slices_off_answers_as_before(worker):
    body = worker.invoke_json(distant_persons_frame(), slices="off").json()
    assert "slices" not in body and "bbox_coords" in body


def test_a_bad_slices_option_is_a_400_in_json(worker):
    response = worker.invoke_raw(distant_persons_frame(), attributes="slices=everywhere")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_slices"
