"""Sliced inference through the real detector: what runs on the model, and in how many calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import cv2
import numpy as np
import pytest

from gpu_worker.answer import SlicesAnswer
from gpu_worker.config import SettingsError, WorkerSettings
from gpu_worker.detector import DetectionResult, Detector, SliceJob
from gpu_worker.slicing import AUTO, parse_slices
from harness.images import encode, seed_pixels
from harness.processes import shared_dir


def distant_persons_frame() -> bytes:
    """A 1920x1080 frame whose five pedestrians stand far off: persons.jpg at 40%, bottom
    right, the rest a plain wall."""
    small = cv2.resize(seed_pixels("persons"), None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    canvas = np.full((1080, 1920, 3), 110, np.uint8)
    height, width = small.shape[:2]
    canvas[600 : 600 + height, 1300 : 1300 + width] = small
    return encode(canvas)


class CountingLane:
    """The real lane, with each call's batch size written down."""

    def __init__(self, lane) -> None:
        self.lane = lane
        self.calls: list[int] = []

    def __getattr__(self, name):
        return getattr(self.lane, name)

    def infer(self, inputs):
        self.calls.append(len(next(iter(inputs.values()))))
        return self.lane.infer(inputs)


@pytest.fixture(scope="module", params=["deimv2_femto", "yolox_nano"])
def detector(request) -> Iterator[Detector]:
    settings = WorkerSettings.from_env(
        {
            "IPCAI_MODEL_DIR": str(shared_dir() / "models"),
            "IPCAI_MODEL": request.param,
            "IPCAI_LANES": "1",
            "IPCAI_IDLE_THREADS": "1",
            "IPCAI_MAX_BATCH": "8",  # a GPU's default: on a CPU, slices run one call each
        }
    )
    loaded = Detector.load(settings)
    yield loaded
    loaded.close()


def run(detector: Detector, job) -> tuple[list[int], DetectionResult]:
    lane = CountingLane(detector.lanes[0])
    item = detector.prepare(job)
    outputs = detector.run_batch(lane, [item])  # type: ignore[arg-type]
    return lane.calls, detector.finish(item, outputs[0], "persons-detection", 0.5)


def slices_of(result: DetectionResult) -> SlicesAnswer:
    """The answer's `slices`: a request that asked for slices always has one."""
    assert result.slices is not None
    return result.slices


def test_slices_and_the_whole_frame_go_through_the_model_in_one_batch_where_it_takes_one(
    detector,
):
    calls, result = run(detector, SliceJob(distant_persons_frame(), AUTO))
    count = slices_of(result)["count"]
    assert slices_of(result)["planned"] >= 2
    if detector.spec.name == "deimv2_femto":  # dynamic batch: one call, every slice
        assert calls == [1 + count] and count == slices_of(result)["planned"]
    else:  # a static batch of one: one call per input, the slices screened
        assert calls == [1] * (1 + count) and 1 <= count <= slices_of(result)["planned"]


def test_a_zone_limited_request_runs_only_the_slices_of_its_zone(detector):
    zone = parse_slices([[0.6, 0.5, 1.0, 1.0]])
    calls, result = run(detector, SliceJob(distant_persons_frame(), zone))
    _, auto = run(detector, SliceJob(distant_persons_frame(), AUTO))
    ran = slices_of(result)
    assert sum(calls) == 1 + ran["count"]
    assert 1 <= ran["count"] <= ran["planned"] < slices_of(auto)["planned"]
    for x1, y1, x2, y2 in ran["windows"]:
        assert x1 >= 0.6 * 1920 - 1 and y1 >= 0.5 * 1080 - 1 and x2 <= 1920 and y2 <= 1080


def test_slicing_finds_distant_people_the_whole_frame_misses(detector):
    data = distant_persons_frame()
    whole = detector.detect(data, "persons-detection", 0.5)
    _, sliced = run(detector, SliceJob(data, AUTO))
    assert len(sliced.labels) > len(whole.labels)
    assert set(sliced.labels) == {"person"}
    assert ((sliced.boxes[:, 0] >= 1290) & (sliced.boxes[:, 1] >= 590)).all()


def test_a_frame_decoded_at_half_scale_gives_its_boxes_in_the_frames_pixels(detector):
    """A 3840x2880 frame: every slice still fills the model input at half scale, so the
    sliced request decodes at half (as the whole frame alone does); boxes and windows are
    still in the frame's own pixels, on the people."""
    canvas = np.full((2880, 3840, 3), 110, np.uint8)
    people = seed_pixels("persons")  # 819x546, pasted at (2600, 1800)
    canvas[1800 : 1800 + people.shape[0], 2600 : 2600 + people.shape[1]] = people
    job = SliceJob(encode(canvas), AUTO)
    item = detector.prepare(job)
    assert item.decoded.pixels.shape[1] < 3840  # decoded at a reduced scale
    _, result = run(detector, job)
    assert (result.width, result.height) == (3840, 2880)
    assert len(result.labels) >= 4 and set(result.labels) == {"person"}
    assert ((result.boxes[:, 0] >= 2590) & (result.boxes[:, 1] >= 1790)).all()
    assert ((result.boxes[:, 2] <= 2600 + 819 + 10) & (result.boxes[:, 3] <= 1800 + 546 + 10)).all()
    assert max(x2 for _, _, x2, _ in slices_of(result)["windows"]) == 3840


