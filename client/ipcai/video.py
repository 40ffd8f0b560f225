"""Frames from a camera stream or a video file, through OpenCV (FFmpeg inside the wheel).

Two kinds of source behave differently on purpose:

* A file is read frame by frame in order, and time is the file's own clock (frame index over
  its frame rate): `--fps 2` on a recording analyses two frames per recorded second, as fast
  as the service answers, and the same file always gives the same frames.
* A live stream (RTSP / HTTP / a device number) is read by a background thread that keeps only
  the newest frame: a stream is never paused, so reading it slower than it plays would let
  OpenCV's buffer grow and every answer come later and later. When the stream breaks the
  thread reopens it with backoff, for as long as the watch runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ipcai.errors import IpcaiError

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger("ipcai.watch")

# Without these OpenCV may wait minutes on a camera that went away (FFmpeg's default).
OPEN_TIMEOUT_MS = 10_000
READ_TIMEOUT_MS = 10_000


class SourceError(IpcaiError):
    """The video source cannot be opened or read (and is not one that reconnects)."""

    code = "source_error"


def require_cv2() -> Any:
    """The cv2 module, or a clear message on how to install it."""
    try:
        import cv2
    except ImportError as exc:
        raise IpcaiError(
            "`ipcai watch` needs OpenCV: pip install './client[video]' in a checkout of the "
            "service, or pip install 'ipcai[video]' (opencv-python-headless)"
        ) from exc
    return cv2


def redact(source: str) -> str:
    """The source with any password in its URL masked, for logs and JSON output."""
    parts = urlsplit(source)
    if not parts.password:
        return source
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def is_live(source: str) -> bool:
    """True for network streams and capture devices, False for a video file."""
    return "://" in source or source.isdigit()


@dataclass(frozen=True)
class Frame:
    """One decoded frame (BGR) and where it sits in the stream."""

    index: int  # frames read since the watch started, across loops and reconnects
    image: np.ndarray
    media_time: float | None  # seconds into the recording; None for live streams
    captured_at: float  # wall-clock time.time() when it was read


class Backoff:
    """Exponential waits between reconnect attempts, reset once things work again."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self.maximum, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.initial


class FileSource:
    """A video file read in order; with `loop` it starts again at the end (replay a clip as
    if it were a camera, e.g. to try an agent setup)."""

    def __init__(self, path: str, *, loop: bool = False) -> None:
        self.path = path
        self.loop = loop

    def frames(self, stop: threading.Event) -> Generator[Frame, None, None]:
        cv2 = require_cv2()
        index = 0
        offset = 0.0  # media time where the current pass over the file started
        while not stop.is_set():
            capture = cv2.VideoCapture(self.path)
            if not capture.isOpened():
                raise SourceError(f"cannot open video {self.path!r}")
            fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
            local = 0
            try:
                while not stop.is_set():
                    ok, image = capture.read()
                    if not ok:
                        break
                    if fps > 0:
                        media_time = offset + local / fps
                    else:  # no frame rate in the container: trust the frame timestamps
                        media_time = offset + capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
                    yield Frame(index, image, media_time, time.time())
                    index += 1
                    local += 1
            finally:
                capture.release()
            if local == 0:
                raise SourceError(f"no frames could be read from {self.path!r}")
            if not self.loop:
                return
            offset += local / fps if fps > 0 else media_time - offset + 1e-3


class LiveSource:
    """A network stream or device, read continuously by a thread that keeps the newest frame."""

    def __init__(self, source: str, *, max_backoff: float = 30.0) -> None:
        self.source = source
        self.backoff = Backoff(maximum=max_backoff)
        self._latest: Frame | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def _open(self, cv2: Any) -> Any:
        if self.source.isdigit():
            return cv2.VideoCapture(int(self.source))
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS]
        params += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
        return cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, params)

    def _grab(self, stop: threading.Event) -> None:
        cv2 = require_cv2()
        index = 0
        name = redact(self.source)
        while not stop.is_set():
            capture = self._open(cv2)
            read_any = False
            try:
                while capture.isOpened() and not stop.is_set():
                    ok, image = capture.read()
                    if not ok:
                        break
                    if not read_any:
                        logger.info("source %s: receiving frames", name)
                        read_any = True
                        self.backoff.reset()
                    with self._changed:
                        self._latest = Frame(index, image, None, time.time())
                        self._changed.notify_all()
                    index += 1
            finally:
                capture.release()
            if stop.is_set():
                break
            delay = self.backoff.next_delay()
            what = "stream ended" if read_any else "cannot open"
            logger.warning("source %s: %s; reconnecting in %.1fs", name, what, delay)
            stop.wait(delay)
        with self._changed:
            self._changed.notify_all()

    def frames(self, stop: threading.Event) -> Generator[Frame, None, None]:
        self._thread = threading.Thread(target=self._grab, args=(stop,), daemon=True)
        self._thread.start()
        last_index = -1

        def newer_frame_or_stop() -> bool:
            return stop.is_set() or (self._latest is not None and self._latest.index > last_index)

        try:
            while not stop.is_set():
                with self._changed:
                    self._changed.wait_for(newer_frame_or_stop, timeout=1.0)
                    frame = self._latest
                if frame is not None and frame.index > last_index and not stop.is_set():
                    last_index = frame.index
                    yield frame
        finally:
            stop.set()
            self._thread.join(timeout=OPEN_TIMEOUT_MS / 1000 + 5)


class MotionDetector:
    """Says whether a frame differs from the previous one it was shown.

    Frames are shrunk to `width` pixels and blurred first, so sensor noise and JPEG artefacts
    do not count; a pixel changed when its grey level moved by more than `pixel_delta`, and
    the frame has motion when more than `threshold` (a fraction) of its pixels changed. The
    first frame only sets the reference.
    """

    def __init__(self, threshold: float = 0.01, pixel_delta: int = 25, width: int = 160) -> None:
        self.threshold = threshold
        self.pixel_delta = pixel_delta
        self.width = width
        self._previous: np.ndarray | None = None

    def __call__(self, image: np.ndarray) -> bool:
        cv2 = require_cv2()
        height = max(1, round(image.shape[0] * self.width / image.shape[1]))
        small = cv2.resize(image, (self.width, height), interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        previous, self._previous = self._previous, grey
        if previous is None:
            return False
        changed = cv2.absdiff(grey, previous) > self.pixel_delta
        return float(changed.mean()) > self.threshold
