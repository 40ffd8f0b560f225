"""YOLOX (Megvii): BGR 0-255 letterboxed input, grid-decoded (cx, cy, log w, log h) output.

Output [1, A, 85] per anchor point over strides 8/16/32: box, objectness, 80 class scores
(already sigmoid). The official tiny/s/m/l/x exports share this layout, so one file serves all.
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

STRIDES = (8, 16, 32)


class YoloxFamily(Family):
    letterbox = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._grid, self._stride = grid_cells(self.input_width, self.input_height, STRIDES)

    def decode(
        self,
        outputs: dict[str, np.ndarray],
        prepared: Prepared,
        min_confidence: float,
        class_ids: Sequence[int] | None,
    ) -> Detections:
        raw = next(iter(outputs.values()))[0]  # (A, 85)
        # score = objectness x class score <= objectness: rows below the threshold on
        # objectness alone can never qualify, and they are nearly all of the 3549.
        live = np.flatnonzero(raw[:, 4] >= min_confidence)
        scores = raw[live, 4:5] * raw[live, 5:]
        rows, classes, values = select_candidates(scores, min_confidence, class_ids)
        rows = live[rows]
        if len(rows) == 0:
            return Detections.empty()
        grid, stride, box = self._grid[rows], self._stride[rows], raw[rows, :4]
        centre = (box[:, :2] + grid) * stride
        half = np.exp(box[:, 2:4]) * stride / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        boxes[:, 0::2] *= prepared.scale_x
        boxes[:, 1::2] *= prepared.scale_y
        return batched_nms(boxes, values, classes, self.nms_iou, self.max_detections)


FAMILY = YoloxFamily
