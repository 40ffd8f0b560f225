"""Each camera's latest frame and its kept boxes, in Redis: the cameras list's snapshot, the zone
editor's background and the connect flow's "first frame arrived", whether or not the tenant
archives request events.

Written at most once per IPCAI_CAMERA_FRAME_INTERVAL_S per camera and portal process (the
first frame of a camera always), so a camera sending ten frames a second costs one Redis write
of its JPEG every half minute, not ten a second; "last seen" is as fresh as that interval.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import orjson
from django.conf import settings
from redis.exceptions import RedisError

from apps.core.redis import get_redis, redis_key, reply_bytes

logger = logging.getLogger(__name__)
FRAME_TTL_S = 30 * 86400  # a camera silent for a month shows no stale picture

_written_at: dict[str, float] = {}  # camera id -> monotonic time of this process's last write


@dataclass(frozen=True)
class Frame:
    image: bytes
    content_type: str
    seen_at: float  # Unix time of the request
    width: int
    height: int
    detections: list[dict]  # kept boxes: {"label", "score", "box", "zones"}


def frame_key(camera_id: str) -> str:
    return redis_key("camera", "frame", camera_id)


def remember_frame(
    camera_id: str, image: bytes, content_type: str, seen_at: float, results: list[dict]
) -> bool:
    """Store the frame unless this process stored one for the camera within the interval.
    Never raises: a lost snapshot must not fail the camera's request. True when written."""
    now = time.monotonic()
    last = _written_at.get(camera_id)
    if last is not None and now - last < settings.IPCAI_CAMERA_FRAME_INTERVAL_S:
        return False
    _written_at[camera_id] = now
    detections = []
    for result in results:
        zones = result.get("zones") or [[] for _ in result["bbox_coords"]]
        for box, scores, names, inside in zip(
            result["bbox_coords"], result["bbox_scores"], result["class_names"], zones, strict=True
        ):
            detections.append({"label": names[0], "score": scores[0], "box": box, "zones": inside})
    first = results[0] if results else {}
    meta = {
        "content_type": content_type,
        "seen_at": seen_at,
        "width": first.get("width", 0),
        "height": first.get("height", 0),
        "detections": detections,
    }
    pipe = get_redis().pipeline(transaction=True)
    pipe.hset(frame_key(camera_id), mapping={"image": image, "meta": orjson.dumps(meta)})
    pipe.expire(frame_key(camera_id), FRAME_TTL_S)
    try:
        pipe.execute()
    except RedisError as exc:
        logger.warning("latest frame of camera %s not stored: %s", camera_id, exc)
        return False
    return True


def latest_frame(camera_id: str) -> Frame | None:
    image, meta = get_redis().hmget(frame_key(camera_id), ["image", "meta"])
    if image is None or meta is None:
        return None
    return Frame(image=reply_bytes(image), **orjson.loads(meta))


def last_seen(camera_ids: list[str]) -> dict[str, float]:
    """Unix time of each camera's latest stored frame (cameras never seen are left out)."""
    if not camera_ids:
        return {}
    pipe = get_redis().pipeline(transaction=False)
    for camera_id in camera_ids:
        pipe.hget(frame_key(camera_id), "meta")
    seen = {}
    for camera_id, meta in zip(camera_ids, pipe.execute(), strict=True):
        if meta is not None:
            seen[camera_id] = orjson.loads(meta)["seen_at"]
    return seen


def forget_frame(camera_id: str) -> None:
    get_redis().delete(frame_key(camera_id))
    _written_at.pop(camera_id, None)
