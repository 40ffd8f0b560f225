"""PP-PicoDet (PaddleDetection): RGB ImageNet-normalised stretched input, GFL outputs.

Outputs: four class-score maps [1, HW, 80] (strides 8/16/32/64, already sigmoid), then four box
maps [1, HW, 4 * 8]: per side a distribution over 8 bins whose expectation times the stride is
the distance from the cell centre. No NMS inside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gpu_worker.families.base import (
    Detections,
    Family,
    Prepared,
    batched_nms,
    grid_cells,
    select_candidates,
)

STRIDES = (8, 16, 32, 64)
REG_BINS = 8
MEAN = (0.485, 0.456, 0.406)  # ImageNet, RGB
STD = (0.229, 0.224, 0.225)


class PicodetFamily(Family):
    letterbox = False
    input_name = "image"
    rgb = True
    # (x/255 - mean) / std folded into one multiply-add per channel, in RGB order.
    scale = (1 / (255.0 * STD[0]), 1 / (255.0 * STD[1]), 1 / (255.0 * STD[2]))
    offset = (-MEAN[0] / STD[0], -MEAN[1] / STD[1], -MEAN[2] / STD[2])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cells, self._stride = grid_cells(self.input_width, self.input_height, STRIDES)
        self._centre = (cells + 0.5) * self._stride
        self._bins = np.arange(REG_BINS, dtype=np.float32)

    def decode(
        self,
        outputs: dict[str, np.ndarray],
        prepared: Prepared,
        min_confidence: float,
        class_ids: Sequence[int] | None,
    ) -> Detections:
        maps = list(outputs.values())
        levels = len(STRIDES)
        scores = np.concatenate([m[0] for m in maps[:levels]])  # (A, 80)
        rows, classes, values = select_candidates(scores, min_confidence, class_ids)
        if len(rows) == 0:
            return Detections.empty()
        regs = np.concatenate([m[0] for m in maps[levels:]])[rows].reshape(-1, 4, REG_BINS)
        regs = np.exp(regs - regs.max(axis=-1, keepdims=True))
        regs /= regs.sum(axis=-1, keepdims=True)
        distances = (regs @ self._bins) * self._stride[rows]  # (n, 4): left, top, right, bottom
        centre = self._centre[rows]
        boxes = np.concatenate([centre - distances[:, :2], centre + distances[:, 2:]], axis=1)
        boxes[:, 0::2] *= prepared.scale_x
        boxes[:, 1::2] *= prepared.scale_y
        return batched_nms(boxes, values, classes, self.nms_iou, self.max_detections)


FAMILY = PicodetFamily
