"""Where sliced inference cuts a frame, and how slice boxes join the whole frame's."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.errors import WorkerError
from gpu_worker.families import Detections
from gpu_worker.slicing import (
    AUTO,
    OFF,
    SliceRequest,
    Window,
    decode_size,
    merge,
    parse_slices,
    plan_slices,
    reduced,
    screened,
)

INPUT = (416, 416)


def covers(windows: list[Window], width: int, height: int) -> bool:
    mask = np.zeros((height, width), bool)
    for w in windows:
        mask[w.y1 : w.y2, w.x1 : w.x2] = True
    return bool(mask.all())


def test_frames_near_the_model_input_are_not_sliced():
    assert plan_slices(416, 416, INPUT, AUTO) == []
    assert plan_slices(500, 375, INPUT, AUTO) == []
    assert plan_slices(1920, 1080, INPUT, OFF) == []


@pytest.mark.parametrize(
    ("width", "height", "count"),
    [(640, 480, 4), (1920, 1080, 4), (1920, 1440, 4), (3840, 2160, 6)],
)
def test_auto_slices_cover_the_frame_with_more_slices_for_larger_frames(width, height, count):
    windows = plan_slices(width, height, INPUT, AUTO)
    assert len(windows) == count
    assert covers(windows, width, height)
    for w in windows:
        assert 0 <= w.x1 < w.x2 <= width and 0 <= w.y1 < w.y2 <= height
        assert w.width < width or w.height < height  # each one looks closer than the frame


def test_neighbouring_slices_overlap_by_a_quarter():
    left, right, *_ = plan_slices(1920, 1080, INPUT, AUTO)
    overlap = left.x2 - right.x1
    assert overlap == pytest.approx(0.25 * left.width, abs=2)


def test_a_letterboxing_model_gets_no_rows_that_only_add_padding():
    # YOLOX letterboxes: a 16:9 frame shrinks alike on both sides, so two columns suffice.
    assert len(plan_slices(1920, 1080, INPUT, AUTO, letterbox=True)) == 2


def test_a_zone_region_is_sliced_alone():
    request = parse_slices([[0.5, 0.5, 1.0, 1.0]])
    windows = plan_slices(1920, 1080, INPUT, request)
    assert 1 <= len(windows) < len(plan_slices(1920, 1080, INPUT, AUTO))
    for w in windows:
        assert w.x1 >= 960 and w.y1 >= 540 and w.x2 <= 1920 and w.y2 <= 1080
    assert covers(
        [Window(w.x1 - 960, w.y1 - 540, w.x2 - 960, w.y2 - 540) for w in windows], 960, 540
    )


def test_a_tiny_zone_grows_to_most_of_the_model_input_inside_the_frame():
    (window,) = plan_slices(1920, 1080, INPUT, parse_slices("0.99:0.99:1:1"))
    assert window.width >= 0.75 * 416 and window.height >= 0.75 * 416
    assert window.x2 == 1920 and window.y2 == 1080


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, OFF),
        ("off", OFF),
        ("auto", AUTO),
        (" AUTO ", AUTO),
        ([[0, 0, 0.5, 1]], SliceRequest("regions", ((0.0, 0.0, 0.5, 1.0),))),
        ("0:0:0.5:1|0.5:0:1:1", SliceRequest("regions", ((0, 0, 0.5, 1), (0.5, 0, 1, 1)))),
    ],
)
def test_slices_option_parses_from_json_and_header(value, expected):
    assert parse_slices(value) == expected


@pytest.mark.parametrize("value", ["sometimes", [[0, 0, 2, 1]], [[0.5, 0, 0.2, 1]], [1, 2], 3, []])
def test_bad_slices_option_is_a_400_naming_the_choices(value):
    with pytest.raises(WorkerError) as caught:
        parse_slices(value)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_slices"
    assert "auto" in caught.value.message


def found(*rows: tuple[float, float, float, float, float, int]) -> Detections:
    array = np.array([r[:5] for r in rows], np.float32).reshape(-1, 5)
    return Detections(array[:, :4], array[:, 4], np.array([r[5] for r in rows], np.int64))


def test_merge_adds_a_small_object_only_a_slice_found():
    whole = found((100, 100, 400, 500, 0.9, 0))
    left = Window(0, 0, 1098, 618)
    merged = merge(whole, [(left, found((600, 300, 620, 340, 0.7, 0)))], (1920, 1080))
    assert len(merged) == 2
    assert merged.scores.tolist() == pytest.approx([0.9, 0.7])


def test_merge_keeps_one_box_for_an_object_seen_in_two_slices():
    left, right = Window(0, 0, 1098, 618), Window(822, 0, 1920, 618)
    same = (900, 200, 940, 280)
    merged = merge(
        Detections.empty(),
        [(left, found((*same, 0.6, 0))), (right, found((901, 201, 941, 281, 0.8, 0)))],
        (1920, 1080),
    )
    assert len(merged) == 1 and merged.scores[0] == pytest.approx(0.8)


def test_merge_drops_slice_boxes_cut_by_an_inner_edge_and_large_ones():
    left = Window(0, 0, 1098, 618)
    cut = (1060, 100, 1098, 200, 0.9, 0)  # touches the slice's right edge, inside the frame
    large = (100, 50, 700, 600, 0.9, 0)  # the whole frame sees this one at a trained scale
    at_border = (0, 100, 40, 180, 0.8, 0)  # the frame's own border is no cut
    merged = merge(Detections.empty(), [(left, found(cut, large, at_border))], (1920, 1080))
    assert merged.boxes.tolist() == [[0, 100, 40, 180]]


def test_merge_leaves_the_whole_frames_own_boxes_as_the_model_gave_them():
    # Two overlapping whole-frame boxes (a DETR model's near-duplicates) both stay.
    whole = found((100, 100, 300, 400, 0.9, 0), (105, 102, 305, 404, 0.4, 0))
    merged = merge(whole, [], (1920, 1080))
    assert len(merged) == 2


def test_regions_never_run_more_slices_than_the_whole_frame_would():
    corners = "|".join(f"{x}:{y}:{x + 0.1}:{y + 0.1}" for x in (0, 0.45, 0.9) for y in (0, 0.9))
    many = plan_slices(3840, 2160, INPUT, parse_slices(corners))
    assert many == plan_slices(3840, 2160, INPUT, AUTO)


def test_a_frame_decodes_at_the_smallest_scale_its_slices_still_fill_the_input_at():
    windows = plan_slices(1920, 1440, INPUT, AUTO)  # slices of 1098x823: 549x411 at half
    assert decode_size(1920, 1440, windows, INPUT) == (960, 720)
    windows = plan_slices(1920, 1080, INPUT, AUTO)  # 1098x618: 309 rows at half, too few
    assert decode_size(1920, 1080, windows, INPUT) == (1920, 1080)
    windows = plan_slices(3840, 2160, INPUT, AUTO)  # 3x2 slices of 1536x1235: 384 at 1/4
    assert decode_size(3840, 2160, windows, INPUT) == (1920, 1080)


def test_an_input_is_halved_only_along_sides_that_stay_as_large_as_the_models():
    pixels = np.zeros((618, 1098, 3), np.uint8)
    pixels[:, ::2] = 200  # columns alternate: halving averages each pair
    small, fx, fy = reduced(pixels, INPUT)
    assert small.shape[:2] == (618, 549) and (fx, fy) == (2.0, 1.0)
    assert (small == 100).all()
    letterboxed, fx, fy = reduced(pixels, INPUT, letterbox=True)
    assert letterboxed.shape[:2] == (309, 549) and fx == fy == 2.0
    assert reduced(pixels[:400, :800], INPUT)[0].shape[:2] == (400, 800)
    # The whole frame halves both sides or neither (as the whole-frame path's DCT scaling).
    assert reduced(pixels, INPUT, per_side=False)[0].shape[:2] == (618, 1098)
    frame = np.zeros((1080, 1920, 3), np.uint8)
    assert reduced(frame, INPUT, per_side=False)[0].shape[:2] == (540, 960)


def candidates(*boxes: tuple[float, float, float, float, float]) -> Detections:
    """The whole frame's candidates: (x1, y1, x2, y2, score) in frame pixels."""
    rows = np.array(boxes, np.float32).reshape(-1, 5)
    return Detections(rows[:, :4], rows[:, 4], np.zeros(len(rows), np.int64))


