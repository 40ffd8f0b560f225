"""Blur faces and licence plates in an image before anything stores it (docs/PRIVACY.md).

The worker says where they are (`POST /regions` of gpu_worker/regions.py); this module blurs
them: each region, grown by a margin, is pixelated to a few cells and then smoothed, so the
finder that found it finds nothing there again (tests/apps/archive/test_redaction.py).

Redaction takes a worker round trip and a decode/encode: never on the request path. The
request path hands the image to `redaction_queue()`, a bounded in-process queue served by one
thread, which redacts and then calls the continuation (publish to the archive outbox or the
spool, stash a snapshot). What can be lost: the images waiting in that queue when the process
is killed (at most IPCAI_REDACTION_QUEUE of them, each never stored, never stored unredacted;
a graceful stop first waits EXIT_WAIT_S for the queue to empty); an
image that finds the queue full, or that the worker cannot redact, is passed on as None: its
record is kept without the image, never with an unredacted one.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import orjson
import urllib3
from django.conf import settings

logger = logging.getLogger(__name__)

KINDS = ("faces", "plates")
MARGIN = 0.4  # each side grows by this share of the region (hair, chin, a plate's frame)
CELLS = 2  # the region's shorter side becomes this many pixel blocks before smoothing
# Faces found again on the blurred image (a face next to a blurred one, a half-believed one
# the re-encoding tipped over the finder's threshold) are blurred in one more pass.
FACE_PASSES = 2
JPEG_QUALITY = 90
EXIT_WAIT_S = 5.0

Box = Sequence[float]


class RedactionFailed(Exception):
    """The worker could not say where the regions are (down, 5xx, not an image)."""


@dataclass
class RedactionCounters:
    redacted: int = 0
    failed: int = 0  # passed on without the image: the worker could not redact it
    overflowed: int = 0  # passed on without the image: the queue was full
    regions: int = 0
    cpu_s: float = 0.0  # this process's CPU in blur + encode (the worker's is its own)
    by_kind: dict[str, int] = field(default_factory=dict)


counters = RedactionCounters()


def _pool() -> urllib3.PoolManager:
    global _http
    if _http is None:
        _http = urllib3.PoolManager(maxsize=2, retries=False)
    return _http


_http: urllib3.PoolManager | None = None


def find_regions(image: bytes, kinds: Collection[str]) -> dict[str, list[dict]]:
    """The worker's regions of each kind asked for; RedactionFailed when it cannot answer."""
    wanted = ",".join(k for k in KINDS if k in kinds)
    try:
        response = _pool().request(
            "POST",
            f"{settings.IPCAI_WORKER_URL.rstrip('/')}/regions?kinds={wanted}",
            body=image,
            headers={"Content-Type": "application/octet-stream"},
            timeout=urllib3.Timeout(total=settings.IPCAI_REDACTION_TIMEOUT_S),
        )
    except urllib3.exceptions.HTTPError as exc:
        raise RedactionFailed(f"worker unreachable: {exc}") from exc
    if response.status != 200:
        raise RedactionFailed(f"worker answered {response.status}: {response.data[:200]!r}")
    answer = orjson.loads(response.data)
    return {kind: list(answer.get(kind) or []) for kind in KINDS if kind in kinds}


