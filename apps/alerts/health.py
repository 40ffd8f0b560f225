"""Camera health: offline when a camera stops sending, tampered when its picture goes flat,
blurred or turns away, and back; each change recorded on the camera and sent as a signed
``camera.health`` webhook.

- Camera frames (frames.py's hook, on the request path): one Redis round trip per
  NOTE_INTERVAL_S per camera and process notes when it arrived (a sorted set by wall time) and
  takes the camera off the offline set; a camera that was offline is ``online`` again at once.
- Every IPCAI_HEALTH_SAMPLE_S of capture time per camera (about one frame in ten at 5 fps), the
  frame is measured (health_checks.py: ~0.7 ms) against the camera's baseline, kept in Redis,
  by a thread of the process off the request path (IPCAI_HEALTH_THREAD; inline when false). A
  problem held for IPCAI_HEALTH_HOLD_S of capture time makes the camera ``tampered`` (reason
  covered, blurred or moved); as long healthy again, ``recovered`` (state online). One bad
  frame raises nothing.
- The sweep (tasks.camera_sweep, every IPCAI_CAMERA_SWEEP_S): a camera that sent frames in the
  last day but none for its ``offline_after_s`` is ``offline``.

The state lives on the camera (apps/cameras/services.set_health, a conditional update: of
two processes seeing one change, one sends the webhook). Health is a side effect: a Redis or
database failure is logged and the frame answered as usual.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import UTC, datetime

import orjson
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from redis.exceptions import RedisError

from apps.alerts import counters as camera_counters
from apps.alerts.health_checks import Baseline, analyse, learn, problem
from apps.alerts.models import WebhookDelivery, WebhookEndpoint
from apps.alerts.payloads import iso_utc
from apps.alerts.webhooks.delivery import enqueue
from apps.cameras.models import Camera, Health
from apps.cameras.services import set_health
from apps.cameras.validation import MIN_OFFLINE_AFTER_S
from apps.core.redis import get_redis, redis_key, reply_text

logger = logging.getLogger(__name__)

EVENT_TYPE = "camera.health"
CHANGES = ("offline", "online", "tampered", "recovered")  # the webhook's `state`
SEEN_WINDOW_S = 86400  # only cameras that sent a frame in the last day go offline
# A camera turned on purpose: after this long the new view becomes its reference.
REFERENCE_RESET_S = 3600.0
_CHECK_LOCK_MS = 5000  # one process measures a camera's frame at a time

_sampled_at: dict[int, float] = {}  # camera pk -> capture time of this process's last sample
# A camera's arrival is noted in Redis at most this often per process (a camera at 10 fps costs
# two round trips a second, not ten); the sweep allows for it before calling a camera offline.
NOTE_INTERVAL_S = 0.5
_noted_at: dict[int, float] = {}  # camera pk -> monotonic time of this process's last note


def _seen_key() -> str:
    return redis_key("camhealth", "seen")


def _offline_key() -> str:
    return redis_key("camhealth", "offline")


def _state_key(camera_pk: int) -> str:
    return redis_key("camhealth", camera_pk)


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def on_frame(camera_pk: int, captured_at: float, image: bytes, width: int) -> None:
    """The camera sent a frame: note it, and measure it when its sample is due. Never raises."""
    if not settings.IPCAI_HEALTH_CHECKS:
        return
    now, tick = time.time(), time.monotonic()
    try:
        noted = _noted_at.get(camera_pk)
        if noted is None or tick - noted >= NOTE_INTERVAL_S:
            _noted_at[camera_pk] = tick
            pipe = get_redis().pipeline(transaction=False)
            pipe.zadd(_seen_key(), {str(camera_pk): now})
            pipe.srem(_offline_key(), camera_pk)
            _, was_offline = pipe.execute()
            if was_offline:
                change_health(camera_pk, Health.ONLINE, "", "online", now)
        last = _sampled_at.get(camera_pk)
        if last is None or not 0 <= captured_at - last < settings.IPCAI_HEALTH_SAMPLE_S:
            _sampled_at[camera_pk] = captured_at
            if settings.IPCAI_HEALTH_THREAD:
                _checker().submit(camera_pk, captured_at, image, width)
            else:
                check_image(camera_pk, captured_at, image, width)
    except (RedisError, DatabaseError) as exc:
        logger.warning("camera %s health not checked: %r", camera_pk, exc)


class _Checker:
    """The image checks off the request path: a bounded queue of sampled frames served by one
    thread per process. A frame that finds the queue full is skipped (the next sample, 2 s
    later, checks the camera again)."""

    def __init__(self, size: int) -> None:
        self._queue: queue.Queue[tuple[int, float, bytes, int]] = queue.Queue(size)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.skipped = 0

    def submit(self, camera_pk: int, captured_at: float, image: bytes, width: int) -> None:
        self._start()
        try:
            self._queue.put_nowait((camera_pk, captured_at, image, width))
        except queue.Full:
            self.skipped += 1

    def wait_idle(self, timeout_s: float) -> bool:
        """True once every submitted frame was checked (tests and benchmarks)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="health", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            camera_pk, captured_at, image, width = self._queue.get()
            try:
                check_image(camera_pk, captured_at, image, width)
            except (RedisError, DatabaseError) as exc:
                logger.warning("camera %s health not checked: %r", camera_pk, exc)
            except Exception:  # the thread must outlive any one frame
                logger.exception("camera %s health check failed", camera_pk)
            finally:
                close_old_connections()
                self._queue.task_done()


