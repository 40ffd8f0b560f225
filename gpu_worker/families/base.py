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


@dataclass(frozen=True)
class InputLayout:
    """How a family's image tensor is made from BGR uint8 pixels: the size, stretched or
    letterboxed (padded bottom/right with `pad`), the channel order, and per tensor channel
    value = pixel * scale + offset (normalisation folded into one multiply-add)."""

    width: int
    height: int
    letterbox: bool = False
    rgb: bool = False
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pad: int = 114


class Family(ABC):
    """Preprocessing and output decoding for one family of detectors."""

    letterbox: bool = False  # keep aspect ratio (pad) rather than stretch to the input size
    input_name: str = "images"  # the graph's image input
    rgb: bool = False  # the tensor's channel order (decoded pixels are BGR)
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per tensor channel, see InputLayout
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __init__(self, spec: ModelSpec, nms_iou: float = 0.45, max_detections: int = 100) -> None:
        self.spec = spec
        self.input_width, self.input_height = spec.input_size
        self.nms_iou = nms_iou
        self.max_detections = max_detections
        self.layout = InputLayout(
            self.input_width,
            self.input_height,
            letterbox=self.letterbox,
            rgb=self.rgb,
            scale=self.scale,
            offset=self.offset,
        )

    def min_decode_size(self, width: int, height: int) -> tuple[int, int]:
        """The smallest decoded size that loses nothing once resized to the model input."""
        if self.letterbox:
            ratio = min(self.input_width / width, self.input_height / height)
            return math.ceil(width * ratio), math.ceil(height * ratio)
        return min(width, self.input_width), min(height, self.input_height)

    def preprocess(self, image: np.ndarray) -> Prepared:
        """BGR uint8 HxWx3 image (a view into a larger one is fine) → model inputs for one
        image; families with inputs beside the image add them here."""
        tensor, scale_x, scale_y = model_input(image, self.layout)
        return Prepared({self.input_name: tensor}, scale_x=scale_x, scale_y=scale_y)

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


def model_input(image: np.ndarray, layout: InputLayout) -> tuple[np.ndarray, float, float]:
    """BGR HxWx3 uint8 → (1x3xHxW float32 tensor, decoded pixels per tensor pixel in x, in y).

    One resize of the interleaved pixels (the only pass at the decoded size), then each
    channel plane is scaled, offset, converted to float and written into its place in the
    tensor by one OpenCV call (the channel swap is free: it only picks the plane). The former
    letterbox canvas, blobFromImage and in-place normalisation made three more full passes
    and two more allocations; this is 0.49 against 0.63 CPU ms for DEIMv2 on persons.jpg
    (docs/BENCHMARKS.md). OpenCV releases the GIL for every call here."""
    src_h, src_w = image.shape[:2]
    if layout.letterbox:
        ratio = min(layout.width / src_w, layout.height / src_h)
        new_w, new_h = max(1, int(src_w * ratio)), max(1, int(src_h * ratio))
        scale_x = scale_y = 1 / ratio
    else:
        new_w, new_h = layout.width, layout.height
        scale_x, scale_y = src_w / layout.width, src_h / layout.height
    planes = cv2.split(resize(image, new_w, new_h))
    tensor = np.empty((1, 3, layout.height, layout.width), np.float32)
    padded = new_w < layout.width or new_h < layout.height
    for channel in range(3):
        plane = planes[2 - channel] if layout.rgb else planes[channel]
        scale, offset = layout.scale[channel], layout.offset[channel]
        target = tensor[0, channel]
        if padded:
            target[new_h:, :] = target[:new_h, new_w:] = layout.pad * scale + offset
            target = target[:new_h, :new_w]
        # dst is a view of the tensor: OpenCV writes through it (checked by the tests).
        cv2.addWeighted(plane, scale, plane, 0.0, offset, dst=target, dtype=cv2.CV_32F)
    return tensor, scale_x, scale_y


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