def test_a_cpu_budget_runs_the_slices_with_the_strongest_small_object_evidence():
    """A 1080p frame's 2x2 plan, a small candidate in every slice: a budget of 3 skips the
    slice with the weakest evidence (one faint candidate), whatever its place in the plan."""
    windows = plan_slices(1920, 1080, INPUT, AUTO)
    assert len(windows) == 4  # upper left, upper right, lower left, lower right
    found = candidates(
        (100, 100, 140, 180, 0.9),  # upper left: two people
        (200, 120, 240, 200, 0.8),
        (1700, 100, 1740, 180, 0.15),  # upper right: one faint candidate
        (100, 900, 140, 980, 0.6),  # lower left
        (1700, 900, 1740, 980, 0.7),  # lower right
    )
    assert screened(windows, found, budget=0) == [0, 1, 2, 3]  # no budget: all worth running
    assert screened(windows, found, budget=4) == [0, 1, 2, 3]
    assert screened(windows, found, budget=3) == [0, 2, 3]
    assert screened(windows, found, budget=1) == [0]


def test_a_candidate_two_slices_hold_whole_counts_once_for_the_budget():
    """Three bright candidates in the band the two upper slices share would pull both in if
    each slice were scored alone; once the first holds them, the next choice is the slice
    with evidence of its own."""
    windows = plan_slices(1920, 1080, INPUT, AUTO)
    found = candidates(
        *[(900 + 20 * i, 100, 930 + 20 * i, 160, 0.9) for i in range(3)],  # upper overlap
        (100, 900, 140, 980, 0.5),  # lower left
    )
    assert screened(windows, found, budget=2) == [0, 2]


def test_slices_with_no_small_candidate_are_not_run_whatever_the_budget():
    windows = plan_slices(1920, 1080, INPUT, AUTO)
    large = candidates((100, 100, 900, 1000, 0.9))  # too large for any slice to add
    assert screened(windows, large, budget=3) == []
    assert screened(windows, Detections.empty(), budget=0) == []
