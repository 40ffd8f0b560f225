"""The plate acceptance clip (issue 23): a plate photo the reader reads exactly, shifted a few
pixels a frame, as a camera would see a car drive past. Shared by the live test and the bench
that records its detections, so both play the very same frames."""

from __future__ import annotations

import cv2
import numpy as np

from harness.plates_eval import load_truth

TRUTH = load_truth(3)[2]  # CCLVN3: read exactly (tests/apps/detection/test_plates_api.py)
FRAMES = 30
SHIFT_PX = 3


def shifted_frames() -> list[bytes]:
    """The photo moved SHIFT_PX to the right each frame (edge pixels repeated), as JPEGs."""
    image = cv2.imread(str(TRUTH.image))
    if image is None:
        raise FileNotFoundError(TRUTH.image)
    height, width = image.shape[:2]
    frames = []
    for i in range(FRAMES):
        move = np.array([[1, 0, SHIFT_PX * i], [0, 1, 0]], np.float32)
        moved = cv2.warpAffine(image, move, (width, height), borderMode=cv2.BORDER_REPLICATE)
        ok, jpeg = cv2.imencode(".jpg", moved, [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise RuntimeError(f"could not encode frame {i} of {TRUTH.image}")
        frames.append(jpeg.tobytes())
    return frames