_checker_instance: _Checker | None = None
CHECK_QUEUE = 64


def _checker() -> _Checker:
    global _checker_instance
    if _checker_instance is None:
        _checker_instance = _Checker(CHECK_QUEUE)
    return _checker_instance


def wait_idle(timeout_s: float = 10.0) -> bool:
    return _checker_instance is None or _checker_instance.wait_idle(timeout_s)


def _load(camera_pk: int) -> dict:
    raw = get_redis().get(_state_key(camera_pk))
    return orjson.loads(raw) if raw else {}


def check_image(camera_pk: int, captured_at: float, image: bytes, width: int) -> str:
    """Measure one frame against the camera's baseline and move its tampered state; returns
    the change it made ("tampered", "recovered") or ""."""
    redis = get_redis()
    lock = _state_key(camera_pk) + ":busy"
    if not redis.set(lock, "1", nx=True, px=_CHECK_LOCK_MS):
        return ""  # another process is measuring this camera's frame right now
    try:
        state = _load(camera_pk)
        sampled = state.get("sampled_at")
        hold = settings.IPCAI_HEALTH_HOLD_S
        if sampled is not None and (
            captured_at < sampled or captured_at - sampled < settings.IPCAI_HEALTH_SAMPLE_S / 2
        ):
            return ""  # an older frame, or another process sampled this moment already
        sample = analyse(image, width)
        if sample is None:
            return ""
        baseline = Baseline.from_json(state.get("baseline", {}))
        found = problem(sample, baseline)
        if found == "moved" and captured_at - state.get("problem_since", captured_at) >= (
            REFERENCE_RESET_S
        ):
            baseline, found = Baseline(), ""  # turned for good: learn the new view
        tampered: str = state.get("tampered", "")
        change = ""
        if found:
            if state.get("problem") != found:
                state["problem"], state["problem_since"] = found, captured_at
            state["clear_since"] = None
            if not tampered and captured_at - state["problem_since"] >= hold:
                state["tampered"], change = found, "tampered"
        else:
            state["problem"] = ""
            baseline = learn(sample, baseline)
            if tampered:
                state["clear_since"] = state.get("clear_since") or captured_at
                if captured_at - state["clear_since"] >= hold:
                    state["tampered"], change = "", "recovered"
        state["baseline"] = baseline.to_json()
        state["sampled_at"] = captured_at
        redis.set(_state_key(camera_pk), orjson.dumps(state), ex=7 * SEEN_WINDOW_S)
    finally:
        redis.delete(lock)
    if change == "tampered":
        change_health(camera_pk, Health.TAMPERED, found, "tampered", state["problem_since"])
    elif change == "recovered":
        change_health(camera_pk, Health.ONLINE, "", "recovered", captured_at)
    return change


