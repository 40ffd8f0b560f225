"""Detection metrics against a COCO ground truth, per service.

mAP50:95 and mAP50 come from pycocotools (the reference implementation every paper reports), on
the service's categories only. Precision and recall are at the service's own threshold, IoU 0.5,
greedy matching by score: what a camera of that tenant would actually get.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections import defaultdict
from dataclasses import dataclass

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from apps.reports.datasets.boxes import Box

MATCH_IOU = 0.5


@dataclass(frozen=True)
class ServiceScore:
    application_type: str
    classes: tuple[str, ...]
    ground_truth_boxes: int
    map50_95: float | None  # None when the set has no box of the service's classes
    map50: float | None
    precision: float | None  # None when nothing was detected at the threshold
    recall: float | None
    threshold: float

    def as_dict(self) -> dict:
        return {
            "application_type": self.application_type,
            "classes": list(self.classes),
            "ground_truth_boxes": self.ground_truth_boxes,
            "map50_95": self.map50_95,
            "map50": self.map50,
            "precision": self.precision,
            "recall": self.recall,
            "threshold": self.threshold,
        }


def normalised_ground_truth(document: dict) -> dict:
    """A copy pycocotools accepts: annotation ids, `area` and `iscrowd` filled where an export
    (Label Studio's, a hand edit) left them out."""
    document = copy.deepcopy(document)
    for index, annotation in enumerate(document.get("annotations", []), start=1):
        annotation.setdefault("id", index)
        annotation.setdefault("iscrowd", 0)
        if "area" not in annotation:
            _, _, w, h = annotation["bbox"]
            annotation["area"] = float(w) * float(h)
    document.setdefault("info", {})
    return document


def _coco(document: dict) -> COCO:
    coco = COCO()
    coco.dataset = document  # type: ignore[assignment]  # the stubs' TypedDict; same keys
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _iou(a: list[float], b: Box) -> float:
    ax1, ay1, aw, ah = a
    ix = max(0.0, min(ax1 + aw, b.x2) - max(ax1, b.x1))
    iy = max(0.0, min(ay1 + ah, b.y2) - max(ay1, b.y1))
    inter = ix * iy
    union = aw * ah + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def score_service(
    ground_truth: dict,
    detections: dict[int, list[Box]],
    application_type: str,
    service_labels: frozenset[str],
    threshold: float,
) -> ServiceScore | None:
    """The service's scores, or None when the set has none of its categories at all.

    `ground_truth` is a normalised COCO document; `detections` maps its image ids to the
    model's boxes (all of them, scored down to a low threshold, as mAP needs)."""
    categories = {
        c["name"]: c["id"] for c in ground_truth["categories"] if c["name"] in service_labels
    }
    if not categories:
        return None
    category_ids = set(categories.values())
    gt_boxes = [
        a
        for a in ground_truth["annotations"]
        if a["category_id"] in category_ids and not a.get("iscrowd")
    ]
    results = [
        {
            "image_id": image_id,
            "category_id": categories[box.label],
            "bbox": [box.x1, box.y1, box.width, box.height],
            "score": box.score,
        }
        for image_id, boxes in detections.items()
        for box in boxes
        if box.label in categories
    ]
    map50_95 = map50 = None
    if gt_boxes:
        map50_95, map50 = 0.0, 0.0
        if results:
            map50_95, map50 = _coco_map(ground_truth, results, sorted(category_ids))
    precision, recall = _precision_recall(gt_boxes, detections, categories, threshold)
    return ServiceScore(
        application_type=application_type,
        classes=tuple(sorted(categories)),
        ground_truth_boxes=len(gt_boxes),
        map50_95=map50_95,
        map50=map50,
        precision=precision,
        recall=recall,
        threshold=threshold,
    )


def _coco_map(ground_truth: dict, results: list[dict], category_ids: list[int]) -> tuple:
    gt = _coco(ground_truth)
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(results)
        evaluator = COCOeval(gt, dt, "bbox")
        evaluator.params.catIds = category_ids
        evaluator.params.imgIds = sorted(gt.getImgIds())
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    # stats[0] AP@[.50:.95], stats[1] AP@.50; -1 means "no ground truth" (handled above).
    return round(max(0.0, float(evaluator.stats[0])), 4), round(
        max(0.0, float(evaluator.stats[1])), 4
    )


def _precision_recall(
    gt_boxes: list[dict],
    detections: dict[int, list[Box]],
    categories: dict[str, int],
    threshold: float,
) -> tuple[float | None, float | None]:
    truth: dict[tuple[int, int], list[list[float]]] = defaultdict(list)
    for annotation in gt_boxes:
        truth[(annotation["image_id"], annotation["category_id"])].append(annotation["bbox"])
    true_positives = false_positives = 0
    for image_id, boxes in detections.items():
        kept = sorted(
            (b for b in boxes if b.label in categories and b.score >= threshold),
            key=lambda b: b.score,
            reverse=True,
        )
        unmatched = {key: list(value) for key, value in truth.items() if key[0] == image_id}
        for box in kept:
            candidates = unmatched.get((image_id, categories[box.label]), [])
            best = max(candidates, key=lambda gt: _iou(gt, box), default=None)
            if best is not None and _iou(best, box) >= MATCH_IOU:
                candidates.remove(best)
                true_positives += 1
            else:
                false_positives += 1
    detected = true_positives + false_positives
    precision = round(true_positives / detected, 4) if detected else None
    recall = round(true_positives / len(gt_boxes), 4) if gt_boxes else None
    return precision, recall
