"""Sliced inference asked of a real worker process, through both request shapes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harness.prometheus import metric
from harness.worker import running_worker
from tests.gpu_worker.conftest import WorkerClient
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
    assert body["slices"]["planned"] >= 2
    # A CPU worker runs only the slices holding a candidate: here the one with the people.
    assert 1 <= body["slices"]["count"] == len(body["slices"]["windows"])
    assert body["slices"]["count"] <= body["slices"]["planned"]
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


def test_a_batching_worker_runs_sliced_and_plain_requests_together(tmp_path):
    """The GPU-style pipeline (a decode pool, batches of up to 8 inputs) with concurrent
    requests of different slice counts: each gets its own boxes back, and the same answer as
    when it ran alone."""
    frame = distant_persons_frame()
    shapes = [("slices=auto", frame), ("", frame), ("slices=0.6:0.5:1:1", frame)] * 3
    with running_worker(
        tmp_path, model="deimv2_femto", IPCAI_PIPELINE="pipelined", IPCAI_MAX_BATCH="8"
    ) as (_, url):
        client = WorkerClient(url, tmp_path / "unused.log")

        def ask(shape):
            attributes, image = shape
            response = client.invoke_raw(image, attributes=f"min_confidence=0.5,{attributes}")
            assert response.status_code == 200, response.text
            return response.json()

        alone = [ask(shape) for shape in shapes[:3]]
        with ThreadPoolExecutor(len(shapes)) as pool:
            together = list(pool.map(ask, shapes))
        text = client.get("/metrics").text
    # Some batch carried two requests or more (9 at once on 2 lanes), each with its slices.
    requests = metric(text, "ipcai_worker_batch_size_sum", model="deimv2_femto")
    assert requests > metric(text, "ipcai_worker_batch_size_count", model="deimv2_femto")
    for index, body in enumerate(together):
        expected = alone[index % 3]
        assert body.get("slices") == expected.get("slices")
        assert body["class_names"] == expected["class_names"]
        for box, other in zip(body["bbox_coords"], expected["bbox_coords"], strict=True):
            assert max(abs(a - b) for a, b in zip(box, other, strict=True)) <= 2
