"""Per-service scores against the shared COCO subset's official annotations."""

from __future__ import annotations

import json

import pytest

from apps.reports.datasets.boxes import Box
from apps.reports.evaluation.metrics import normalised_ground_truth, score_service
from apps.tenants.application_types import APPLICATION_LABELS, ApplicationType
from harness.processes import shared_dir

PETS = ApplicationType.PETS


@pytest.fixture(scope="module")
def truth() -> dict:
    document = json.loads((shared_dir() / "eval" / "coco_subset" / "instances.json").read_text())
    return normalised_ground_truth(document)


def as_detections(truth: dict, shift: float = 0.0, score: float = 0.9) -> dict[int, list[Box]]:
    names = {c["id"]: c["name"] for c in truth["categories"]}
    detections: dict[int, list[Box]] = {image["id"]: [] for image in truth["images"]}
    for a in truth["annotations"]:
        if a["iscrowd"]:
            continue
        x, y, w, h = a["bbox"]
        detections[a["image_id"]].append(
            Box(names[a["category_id"]], score, x + shift * w, y, x + w + shift * w, y + h)
        )
    return detections


def test_the_ground_truth_itself_scores_perfectly(truth):
    score = score_service(truth, as_detections(truth), PETS, APPLICATION_LABELS[PETS], 0.5)
    assert score.classes == ("cat", "dog")
    assert score.ground_truth_boxes > 10
    assert score.map50_95 == pytest.approx(1.0, abs=0.01)
    assert (score.precision, score.recall) == (1.0, 1.0)


def test_shifted_boxes_lose_map_and_below_threshold_boxes_lose_recall(truth):
    labels = APPLICATION_LABELS[PETS]
    shifted = score_service(truth, as_detections(truth, shift=0.3), PETS, labels, 0.5)
    assert shifted.map50 == pytest.approx(1.0, abs=0.01)  # IoU 0.54 still matches at 0.5
    assert shifted.map50_95 < 0.5
    faint = score_service(truth, as_detections(truth, score=0.3), PETS, labels, 0.5)
    assert faint.map50_95 == pytest.approx(1.0, abs=0.01)  # mAP ignores the threshold
    assert faint.recall == 0.0 and faint.precision is None


def test_a_service_without_categories_in_the_set_is_not_scored(truth):
    truth = {**truth, "categories": [c for c in truth["categories"] if c["name"] == "person"]}
    assert score_service(truth, {}, PETS, APPLICATION_LABELS[PETS], 0.5) is None
