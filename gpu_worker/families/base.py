"""What every model family provides, plus the resize and NMS steps several families share."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from gpu_worker.manifest import ModelSpec


@dataclass
class Prepared:
    """Model inputs for one image (each with a leading batch dimension of 1) and the factors
    that map model-input coordinates back to the decoded image."""

    inputs: dict[str, np.ndarray]
    scale_x: float = 1.0  # decoded-image pixels per model-input pixel
    scale_y: float = 1.0
    extra: dict = field(default_factory=dict)


@dataclass
class Detections:
    """Boxes (x1, y1, x2, y2) in decoded-image pixels, scores and class indices."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.scores)


class Family(ABC):
    """Preprocessing and output decoding for one family of detectors."""

    letterbox: bool = False  # keep aspect ratio (pad) rather than stretch to the input size

    def __init__(self, spec: ModelSpec, nms_iou: float = 0.45, max_detections: int = 100) -> None:
        self.spec = spec
        self.input_width, self.input_height = spec.input_size
        self.nms_iou = nms_iou
        self.max_detections = max_detections

    def min_decode_size(self, width: int, height: int) -> tuple[int, int]:
        """The smallest decoded size that loses nothing once resized to the model input."""
        if self.letterbox:
            ratio = min(self.input_width / width, self.input_height / height)
            return math.ceil(width * ratio), math.ceil(height * ratio)
        return min(width, self.input_width), min(height, self.input_height)

    @abstractmethod
    def preprocess(self, image: np.ndarray) -> Prepared:
        """BGR uint8 HxWx3 image → model inputs for one image."""

    @abstractmethod
    def decode(
        self,
        outputs: dict[str, np.ndarray],
        prepared: Prepared,
        min_confidence: float,
        class_ids: Sequence[int] | None,
    ) -> Detections:
        """One image's outputs (batch dimension 1) → detections at or above min_confidence,
        restricted to class_ids (None = all classes)."""


def grid_cells(width: int, height: int, strides: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(col, row) of every cell of each stride's feature map, level by level, and each cell's
    stride: the anchor-free layout YOLOX and PicoDet heads emit their predictions in."""
    cells, cell_strides = [], []
    for stride in strides:
        cols, rows = math.ceil(width / stride), math.ceil(height / stride)
        xs, ys = np.meshgrid(np.arange(cols), np.arange(rows))
        cells.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        cell_strides.append(np.full((rows * cols, 1), stride))
    return (
        np.concatenate(cells).astype(np.float32),
        np.concatenate(cell_strides).astype(np.float32),
    )


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear, as the models were trained; area averaging when shrinking more than 2x, where
    bilinear sampling skips pixels and aliases (PNG or unscaled 4K frames)."""
    src_h, src_w = image.shape[:2]
    shrinking_a_lot = width * 2 < src_w or height * 2 < src_h
    interpolation = cv2.INTER_AREA if shrinking_a_lot else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def letterbox_bgr(
    image: np.ndarray, width: int, height: int, pad: int = 114
) -> tuple[np.ndarray, float]:
    """Resize keeping the aspect ratio, pad bottom/right; returns (HxWx3 uint8, ratio)."""
    src_h, src_w = image.shape[:2]
    ratio = min(width / src_w, height / src_h)
    new_w, new_h = max(1, int(src_w * ratio)), max(1, int(src_h * ratio))
    canvas = np.full((height, width, 3), pad, dtype=np.uint8)
    canvas[:new_h, :new_w] = resize(image, new_w, new_h)
    return canvas, ratio


def to_nchw(image: np.ndarray, scale: float = 1.0, swap_rb: bool = False) -> np.ndarray:
    """HxWx3 uint8 → 1x3xHxW float32 in one C++ pass (OpenCV's blobFromImage)."""
    return cv2.dnn.blobFromImage(image, scalefactor=scale, swapRB=swap_rb)


def select_candidates(
    scores: np.ndarray, min_confidence: float, class_ids: Sequence[int] | None, limit: int = 1000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From an (N, C) score matrix, the (row, class, score) triples at or above the threshold,
    only for the wanted classes, best `limit` first (bounds NMS cost on noisy frames)."""
    columns = np.arange(scores.shape[1]) if class_ids is None else np.asarray(class_ids)
    scores = scores[:, columns] if class_ids is not None else scores
    rows, cols = np.nonzero(scores >= min_confidence)
    values = scores[rows, cols]
    if len(values) > limit:
        keep = np.argpartition(-values, limit)[:limit]
        rows, cols, values = rows[keep], cols[keep], values[keep]
    return rows, columns[cols].astype(np.int64), values.astype(np.float32)


def batched_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    iou: float,
    max_detections: int,
) -> Detections:
    """Per-class non-maximum suppression over xyxy boxes, best `max_detections` kept."""
    if len(scores) == 0:
        return Detections.empty()
    xywh = boxes.copy()
    xywh[:, 2:] -= xywh[:, :2]
    kept = cv2.dnn.NMSBoxesBatched(
        xywh.astype(np.float64),  # type: ignore[arg-type]  # cv2 stubs: Sequence; arrays work
        scores.astype(np.float64),  # type: ignore[arg-type]  # cv2 stubs: Sequence; arrays work
        class_ids.astype(np.int32),  # type: ignore[arg-type]  # cv2 stubs: Sequence; arrays work
        0.0,
        iou,
    )
    keep = np.asarray(kept, dtype=np.int64).reshape(-1)
    keep = keep[np.argsort(-scores[keep], kind="stable")][:max_detections]
    return Detections(boxes[keep].astype(np.float32), scores[keep], class_ids[keep])
