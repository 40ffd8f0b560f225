"""A vehicle event's licence plate, kept across its frames.

One frame's read can be off by a character (blur, glare, a partly hidden plate); the reads of
one visit mostly agree. So every read of the event's frames is kept, voted by text: the text read
most often wins (ties: the higher best score), and its score is its best read's score raised by
the share of the reads that agree with it, so ten agreeing reads of 0.8 say more than one.
Plate texts compare by ``one_off``: equal, or one character inserted, removed or changed.
"""

from __future__ import annotations

import re

from django.db import DatabaseError
from redis.exceptions import RedisError

from apps.alerts import track_store
from apps.alerts.alerting import tracker_settings
from apps.alerts.models import CameraEvent

MAX_TEXTS = 20  # distinct texts kept per event: a long visit of a hard plate stays bounded
# A vehicle event whose voted plate was read alike this many times is settled: its frames need
# no more reads (camera frames are then sent without reading, plates_unneeded).
SETTLED_READS = 3
PLATE_LABELS = frozenset({"car", "motorcycle", "bus", "truck"})  # the worker's PLATE_CLASSES
_NOT_PLATE = re.compile(r"[^A-Z0-9]")


def normalise(text: str) -> str:
    """A plate as stored and compared: upper-case letters and digits only."""
    return _NOT_PLATE.sub("", text.upper())


def add_read(reads: dict[str, list[float]], text: str, score: float) -> dict[str, list[float]]:
    """``reads`` ({text: [count, best score]}) with one more read; a new text past MAX_TEXTS
    replaces the least read one."""
    reads = {key: list(value) for key, value in reads.items()}
    if text in reads:
        count, best = reads[text]
        reads[text] = [count + 1, max(best, score)]
        return reads
    if len(reads) >= MAX_TEXTS:
        del reads[min(reads, key=lambda key: (reads[key][0], reads[key][1]))]
    reads[text] = [1, score]
    return reads


def best_plate(reads: dict[str, list[float]]) -> tuple[str, float]:
    """The voted text and its agreement-boosted score; ("", 0.0) without reads."""
    if not reads:
        return "", 0.0
    text = max(reads, key=lambda key: (reads[key][0], reads[key][1]))
    count, best = reads[text]
    total = sum(value[0] for value in reads.values())
    share = count / total
    # One read: its own score. n agreeing reads close the gap to 1 by share * (1 - 1/n).
    score = best + (1.0 - best) * share * (1.0 - 1.0 / count)
    return text, round(min(score, 1.0), 4)


def one_off(a: str, b: str) -> bool:
    """Levenshtein distance of a and b at most 1."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def plate_of(detection: dict) -> tuple[str, float] | None:
    """The normalised text and score of a detection's plate, None when none was read."""
    plate = detection.get("plate")
    if not isinstance(plate, dict):
        return None
    text = normalise(str(plate.get("text") or ""))
    if not text:
        return None
    return text, float(plate.get("score") or 0.0)


def record_read(event_id: str, text: str, score: float) -> CameraEvent | None:
    """Add one frame's read to the event; the event when its voted plate changed (text or
    score), else None. Called under the camera's lock (frames.py), so reads never race."""
    event = CameraEvent.objects.select_related("camera").filter(id=event_id).first()
    if event is None:
        return None
    event.plate_reads = add_read(event.plate_reads or {}, text, score)
    plate_text, plate_score = best_plate(event.plate_reads)
    changed = (plate_text, plate_score) != (event.plate_text, event.plate_score)
    event.plate_text, event.plate_score = plate_text, plate_score
    event.save(update_fields=["plate_reads", "plate_text", "plate_score"])
    return event if changed else None


def plates_unneeded(camera_pk: int) -> bool:
    """Whether the camera's next frame can go without plate reading, its events losing no read:
    the camera's vehicle events are on, and each vehicle it tracks has an open event whose
    voted plate was read alike SETTLED_READS times (a parked car, a slow gate visit), or it
    tracks none (an empty driveway: no read, no whole-frame search). A vehicle first seen in
    such a frame is read from the next one on, before its event opens (reads before that are
    not counted anyway). Read when its vehicle events are off or leave vehicles out (the
    client reads plates per frame), and when Redis or the database cannot tell."""
    try:
        settings = tracker_settings(camera_pk)
        if settings is None or (settings.labels is not None and not settings.labels & PLATE_LABELS):
            return False
        tracks = [t for t in track_store.load(camera_pk).state.tracks if t.label in PLATE_LABELS]
        if any(t.event_id is None and not t.stationary for t in tracks):
            return False  # on its way to an event: the frame that opens it is read
        ids = {t.event_id for t in tracks if t.event_open and t.event_id}
        if not ids:
            return True
        reads = CameraEvent.objects.filter(id__in=ids).values_list("plate_reads", flat=True)
        counts = [max((count for count, _ in (r or {}).values()), default=0) for r in reads]
    except (RedisError, DatabaseError):
        return False
    return len(counts) == len(ids) and min(counts) >= SETTLED_READS