def test_on_a_cpu_by_default_slices_run_one_call_each():
    settings = WorkerSettings.from_env(
        {"IPCAI_MODEL_DIR": str(shared_dir() / "models"), "IPCAI_LANES": "1"}
    )
    detector = Detector.load(settings)
    try:
        calls, result = run(detector, SliceJob(distant_persons_frame(), AUTO))
    finally:
        detector.close()
    assert calls == [1] * (1 + slices_of(result)["count"])


def test_on_a_cpu_only_slices_where_the_whole_frame_has_a_candidate_run():
    """Screening: the distant people stand in the lower-right slice and the rest is a
    plain wall; the CPU worker runs that slice alone and finds what all four found."""
    settings = WorkerSettings.from_env(
        {"IPCAI_MODEL_DIR": str(shared_dir() / "models"), "IPCAI_LANES": "1"}
    )
    detector = Detector.load(settings)
    try:
        calls, screened = run(detector, SliceJob(distant_persons_frame(), AUTO))
        whole = detector.detect(distant_persons_frame(), "persons-detection", 0.5)
        batching = Detector.load(replace(settings, max_batch=8))
        try:
            _, everything = run(batching, SliceJob(distant_persons_frame(), AUTO))
        finally:
            batching.close()
    finally:
        detector.close()
    assert slices_of(screened)["planned"] == slices_of(everything)["count"] == 4
    assert slices_of(screened)["windows"] == [[822, 462, 1920, 1080]] and calls == [1, 1]
    assert len(screened.labels) == len(everything.labels) > len(whole.labels)
    np.testing.assert_allclose(np.sort(screened.scores), np.sort(everything.scores), atol=0.02)


def test_a_frame_whose_slices_are_all_screened_out_answers_as_the_whole_frame():
    """pets.jpg at 1080p: large dogs, nothing small for a slice to look at. No slice runs,
    and the dogs' boxes are where the whole frame alone puts them, in the frame's pixels (the
    sliced path builds the whole frame's input from halved pixels and scales back)."""
    settings = WorkerSettings.from_env(
        {"IPCAI_MODEL_DIR": str(shared_dir() / "models"), "IPCAI_LANES": "1"}
    )
    detector = Detector.load(settings)
    frame = encode(cv2.resize(seed_pixels("pets"), (1920, 1080), interpolation=cv2.INTER_CUBIC))
    try:
        lane = CountingLane(detector.lanes[0])
        item = detector.prepare(SliceJob(frame, AUTO))
        outputs = detector.run_batch(lane, [item])[0]  # type: ignore[arg-type]
        sliced = detector.finish(item, outputs, "pets-detection", 0.5)
        whole = detector.detect(frame, "pets-detection", 0.5)
    finally:
        detector.close()
    assert lane.calls == [1] and slices_of(sliced)["count"] == 0 < slices_of(sliced)["planned"]
    assert len(whole.labels) >= 2
    for box in whole.boxes:  # each dog the whole frame finds, within 1% of the frame
        nearest = np.abs(sliced.boxes - box).max(axis=1).min()
        assert nearest < 20, (box, sliced.boxes)


def test_a_small_frame_asked_to_slice_runs_whole_and_says_so(detector):
    small = encode(cv2.resize(seed_pixels("persons"), (480, 320)))
    calls, result = run(detector, SliceJob(small, AUTO))
    assert calls == [1]
    assert result.slices == {"requested": "auto", "planned": 0, "count": 0, "windows": []}


def test_on_a_cpu_a_busy_frame_runs_only_its_budget_of_slices_and_a_batch_runs_all():
    """persons.jpg at 1080p: people in all four slices of its 2x2 plan. A CPU worker runs the
    whole frame and its budget of 3 slices (IPCAI_CPU_MAX_SLICES), one call each; with no
    budget all four; a batching device all four with the whole frame in one call."""
    settings = WorkerSettings.from_env(
        {"IPCAI_MODEL_DIR": str(shared_dir() / "models"), "IPCAI_LANES": "1"}
    )
    assert settings.cpu_max_slices == 3
    frame = encode(cv2.resize(seed_pixels("persons"), (1920, 1080), interpolation=cv2.INTER_CUBIC))
    answers = {}
    for name, variant in (
        ("budget", settings),
        ("no budget", replace(settings, cpu_max_slices=0)),
        ("batch", replace(settings, max_batch=8)),
    ):
        detector = Detector.load(variant)
        try:
            answers[name] = run(detector, SliceJob(frame, AUTO))
        finally:
            detector.close()
    (calls, budget), (all_calls, everything), (batch_calls, batch) = answers.values()
    capped, uncapped = slices_of(budget), slices_of(everything)
    assert uncapped["count"] == uncapped["planned"] == 4 and all_calls == [1] * 5  # all qualify
    assert capped["planned"] == 4 and capped["count"] == 3 and calls == [1] * 4
    assert all(w in uncapped["windows"] for w in capped["windows"])
    assert batch_calls == [5] and slices_of(batch)["count"] == 4
    # The skipped slice (the lower left, where the whole frame's small candidates are
    # fewest) would have added at most one person.
    assert set(budget.labels) == {"person"}
    assert len(budget.labels) >= len(everything.labels) - 1


def test_the_cpu_slice_budget_is_a_worker_setting():
    assert WorkerSettings.from_env({"IPCAI_CPU_MAX_SLICES": "0"}).cpu_max_slices == 0
    assert WorkerSettings.from_env({"IPCAI_CPU_MAX_SLICES": "2"}).cpu_max_slices == 2
    with pytest.raises(SettingsError):
        WorkerSettings.from_env({"IPCAI_CPU_MAX_SLICES": "-1"})
