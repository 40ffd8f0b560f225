"""PP-PicoDet (PaddleDetection): RGB ImageNet-normalised stretched input, GFL outputs.

Outputs: four class-score maps [1, HW, 80] (strides 8/16/32/64, already sigmoid), then four box
maps [1, HW, 4 * 8]: per side a distribution over 8 bins whose expectation times the stride is
the distance from the cell centre. No NMS inside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gpu_worker.families.base import (
    Detections,
    Family,
    Prepared,
    batched_nms,
    grid_cells,
    resize,
    select_candidates,
    to_nchw,
)

STRIDES = (8, 16, 32, 64)
REG_BINS = 8
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class PicodetFamily(Family):
    letterbox = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cells, self._stride = grid_cells(self.input_width, self.input_height, STRIDES)
        self._centre = (cells + 0.5) * self._stride
        # (x/255 - mean) / std folded into one multiply-add per channel, in RGB order.
        self._mul = (1.0 / (255.0 * STD)).reshape(1, 3, 1, 1)
        self._add = (-MEAN / STD).reshape(1, 3, 1, 1)
        self._bins = np.arange(REG_BINS, dtype=np.float32)

    def preprocess(self, image: np.ndarray) -> Prepared:
        src_h, src_w = image.shape[:2]
        resized = resize(image, self.input_width, self.input_height)
        blob = to_nchw(resized, swap_rb=True)
        blob *= self._mul
        blob += self._add
        return Prepared(
            {"image": blob}, scale_x=src_w / self.input_width, scale_y=src_h / self.input_height
        )

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
