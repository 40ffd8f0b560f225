"""DEIMv2 (DETR-style): RGB /255 stretched input plus the target size; decoding, and the
absence of NMS, are inside the graph. Below ~0.5 it can emit duplicates for one object, which is
why the service's thresholds, not this file, decide what a camera sees."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gpu_worker.families.base import Detections, Family, Prepared


class Deimv2Family(Family):
    letterbox = False
    rgb = True
    scale = (1 / 255.0,) * 3

    def preprocess(self, image: np.ndarray) -> Prepared:
        src_h, src_w = image.shape[:2]
        prepared = super().preprocess(image)
        # Boxes come back in the pixels of the size we pass: the decoded image's.
        prepared.inputs["orig_target_sizes"] = np.array([[src_w, src_h]], dtype=np.int64)
        return prepared

    def decode(
        self,
        outputs: dict[str, np.ndarray],
        prepared: Prepared,
        min_confidence: float,
        class_ids: Sequence[int] | None,
    ) -> Detections:
        labels = outputs["labels"][0].astype(np.int64)
        boxes = outputs["boxes"][0].astype(np.float32)
        scores = outputs["scores"][0].astype(np.float32)
        keep = scores >= min_confidence
        if class_ids is not None:
            keep &= np.isin(labels, np.asarray(class_ids))
        order = np.argsort(-scores[keep], kind="stable")[: self.max_detections]
        return Detections(boxes[keep][order], scores[keep][order], labels[keep][order])


FAMILY = Deimv2Family
