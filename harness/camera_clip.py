"""The shared test clip (../shared/videos/one-by-one-person-detection.mp4: six people visit a
fixed camera one after another), decoded once per process and sampled at a frame rate."""

from __future__ import annotations

from functools import cache

import cv2

from harness.processes import shared_dir

CLIP = shared_dir() / "videos" / "one-by-one-person-detection.mp4"
CLIP_FPS = 10.0
VISITS = 6  # the clip's README: six visits, the scene empty between them


@cache
def _frames() -> tuple[bytes, ...]:
    capture = cv2.VideoCapture(str(CLIP))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    capture.release()
    assert len(frames) > 1000, f"could not decode {CLIP}"
    return tuple(frames)


def sampled(fps: float) -> list[tuple[float, bytes]]:
    """(seconds into the clip, JPEG) of every frame a camera sending `fps` would send."""
    step = round(CLIP_FPS / fps)
    return [(index / CLIP_FPS, jpeg) for index, jpeg in enumerate(_frames()) if index % step == 0]
