"""The face finder: YuNet-n (libfacedetection, Apache-2.0), a model stage the portal asks
through `POST /regions` so it can blur faces before it stores an image (docs/PRIVACY.md).

Loaded on the first request that asks for faces, never at start: a worker whose tenants do
not redact pays neither its memory nor its load time. The weights are checksummed like a
detector's (models.json `yunet_n`, fetched by `python -m gpu_worker fetch yunet_n`).

Input: BGR, 0-255, sides padded to multiples of 32. Outputs per stride 8 / 16 / 32: `cls_S`,
`obj_S` [N, HW, 1], `bbox_S` [N, HW, 4] (dx, dy, log w, log h in cells), `kps_S` (unused).
The decoding is the one in the shared models' README, checked against the faces of
persons.jpg (tests/gpu_worker/test_faces.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gpu_worker.manifest import get_spec, verified_model_path

log = logging.getLogger(__name__)

MODEL_NAME = "yunet_n"
STRIDES = (8, 16, 32)
ALIGN = 32
NMS_IOU = 0.3


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in original-image pixels
    score: float

    def to_json(self) -> dict[str, object]:
        return {"box": [round(v) for v in self.box], "score": round(self.score, 4)}


class FaceFinder:
    """One ONNX Runtime session; `find` is thread-safe (ONNX Runtime's run is)."""

    def __init__(self, path: Path, threads: int = 1, max_side: int = 1024) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.max_side = max_side
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]

    def find(self, pixels: np.ndarray, min_score: float = 0.5) -> list[Face]:
        """Faces in a BGR image, boxes in its pixels, best first."""
        height, width = pixels.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:
            pixels = cv2.resize(
                pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
        h, w = pixels.shape[:2]
        padded_h, padded_w = -(-h // ALIGN) * ALIGN, -(-w // ALIGN) * ALIGN
        blob = np.zeros((1, 3, padded_h, padded_w), np.float32)
        blob[0, :, :h, :w] = pixels.transpose(2, 0, 1)
        named = dict(zip(self._outputs, self._session.run(None, {self._input: blob}), strict=True))
        boxes: list[list[float]] = []
        scores: list[float] = []
        for stride in STRIDES:
            cols = padded_w // stride
            cls = np.clip(named[f"cls_{stride}"][0, :, 0], 0, 1)
            obj = np.clip(named[f"obj_{stride}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            keep = np.nonzero(score >= min_score)[0]
            if keep.size == 0:
                continue
            bbox = named[f"bbox_{stride}"][0, keep]
            col, row = keep % cols, keep // cols
            cx, cy = (col + bbox[:, 0]) * stride, (row + bbox[:, 1]) * stride
            bw, bh = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
            for i in range(keep.size):
                boxes.append([cx[i] - bw[i] / 2, cy[i] - bh[i] / 2, bw[i], bh[i]])
                scores.append(float(score[keep[i]]))
        if not boxes:
            return []
        kept = cv2.dnn.NMSBoxes(boxes, scores, min_score, NMS_IOU)
        faces = []
        for i in np.asarray(kept).reshape(-1).tolist():
            x, y, bw_, bh_ = (v / scale for v in boxes[i])
            box = (
                max(0.0, x),
                max(0.0, y),
                min(float(width), x + bw_),
                min(float(height), y + bh_),
            )
            faces.append(Face(box, scores[i]))
        return sorted(faces, key=lambda f: -f.score)


class FaceStage:
    """Loads the finder once, on first use (a lock: two first requests load it once)."""

    def __init__(self, model_dir: Path) -> None:
        self._model_dir = model_dir
        self._finder: FaceFinder | None = None
        self._lock = threading.Lock()

    def finder(self) -> FaceFinder:
        """The loaded finder; ModelFileError when the weights are missing or not verified."""
        if self._finder is None:
            with self._lock:
                if self._finder is None:
                    path = verified_model_path(
                        get_spec(MODEL_NAME, self._model_dir), self._model_dir
                    )
                    self._finder = FaceFinder(path)
                    log.info("face finder loaded from %s", path)
        return self._finder
