"""Hold back the boxes a false alarm taught the camera to ignore, before the tracker sees them.

A box is held back when a learned area of its camera has its class, overlaps it at
LEARNED_IOU or more, and the box scores no higher than the false alarm did (plus
SCORE_MARGIN, the detector's frame-to-frame jitter on a still object). So the flowerpot
detected as a person at the porch opens no event again, while a person walking through the
porch (other boxes along the way, and a person's higher score) and a car arriving at a
learned car's spot (its boxes while it drives in) still do. The tracker stays a pure
function: it simply never sees the held-back boxes; the frame's answer still lists them.

Areas are read once per AREAS_TTL_S per camera and process (like the alert settings); each
held-back box counts on its area in a Redis hash (shown on the camera's page).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError

from apps.alerts.feedback.models import LearnedArea
from apps.alerts.tracking import Detection, iou
from apps.core.redis import get_redis, redis_key, reply_text

logger = logging.getLogger(__name__)

LEARNED_IOU = 0.6
SCORE_MARGIN = 0.03
AREAS_TTL_S = 5.0


@dataclass(frozen=True)
class Area:
    id: int
    label: str
    box: tuple[float, float, float, float]
    max_score: float


_cache: dict[int, tuple[float, tuple[Area, ...]]] = {}


def areas_of(camera_pk: int) -> tuple[Area, ...]:
    now = time.monotonic()
    cached = _cache.get(camera_pk)
    if cached and cached[0] > now:
        return cached[1]
    rows = LearnedArea.objects.filter(camera_id=camera_pk).values_list(
        "id", "label", "box", "max_score"
    )
    areas = tuple(Area(pk, label, tuple(box), score) for pk, label, box, score in rows)
    _cache[camera_pk] = (now + AREAS_TTL_S, areas)
    return areas


def forget(camera_pk: int) -> None:
    """This process reads the camera's areas again at its next frame."""
    _cache.pop(camera_pk, None)


def holding_area(areas: Sequence[Area], detection: Detection) -> Area | None:
    """The learned area that holds this box back, if any (pure)."""
    for area in areas:
        if (
            area.label == detection.label
            and detection.score <= area.max_score + SCORE_MARGIN
            and iou(area.box, detection.box) >= LEARNED_IOU
        ):
            return area
    return None


def hold_back(camera_pk: int, detections: list[Detection]) -> list[Detection]:
    """The detections the tracker may see; counts the held-back ones on their areas."""
    areas = areas_of(camera_pk)
    if not areas:
        return detections
    kept: list[Detection] = []
    held: dict[int, int] = {}
    for detection in detections:
        area = holding_area(areas, detection)
        if area is None:
            kept.append(detection)
        else:
            held[area.id] = held.get(area.id, 0) + 1
    if held:
        try:
            pipe = get_redis().pipeline(transaction=False)
            for area_id, count in held.items():
                pipe.hincrby(_counts_key(camera_pk), str(area_id), count)
            pipe.execute()
        except RedisError as exc:  # a count must never fail the frame
            logger.warning("learned-area counts of camera %s not kept: %s", camera_pk, exc)
    return kept


def _counts_key(camera_pk: int) -> str:
    return redis_key("learned", camera_pk)


def held_counts(camera_pk: int) -> dict[int, int]:
    """Boxes each learned area of the camera held back, by area id (0 when Redis is down)."""
    try:
        raw = get_redis().hgetall(_counts_key(camera_pk))
    except RedisError:
        return {}
    return {int(reply_text(k)): int(v) for k, v in raw.items()}


def drop_count(camera_pk: int, area_id: int) -> None:
    try:
        get_redis().hdel(_counts_key(camera_pk), str(area_id))
    except RedisError as exc:
        logger.warning("count of learned area %s not dropped: %s", area_id, exc)
