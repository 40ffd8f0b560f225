"""The filter step on plain values: each rule keeps and drops the boxes it should, and names why.

The end-to-end checks with the real worker and the seed's photos are in test_detection.py; these
pin the rules themselves on boxes whose positions are known exactly.
"""

from __future__ import annotations

from apps.cameras.config import config_of
from apps.cameras.filtering import filter_boxes, filter_result

W, H = 1000, 500
LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
# Box coordinates are pixels; the bottom-centre anchor of each is named in the comment.
PERSON_LEFT = [100, 100, 200, 400]  # anchor (0.15, 0.8)
PERSON_RIGHT = [700, 100, 800, 400]  # anchor (0.75, 0.8)
# Its centre is in the left half, its bottom centre in the right half: the anchor decides.
LEANING = [300, 0, 800, 100]  # bottom centre (0.55, 0.2); centre (0.55, 0.1)
CAR_LEFT = [50, 300, 350, 500]  # anchor (0.2, 1.0): on the frame's bottom edge


def camera(**settings):
    entry = {
        "camera_id": "cam_0123456789abcdef",
        "pk": 1,
        "tenant_id": 1,
        "name": "driveway",
        "services": ["persons-detection"],
        "class_thresholds": {},
        "min_box_area": None,
        "min_box_pixels": None,
        "anchor": "bottom_center",
        "zones": [],
        **settings,
    }
    return config_of(entry)


def run(config, boxes, labels, scores=None, threshold=0.5):
    scores = scores or [0.9] * len(boxes)
    return filter_boxes(config, W, H, boxes, scores, labels, threshold)


def test_a_camera_without_rules_keeps_what_passes_the_service_threshold():
    outcome = run(camera(), [PERSON_LEFT, PERSON_RIGHT], ["person", "person"], [0.9, 0.4])
    assert outcome.kept == [0]
    assert outcome.zones == [[]]
    assert outcome.dropped == [
        {"label": "person", "score": 0.4, "box": PERSON_RIGHT, "reason": "below_threshold"}
    ]


def test_a_class_threshold_overrides_the_service_threshold_both_ways():
    config = camera(class_thresholds={"dog": 0.99, "person": 0.3})
    outcome = run(config, [PERSON_LEFT, PERSON_RIGHT], ["dog", "person"], [0.95, 0.35])
    assert outcome.kept == [1]
    assert outcome.dropped[0]["reason"] == "below_threshold"


def test_a_mask_drops_only_boxes_anchored_inside_it():
    config = camera(zones=[{"name": "street", "kind": "mask", "points": LEFT_HALF}])
    outcome = run(config, [PERSON_LEFT, PERSON_RIGHT, LEANING], ["person"] * 3)
    assert outcome.kept == [1, 2]
    assert [(d["box"], d["reason"], d["zone"]) for d in outcome.dropped] == [
        (PERSON_LEFT, "masked", "street")
    ]


def test_the_anchor_setting_decides_which_point_counts():
    mask = [{"name": "m", "kind": "mask", "points": [[0, 0], [1, 0], [1, 0.15], [0, 0.15]]}]
    assert run(camera(zones=mask), [LEANING], ["person"]).kept == [0]  # bottom (y 0.2) outside
    assert run(camera(zones=mask, anchor="center"), [LEANING], ["person"]).kept == []


def test_an_include_zone_for_persons_keeps_persons_inside_and_drops_cars_and_outsiders():
    config = camera(
        zones=[{"name": "drive", "kind": "include", "points": LEFT_HALF, "classes": ["person"]}]
    )
    outcome = run(config, [PERSON_LEFT, CAR_LEFT, PERSON_RIGHT], ["person", "car", "person"])
    assert outcome.kept == [0]
    assert outcome.zones == [["drive"]]
    assert [(d["label"], d["reason"]) for d in outcome.dropped] == [
        ("car", "outside_zones"),
        ("person", "outside_zones"),
    ]


def test_a_zone_drawn_to_the_frame_edge_contains_anchors_on_that_edge():
    config = camera(zones=[{"name": "drive", "kind": "include", "points": LEFT_HALF}])
    assert run(config, [CAR_LEFT], ["car"]).zones == [["drive"]]


def test_kept_boxes_list_every_include_zone_they_lie_in():
    top = [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]
    config = camera(
        zones=[
            {"name": "left", "kind": "include", "points": LEFT_HALF},
            {"name": "lower", "kind": "include", "points": top},
        ]
    )
    assert run(config, [PERSON_LEFT, PERSON_RIGHT], ["person"] * 2).zones == [
        ["left", "lower"],
        ["lower"],
    ]


def test_size_filters_by_fraction_of_the_frame_and_by_pixels():
    small = [0, 0, 20, 20]  # 400 px, 0.0008 of the frame
    big = [0, 0, 100, 100]  # 10000 px, 0.02 of the frame
    assert run(camera(min_box_area=0.001), [small, big], ["person"] * 2).kept == [1]
    outcome = run(camera(min_box_pixels=401), [small, big], ["person"] * 2)
    assert outcome.kept == [1]
    assert outcome.dropped[0]["reason"] == "too_small"


def test_filter_result_keeps_the_worker_format_aligned_and_names_the_camera():
    config = camera(zones=[{"name": "street", "kind": "mask", "points": LEFT_HALF}])
    result = {
        "width": W,
        "height": H,
        "channels": 3,
        "bbox_coords": [PERSON_LEFT, PERSON_RIGHT],
        "bbox_scores": [[0.9], [0.8]],
        "class_names": [["person"], ["person"]],
        "model": "yolox_nano",
    }
    filtered = filter_result(config, result, 0.5)
    assert filtered["bbox_coords"] == [PERSON_RIGHT]
    assert filtered["bbox_scores"] == [[0.8]]
    assert filtered["class_names"] == [["person"]]
    assert filtered["zones"] == [[]]
    assert filtered["camera"] == "cam_0123456789abcdef"
    assert filtered["model"] == "yolox_nano"
    assert [d["reason"] for d in filtered["dropped"]] == ["masked"]
