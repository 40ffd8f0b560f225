"""What one sampled frame says about the camera itself: covered or dark, blurred, moved.

Pure functions on a JPEG and the camera's baseline (plain values, JSON-able); health.py keeps
the baseline in Redis and decides the camera's state with hold times. The frame is decoded at
a quarter or an eighth of its size in grey (libjpeg scales while decoding: about 1.5 ms of CPU
for a 768x432 frame, less than the full decode of a 1080p one), then:

- detail: the grey level's standard deviation. Below COVERED_DETAIL the picture is flat (a hand,
  tape or paint over the lens, or no light): ``covered``.
- sharpness: the variance of the Laplacian, against the camera's own usual value (an average of
  its healthy samples), since a foggy street and a tiled hallway differ by tens of times; below
  BLURRED_RATIO of it: ``blurred``.
- the view: an 8x6 grid of cells of a 64x48 thumbnail, each compared with the camera's
  reference view by normalised cross-correlation (so a change of light does not count); the
  median over the textured cells below MOVED_MATCH: ``moved``. People walking through cover a
  few cells and leave the median near 1; a camera turned by a quarter frame brings it near 0.1
  (measured on the shared clip).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import cv2
import numpy as np

COVERED_DETAIL = 6.0  # grey-level standard deviation; the clip: 59-70, darkened to 4 %: 2.5
BLURRED_RATIO = 0.2  # of the usual sharpness; the clip: 750-1110, Gaussian sigma 6: 24-36
MOVED_MATCH = 0.5  # median cell correlation; the clip: >= 0.95, shifted a quarter: 0.06-0.22
BASELINE_SAMPLES = 3  # healthy samples before blur and movement are judged
_SHARPNESS_ALPHA = 0.1
_REFERENCE_ALPHA = 0.05  # the reference view follows slow changes (light, seasons)
_GRID = (8, 6)  # cells across, down
_CELL = 8  # pixels per cell side in the thumbnail
_TEXTURED = 20.0  # a cell's contrast (norm of its centred pixels) worth comparing
_MIN_CELLS = 4


@dataclass
class Baseline:
    """The camera's usual picture, learnt from its healthy samples."""

    samples: int = 0
    sharpness: float = 0.0
    reference: str = ""  # base64 of the 64x48 grey thumbnail (uint8)

    def to_json(self) -> dict:
        return {"samples": self.samples, "sharpness": self.sharpness, "reference": self.reference}

    @classmethod
    def from_json(cls, data: dict) -> Baseline:
        return cls(
            int(data.get("samples", 0)),
            float(data.get("sharpness", 0.0)),
            str(data.get("reference", "")),
        )


@dataclass
class Sample:
    detail: float
    sharpness: float
    thumbnail: np.ndarray = field(repr=False)  # uint8, 48 x 64


def _reduction(width: int) -> int:
    """The IMREAD_REDUCED flag keeping at least ~160 px across."""
    if width >= 1280:
        return cv2.IMREAD_REDUCED_GRAYSCALE_8
    if width >= 640:
        return cv2.IMREAD_REDUCED_GRAYSCALE_4
    if width >= 320:
        return cv2.IMREAD_REDUCED_GRAYSCALE_2
    return cv2.IMREAD_GRAYSCALE


def analyse(image: bytes, width: int) -> Sample | None:
    """Measure one frame; None when it does not decode (PNG and JPEG decode alike)."""
    grey = cv2.imdecode(np.frombuffer(image, np.uint8), _reduction(width))
    if grey is None or grey.size == 0:
        return None
    detail = float(grey.std())
    sharpness = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    size = (_GRID[0] * _CELL, _GRID[1] * _CELL)
    thumbnail = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return Sample(detail, sharpness, thumbnail)


def _cells(thumbnail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    across, down = _GRID
    cells = (
        thumbnail.astype(np.float32)
        .reshape(down, _CELL, across, _CELL)
        .transpose(0, 2, 1, 3)
        .reshape(down * across, _CELL * _CELL)
    )
    cells -= cells.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(cells, axis=1)
    return cells / np.maximum(norms, 1e-3)[:, None], norms


def _thumbnail(reference: str) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(reference), np.uint8)
    return raw.reshape(_GRID[1] * _CELL, _GRID[0] * _CELL)


def view_match(sample: Sample, baseline: Baseline) -> float:
    """Median correlation of the textured cells with the reference view (1.0: same scene, or
    too little texture to tell)."""
    if not baseline.reference:
        return 1.0
    ref_cells, ref_norms = _cells(_thumbnail(baseline.reference))
    cur_cells, cur_norms = _cells(sample.thumbnail)
    textured = (ref_norms > _TEXTURED) & (cur_norms > _TEXTURED)
    if int(textured.sum()) < _MIN_CELLS:
        return 1.0
    return float(np.median((ref_cells * cur_cells).sum(axis=1)[textured]))


def problem(sample: Sample, baseline: Baseline) -> str:
    """ "covered", "moved", "blurred" or "" (healthy), cheapest and surest first."""
    if sample.detail < COVERED_DETAIL:
        return "covered"
    if baseline.samples < BASELINE_SAMPLES:
        return ""
    if view_match(sample, baseline) < MOVED_MATCH:
        return "moved"
    if sample.sharpness < BLURRED_RATIO * baseline.sharpness:
        return "blurred"
    return ""


def learn(sample: Sample, baseline: Baseline) -> Baseline:
    """The baseline after a healthy sample."""
    if baseline.samples == 0 or not baseline.reference:
        reference = sample.thumbnail
        sharpness = sample.sharpness
    else:
        old = _thumbnail(baseline.reference).astype(np.float32)
        blended = (1 - _REFERENCE_ALPHA) * old + _REFERENCE_ALPHA * sample.thumbnail
        reference = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        sharpness = (
            1 - _SHARPNESS_ALPHA
        ) * baseline.sharpness + _SHARPNESS_ALPHA * sample.sharpness
    return Baseline(
        samples=baseline.samples + 1,
        sharpness=sharpness,
        reference=base64.b64encode(np.ascontiguousarray(reference).tobytes()).decode(),
    )