def blur_regions(image: bytes, boxes: Sequence[Box]) -> bytes:
    """The image with each box (grown by MARGIN) pixelated and smoothed; re-encoded in its
    own format (JPEG or PNG). The same bytes back when there is nothing to blur."""
    if not boxes:
        return image
    pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise RedactionFailed("not an image OpenCV can decode")
    height, width = pixels.shape[:2]
    for box in boxes:
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        mx, my = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
        left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
        right, bottom = min(width, int(np.ceil(x2 + mx))), min(height, int(np.ceil(y2 + my)))
        if right - left < 2 or bottom - top < 2:
            continue
        region = pixels[top:bottom, left:right]
        h, w = region.shape[:2]
        side = min(w, h)
        small = cv2.resize(
            region,
            (max(1, CELLS * w // side), max(1, CELLS * h // side)),
            interpolation=cv2.INTER_AREA,
        )
        blocky = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        kernel = max(3, (min(w, h) // 4) | 1)
        pixels[top:bottom, left:right] = cv2.GaussianBlur(blocky, (kernel, kernel), 0)
    is_png = image[:8] == b"\x89PNG\r\n\x1a\n"
    ok, encoded = cv2.imencode(
        ".png" if is_png else ".jpg",
        pixels,
        [] if is_png else [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
    )
    if not ok:
        raise RedactionFailed("re-encoding failed")
    return encoded.tobytes()


def redact(image: bytes, kinds: Collection[str]) -> bytes:
    """The image with its faces and/or plates blurred (synchronous: a worker round trip).
    RedactionFailed when it cannot be redacted: the caller must then not store it."""
    redacted = image
    for attempt in range(FACE_PASSES if "faces" in kinds else 1):
        asked = kinds if attempt == 0 else ("faces",)
        regions = find_regions(redacted, asked)
        boxes = [r["box"] for found in regions.values() for r in found]
        if attempt and not boxes:
            break
        started = time.process_time()
        redacted = blur_regions(redacted, boxes)
        counters.cpu_s += time.process_time() - started
        counters.regions += len(boxes)
        for kind, found in regions.items():
            counters.by_kind[kind] = counters.by_kind.get(kind, 0) + len(found)
    counters.redacted += 1
    return redacted


def redact_or_none(image: bytes, kinds: Collection[str]) -> bytes | None:
    """redact, or None (logged, counted) when it cannot: nothing unredacted goes on."""
    try:
        return redact(image, kinds)
    except Exception as exc:
        counters.failed += 1
        logger.warning("image not redacted, so not stored: %s", exc)
        return None


Then = Callable[[bytes | None], None]


class RedactionQueue:
    """A bounded queue and one thread: redact, then call `then` with the redacted bytes (or
    None). `submit` never blocks: a full queue passes None on at once (counted)."""

    def __init__(self, size: int) -> None:
        self._queue: queue.Queue[tuple[bytes, frozenset[str], Then]] = queue.Queue(size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._in_hand = 0  # submitted and not yet passed on

    def submit(self, image: bytes, kinds: Collection[str], then: Then) -> bool:
        self._start()
        with self._lock:
            self._in_hand += 1
        try:
            self._queue.put_nowait((image, frozenset(kinds), then))
        except queue.Full:
            self._done()
            counters.overflowed += 1
            logger.warning("redaction queue full: image dropped, its record kept")
            _call(then, None)
            return False
        return True

    def waiting(self) -> int:
        """Images queued or being redacted (the most a crash now would lose)."""
        return self._in_hand

    def _done(self) -> None:
        with self._lock:
            self._in_hand -= 1

    def wait_idle(self, timeout_s: float) -> bool:
        """True once nothing is queued or in hand (tests, a graceful stop)."""
        deadline = time.monotonic() + timeout_s
        while self.waiting() and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.waiting()

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="redaction", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            image, kinds, then = self._queue.get()
            try:
                _call(then, redact_or_none(image, kinds))
            finally:
                self._done()


def _call(then: Then, image: bytes | None) -> None:
    try:
        then(image)
    except Exception:
        logger.exception("after redaction: the continuation failed")


_queue: RedactionQueue | None = None


def redaction_queue() -> RedactionQueue:
    global _queue
    if _queue is None:
        _queue = RedactionQueue(settings.IPCAI_REDACTION_QUEUE)
        # A graceful stop (gunicorn's SIGTERM, a deploy) first finishes what is queued, for a
        # few seconds; only a kill loses the queue (module docstring).
        atexit.register(_queue.wait_idle, EXIT_WAIT_S)
    return _queue
