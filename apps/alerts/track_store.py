"""Each camera's tracker state in Redis, changed under a per-camera lock.

Frames of one camera reach different gunicorn processes (and threads) at the same time, so the
state cannot live in a process: every frame loads the camera's state, steps it and saves it
while holding a Redis lock named after the camera (redis-py's Lock: SET NX PX with a token, and
a Lua script that releases only the holder's token). One camera's frames so run one at a time,
a few milliseconds each; different cameras never wait for each other.

A sorted set of cameras with live tracks, scored by the wall-clock time their next track
expires, lets the idle sweep close the events of a camera that stopped sending frames.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import orjson
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from apps.alerts.tracking import CameraState, TrackerSettings
from apps.core.redis import get_redis, probe_client, redis_available, redis_breaker, redis_key

# Longer than any frame's critical section; a holder that died frees the camera after this.
LOCK_TIMEOUT_S = 5.0
# How long a frame waits for the camera's lock before giving up on tracking it.
LOCK_WAIT_S = 3.0
# A camera silent this long forgets its tracks entirely (the sweep closed them long before).
STATE_TTL_S = 24 * 3600
# The idle sweep counts a camera's clock from its last applied frame's arrival; a busy portal
# may hold the camera's next frames (in the worker's queue, behind the camera's lock) this long.
# Until then the sweep leaves its tracks to those frames, or it would close a visit that is
# still going on and the next frame would open a second event for it. Ends stay exact (an event
# ends at its last sighting); only the sweep's ended webhook comes this much later.
IDLE_GRACE_S = 10.0


class CameraBusy(Exception):
    """The camera's lock stayed taken for LOCK_WAIT_S: the frame is not tracked."""


@dataclass
class StoredState:
    state: CameraState
    arrival: float  # wall-clock time the newest applied frame arrived


def _state_key(camera_pk: int) -> str:
    return redis_key("camtrack", camera_pk)


def _lock_key(camera_pk: int) -> str:
    return redis_key("camtrack", camera_pk, "lock")


def active_key() -> str:
    return redis_key("camtrack", "active")


@contextmanager
def locked_camera(camera_pk: int) -> Iterator[None]:
    lock = get_redis().lock(
        _lock_key(camera_pk),
        timeout=LOCK_TIMEOUT_S,
        blocking_timeout=LOCK_WAIT_S,
        # redis-py polls a taken lock every 0.1 s by default: most of a frame's whole budget.
        sleep=0.005,
        thread_local=False,
    )
    token = uuid.uuid4().hex.encode()
    sent = redis_available()  # while the breaker is open, nothing reaches Redis
    try:
        acquired = lock.acquire(token=token)
    except RedisError:
        if sent:
            _release_when_redis_returns(lock, token)
        raise
    if not acquired:
        raise CameraBusy(camera_pk)
    try:
        yield
    finally:
        # LockError when it expired while we held it: another frame already went ahead.
        with contextlib.suppress(LockError):
            try:
                lock.release()
            except RedisError:  # held in Redis, if it still runs: released on its return
                _release_when_redis_returns(lock, token)
                raise


_orphaned_locks: list[tuple[Lock, bytes]] = []


def _release_when_redis_returns(lock: Lock, token: bytes) -> None:
    """A paused Redis may still run the SET NX it was sent (or never get the release): the
    camera would stay locked for LOCK_TIMEOUT_S after Redis's return, its frames untracked.
    So the lock is released, if it is still ours, as soon as Redis answers again."""
    _orphaned_locks.append((lock, token))


def _release_orphaned_locks() -> None:
    """Before the breaker lets frames in again (with the probe's client: the pool is still
    closed to them), so no frame waits LOCK_WAIT_S for a lock nobody holds."""
    while _orphaned_locks:
        lock, token = _orphaned_locks[-1]
        lock.redis = probe_client()
        with contextlib.suppress(LockError):
            lock.do_release(token.decode())  # the same bytes on the wire
        _orphaned_locks.pop()


redis_breaker().before_close(_release_orphaned_locks)


def load(camera_pk: int) -> StoredState:
    raw = get_redis().get(_state_key(camera_pk))
    if raw is None:
        return StoredState(CameraState(), time.time())
    data = orjson.loads(raw)
    return StoredState(CameraState.from_json(data["state"]), data["arrival"])


def save(camera_pk: int, stored: StoredState, settings: TrackerSettings) -> None:
    """Store the state and (re)schedule the camera for the idle sweep."""
    body = orjson.dumps({"state": stored.state.to_json(), "arrival": stored.arrival})
    pipe = get_redis().pipeline(transaction=False)
    pipe.set(_state_key(camera_pk), body, ex=STATE_TTL_S)
    deadline = stored.state.deadline(settings)
    if deadline is None or stored.state.last_t is None:
        pipe.zrem(active_key(), camera_pk)
    else:
        due = stored.arrival + (deadline - stored.state.last_t) + IDLE_GRACE_S
        pipe.zadd(active_key(), {str(camera_pk): due})  # the member Redis stores for an int
    pipe.execute()


def due_cameras(now: float, limit: int = 500) -> list[int]:
    """Cameras whose next track expiry (wall clock) has passed."""
    due = get_redis().zrangebyscore(active_key(), "-inf", now, 0, limit)
    return [int(pk) for pk in due]  # type: ignore[arg-type]  # members only (no scores): bytes


def camera_clock(stored: StoredState, now: float) -> float:
    """The camera's capture-time 'now' when no frame arrives: its last frame's capture time
    plus the wall time since that frame arrived beyond IDLE_GRACE_S (so a replayed clip closes
    at its own pace, and frames still queued are not overtaken by the sweep)."""
    return (stored.state.last_t or 0.0) + max(0.0, now - stored.arrival - IDLE_GRACE_S)
