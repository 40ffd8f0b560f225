"""Short test videos written with OpenCV, with a known number of frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np


def write_video(path: Path, frames: Sequence[np.ndarray], fps: float) -> Path:
    """An MJPG .avi of exactly these frames (all resized to the first one's size)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for frame in frames:
        writer.write(cv2.resize(frame, (width, height)))
    writer.release()
    return path


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image
