"""Frame sources and motion detection on real video files written with OpenCV."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from ipcai.errors import IpcaiError
from ipcai.video import (
    FileSource,
    MotionDetector,
    SourceError,
    is_live,
    redact,
    require_cv2,
)

from tests.client.videos import write_video


def blank(width: int = 160, height: int = 120) -> np.ndarray:
    return np.full((height, width, 3), 40, dtype=np.uint8)


def with_square(x: int, size: int = 40) -> np.ndarray:
    frame = blank()
    frame[40 : 40 + size, x : x + size] = 230
    return frame


def test_a_file_is_read_in_order_on_its_own_clock(tmp_path):
    video = write_video(tmp_path / "clip.avi", [blank()] * 12, fps=4)
    frames = list(FileSource(str(video)).frames(threading.Event()))
    assert [f.index for f in frames] == list(range(12))
    assert [f.media_time for f in frames] == [i * 0.25 for i in range(12)]
    assert frames[0].image.shape == (120, 160, 3)


def test_a_looped_file_continues_its_clock_and_numbering(tmp_path):
    video = write_video(tmp_path / "clip.avi", [blank()] * 4, fps=4)
    stop = threading.Event()
    frames = []
    for frame in FileSource(str(video), loop=True).frames(stop):
        frames.append(frame)
        if len(frames) == 10:
            stop.set()
    assert [f.index for f in frames] == list(range(10))
    assert [f.media_time for f in frames] == [i * 0.25 for i in range(10)]


def test_a_missing_or_broken_file_is_a_source_error(tmp_path):
    with pytest.raises(SourceError):
        list(FileSource(str(tmp_path / "missing.avi")).frames(threading.Event()))
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceError):
        list(FileSource(str(broken)).frames(threading.Event()))


def test_motion_is_a_changed_area_not_noise():
    detector = MotionDetector(threshold=0.01)
    assert detector(with_square(10)) is False  # first frame: reference only
    assert detector(with_square(10)) is False
    noisy = with_square(10).astype(np.int16)
    noisy += np.random.default_rng(0).integers(-6, 7, noisy.shape, dtype=np.int16)
    assert detector(noisy.clip(0, 255).astype(np.uint8)) is False
    assert detector(with_square(90)) is True
    assert detector(with_square(90)) is False


def test_live_sources_are_urls_and_devices_and_passwords_are_masked():
    assert is_live("rtsp://cam.local/stream1")
    assert is_live("0")
    assert not is_live("videos/garage.mp4")
    assert redact("rtsp://admin:hunter2@cam.local:554/s1") == "rtsp://admin:***@cam.local:554/s1"
    assert redact("http://cam.local/video.mjpg") == "http://cam.local/video.mjpg"


def test_without_opencv_the_hint_names_the_install_the_readme_uses(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` now raises ImportError
    with pytest.raises(IpcaiError, match=r"pip install './client\[video\]'"):
        require_cv2()
