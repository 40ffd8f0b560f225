"""The camera agent behind `ipcai watch`: frames in, detections out as JSON lines.

At most `fps` frames per second are sent (on the file's clock for recordings, the wall clock
for live streams), optionally only frames with motion. The agent outlives network trouble:
when the service is unreachable or overloaded it waits with backoff (or as long as
Retry-After says) and goes on. A recording is analysed completely, so a frame that could not
be sent is retried until the service answers; a live stream moves on to its newest frame,
since a detection for a frame from a minute ago helps nobody.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ipcai import replay_clock
from ipcai.client import Client
from ipcai.errors import APIError, NetworkError
from ipcai.video import (
    Backoff,
    FileSource,
    Frame,
    LiveSource,
    MotionDetector,
    is_live,
    redact,
    require_cv2,
)

logger = logging.getLogger("ipcai.watch")


class RateGate:
    """Lets through at most `fps` frames per second of a clock, on a fixed schedule.

    Slots are 1/fps apart from the first frame; a frame passes when its time reaches the next
    slot. Keeping the schedule (instead of restarting it at each frame sent) keeps a 4 fps
    recording watched at 2 fps to exactly every other frame.
    """

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.interval = 1.0 / fps
        self._next: float | None = None

    def due(self, now: float) -> bool:
        if self._next is None:
            self._next = now
        if now + 1e-6 < self._next:
            return False
        missed = int((now - self._next) // self.interval)
        self._next += (missed + 1) * self.interval
        return True


@dataclass
class WatchOptions:
    service: str
    fps: float = 2.0
    min_confidence: float | None = None
    camera: str | None = None  # the camera's id: its zones and thresholds filter the answers
    motion: bool = False
    motion_threshold: float = 0.01
    max_frames: int | None = None  # stop after this many frames were answered
    loop: bool = False  # replay a file source forever
    max_backoff: float = 30.0
    jpeg_quality: int = 90


@dataclass
class WatchStats:
    frames_read: int = 0
    frames_sent: int = 0
    frames_without_motion: int = 0
    failures: int = 0


def _frames(
    source: str, options: WatchOptions, stop: threading.Event
) -> Generator[Frame, None, None]:
    if is_live(source):
        return LiveSource(source, max_backoff=options.max_backoff).frames(stop)
    return FileSource(source, loop=options.loop).frames(stop)


def _duration(cv2: Any, source: str) -> float:
    """Seconds of a video file (0 when the container does not say)."""
    capture = cv2.VideoCapture(source)
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        return capture.get(cv2.CAP_PROP_FRAME_COUNT) / fps if fps > 0 else 0.0
    finally:
        capture.release()


def _captured_at(frame: Frame, recorded_from: float | None) -> float:
    if recorded_from is None or frame.media_time is None:
        return frame.captured_at
    return recorded_from + frame.media_time


def frame_record(
    source: str, frame: Frame, result: Any, latency: float, captured_at: float | None = None
) -> dict[str, Any]:
    """One JSON line: where the frame came from, when (the capture time sent with it, else
    when it was read), and what was found."""
    when = frame.captured_at if captured_at is None else captured_at
    record: dict[str, Any] = {
        "source": redact(source),
        "frame": frame.index,
        "time": datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds"),
    }
    if frame.media_time is not None:
        record["media_time"] = round(frame.media_time, 3)
    record.update(result.to_json())
    record["latency_ms"] = round(latency * 1000, 1)
    return record


def run_watch(
    client: Client,
    source: str,
    options: WatchOptions,
    emit: Callable[[dict[str, Any]], None],
    stop: threading.Event | None = None,
) -> WatchStats:
    """Watch `source` until it ends, `max_frames` were answered, or `stop` is set.

    Raises the first APIError that no retry can fix (`stops_the_watch`: a wrong or revoked
    key, a service that is not enabled, a camera that does not exist) and SourceError for a
    file that cannot be read.
    """
    stop = stop or threading.Event()
    stats = WatchStats()
    frames = _frames(source, options, stop)
    try:
        _send_frames(client, source, options, frames, emit, stop, stats)
    finally:
        frames.close()  # stops a live source's reader thread and releases the capture
    return stats


def stops_the_watch(exc: APIError) -> bool:
    """True for an error no later frame can escape: 401 (key), 403 (tenant or service), 404
    (camera or service unknown). A 400 / 413 / 415 belongs to one frame (skipped); 429 and 5xx
    pass (retried)."""
    return exc.status in (401, 403, 404)


def _send_frames(
    client: Client,
    source: str,
    options: WatchOptions,
    frames: Generator[Frame, None, None],
    emit: Callable[[dict[str, Any]], None],
    stop: threading.Event,
    stats: WatchStats,
) -> None:
    cv2 = require_cv2()
    live = is_live(source)
    gate = RateGate(options.fps)
    motion = MotionDetector(options.motion_threshold) if options.motion else None
    backoff = Backoff(maximum=options.max_backoff)
    encode_params = [cv2.IMWRITE_JPEG_QUALITY, options.jpeg_quality]
    # A camera's events are timed by capture time. A recording carries its own clock, as if it
    # had been recorded just before the watch started, after this machine's last replay to the
    # camera (replay_clock.py): replayed faster than real time, a visit still ends after the
    # camera's timeout of *recorded* seconds, and a second replay is not taken for late frames.
    recorded_from = None
    if not live:
        duration = _duration(cv2, source)
        if options.camera:
            recorded_from = replay_clock.replay_start(options.camera, duration)
            if recorded_from + duration > time.time():
                logger.warning(
                    "camera %s was sent later frames before: this replay is stamped from %s on, "
                    "after them; frames stamped ahead of the clock wait for it",
                    options.camera,
                    datetime.fromtimestamp(recorded_from, UTC).isoformat(timespec="seconds"),
                )
        else:
            recorded_from = time.time() - duration
    failing = False
    for frame in frames:
        stats.frames_read += 1
        clock = frame.media_time if frame.media_time is not None else time.monotonic()
        if not gate.due(clock):
            continue
        if motion is not None and not motion(frame.image):
            stats.frames_without_motion += 1
            continue
        ok, jpeg = cv2.imencode(".jpg", frame.image, encode_params)
        if not ok:
            logger.warning("frame %d: could not encode as JPEG; skipped", frame.index)
            continue
        while not stop.is_set():
            started = time.monotonic()
            captured_at = _captured_at(frame, recorded_from) if options.camera else None
            if captured_at is not None and not live:
                replay_clock.wait_until_believed(captured_at, stop.wait)
                if stop.is_set():
                    break
            try:
                result = client.detect(
                    jpeg.tobytes(),
                    options.service,
                    min_confidence=options.min_confidence,
                    camera=options.camera,
                    captured_at=captured_at,
                )
            except (NetworkError, APIError) as exc:
                stats.failures += 1
                if isinstance(exc, APIError) and stops_the_watch(exc):
                    raise
                if isinstance(exc, APIError) and not exc.retryable:
                    logger.warning("frame %d: %s; skipped", frame.index, exc)
                    break
                failing = True
                delay = backoff.next_delay()
                if isinstance(exc, APIError) and exc.retry_after is not None:
                    delay = exc.retry_after
                action = "retrying" if not live else "next frame"
                logger.warning("frame %d: %s; %s in %.1fs", frame.index, exc, action, delay)
                stop.wait(delay)
                if live:
                    break
                continue
            if failing:
                logger.warning("frame %d: the service answers again", frame.index)
                failing = False
            backoff.reset()
            if captured_at is not None and options.camera and not live:
                replay_clock.remember(options.camera, captured_at)
            stats.frames_sent += 1
            emit(frame_record(source, frame, result, time.monotonic() - started, captured_at))
            break
        if options.max_frames is not None and stats.frames_sent >= options.max_frames:
            break
        if stop.is_set():
            break
