"""The COCO evaluation subset (shared/eval/coco_subset) and mAP per service, scored through the
worker's own pipeline: shared by bench/accuracy.py (choosing the default model) and the
TensorRT parity test (FP16 must keep ONNX Runtime's mAP), so both score the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from typing import Any

from gpu_worker.app_types import APPLICATION_CLASSES
from gpu_worker.detector import Detector, SliceJob
from gpu_worker.slicing import OFF, SliceRequest
from harness.processes import shared_dir

EVAL = shared_dir() / "eval" / "coco_subset"
SERVICES = tuple(APPLICATION_CLASSES)


@dataclasses.dataclass
class EvalSet:
    coco: dict
    images: list[dict]
    blobs: dict[int, bytes]
    name_to_cat: dict[str, int]
    cat_ids: dict[str, list[int]]

    @property
    def image_ids(self) -> list[int]:
        return [image["id"] for image in self.images]


def load_eval_set(val_only: bool) -> EvalSet:
    coco = json.loads((EVAL / "instances.json").read_text())
    images = [i for i in coco["images"] if not val_only or "val2017" in i.get("coco_url", "")]
    blobs = {i["id"]: (EVAL / "images" / i["file_name"]).read_bytes() for i in images}
    name_to_cat = {c["name"]: c["id"] for c in coco["categories"]}
    cat_ids = {s: [name_to_cat[n] for n in names] for s, names in APPLICATION_CLASSES.items()}
    return EvalSet(coco, images, blobs, name_to_cat, cat_ids)


def detections(
    detector: Detector,
    data: EvalSet,
    blobs: dict[int, bytes],
    scale: float,
    slices: SliceRequest = OFF,
) -> dict[str, list[dict]]:
    """COCO-format results per service, running each image through the model once (with its
    slices, when asked: gpu_worker/slicing.py)."""
    results: dict[str, list[dict]] = {service: [] for service in SERVICES}
    for image in data.images:
        blob = blobs[image["id"]]
        item = detector.prepare(SliceJob(blob, slices) if slices.wanted else blob)
        outputs = detector.run_batch(detector.lanes[0], [item])[0]
        for service in SERVICES:
            found = detector.finish(item, outputs, service, 0.01)
            for box, score, label in zip(found.boxes, found.scores, found.labels, strict=True):
                x1, y1, x2, y2 = (float(v) / scale for v in box)
                results[service].append(
                    {
                        "image_id": image["id"],
                        "category_id": data.name_to_cat[label],
                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                        "score": float(score),
                    }
                )
    return results


def service_map(
    coco_gt: Any, results: list[dict], image_ids: list[int], cat_ids: list[int]
) -> float:
    """mAP50:95 (COCOeval, bbox) over the service's classes; 0 when nothing was found."""
    return service_stats(coco_gt, results, image_ids, cat_ids)[0]


def service_stats(
    coco_gt: Any, results: list[dict], image_ids: list[int], cat_ids: list[int]
) -> list[float]:
    """COCOeval's twelve numbers over the service's classes: [0] mAP50:95, [1] mAP50,
    [3] / [4] / [5] small / medium / large AP (-1 where the set has none of that size)."""
    from pycocotools.cocoeval import COCOeval

    if not results:
        return [0.0] * 12
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(results), "bbox")
        evaluator.params.imgIds = image_ids
        evaluator.params.catIds = cat_ids
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return [float(v) for v in evaluator.stats]