def sweep(now: float | None = None) -> int:
    """Cameras silent past their offline time go offline; the sweep also sets newly seen
    cameras online and repairs an offline state that a frame raced. Returns the changes."""
    now = time.time() if now is None else now
    redis = get_redis()
    redis.zremrangebyscore(_seen_key(), "-inf", now - SEEN_WINDOW_S)
    members = redis.zrangebyscore(_seen_key(), now - SEEN_WINDOW_S, "+inf", withscores=True)
    seen: dict[int, float] = {}
    # withscores: (member, score) pairs; redis-py types a reply as a union of everything
    for pk, score in members:  # type: ignore[str-unpack]
        seen[int(reply_text(pk))] = float(score)  # type: ignore[arg-type]
    if not seen:
        return 0
    changes = 0
    rows = Camera.objects.filter(pk__in=list(seen)).values_list(
        "pk", "offline_after_s", "health_state"
    )
    for camera_pk, offline_after_s, state in rows:
        silent_for = now - seen[camera_pk] - NOTE_INTERVAL_S  # frames since may be unnoted
        quiet = silent_for >= max(offline_after_s, MIN_OFFLINE_AFTER_S)
        if quiet and state != Health.OFFLINE:
            redis.sadd(_offline_key(), camera_pk)
            latest = redis.zscore(_seen_key(), str(camera_pk))
            if latest is not None and now - latest - NOTE_INTERVAL_S < offline_after_s:
                redis.srem(_offline_key(), camera_pk)  # a frame came meanwhile
                continue
            changes += change_health(camera_pk, Health.OFFLINE, "", "offline", seen[camera_pk])
        elif not quiet and state == Health.OFFLINE:  # a frame raced the sweep's offline
            redis.srem(_offline_key(), camera_pk)
            changes += change_health(camera_pk, Health.ONLINE, "", "online", seen[camera_pk])
        elif not quiet and state == Health.UNKNOWN:  # its first frames: online, no webhook
            set_health(camera_pk, Health.ONLINE, "", _at(seen[camera_pk]))
    return changes


def change_health(camera_pk: int, state: str, reason: str, change: str, since: float) -> bool:
    """Record the camera's new health and queue its camera.health webhooks in one
    transaction; False when another process recorded it first (nothing sent twice)."""
    with transaction.atomic():
        if not set_health(camera_pk, state, reason, _at(since)):
            return False
        camera = Camera.objects.get(pk=camera_pk)
        queue_health_deliveries(camera, health_payload(camera, change))
    camera_counters.count(f"health_{change}")
    logger.info("camera %s health: %s %s", camera.public_id, change, reason)
    return True


def health_payload(camera: Camera, change: str) -> dict:
    """The webhook body: the Standard Webhooks envelope, `data` naming the camera, the change
    (offline, online, tampered, recovered), the reason and since when."""
    return {
        "type": EVENT_TYPE,
        "timestamp": iso_utc(datetime.now(UTC)),
        "data": {
            "camera": camera.public_id,
            "camera_name": camera.name,
            "state": change,
            "reason": camera.health_reason,
            "since": iso_utc(camera.health_since),
            "health": {
                "state": camera.health_state,
                "reason": camera.health_reason,
                "since": iso_utc(camera.health_since),
            },
        },
    }


def queue_health_deliveries(camera: Camera, payload: dict) -> list[str]:
    """Delivery rows for every enabled endpoint of the tenant that wants camera.health for
    this camera (its event-type and camera filters; labels and zones are about objects and do
    not hold health back); inside the caller's transaction, sent once it commits."""
    rows = [
        WebhookDelivery(endpoint=endpoint, event=None, event_type=EVENT_TYPE, payload=payload)
        for endpoint in WebhookEndpoint.objects.filter(tenant_id=camera.tenant_id, enabled=True)
        if (not endpoint.event_types or EVENT_TYPE in endpoint.event_types)
        and (not endpoint.cameras or camera.public_id in endpoint.cameras)
    ]
    WebhookDelivery.objects.bulk_create(rows)
    ids = [row.id for row in rows]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return ids


def forget(camera_pk: int) -> None:
    """Drop a camera's health state (tests; a deleted camera's keys expire on their own)."""
    _sampled_at.pop(camera_pk, None)
    _noted_at.pop(camera_pk, None)
    pipe = get_redis().pipeline(transaction=False)
    pipe.zrem(_seen_key(), str(camera_pk))
    pipe.srem(_offline_key(), camera_pk)
    pipe.delete(_state_key(camera_pk))
    pipe.execute()
