"""Hand a request event to the archive without slowing or failing the request.

The detection flow calls ``archive_answered_request`` once, among its post-response side effects
(apps/detection/services.py ``finish_request``). The event goes into the archive outbox (one
``XADD``: message and image, durable before the request returns, apps/events/outbox.py), then a
Celery wake-up call is published. If Redis cannot take the entry (down, unreachable, out of
memory), the event goes to the durable spool and a background thread in this process replays
the spool once Redis answers again. Usage events that Redis refused share the spool and the
replayer (apps/detection/metering.py).

While Redis is known to be down, new events go straight to the spool without trying it (a short
circuit breaker): a dead or black-holed Redis then costs each request one local file write
instead of a connect timeout.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from apps.events import layout, outbox
from apps.events.archive_task import wake_up
from apps.events.heartbeats import beat
from apps.events.records import RequestEvent
from apps.events.spool import ARCHIVE, ReplayResult, get_spool

if TYPE_CHECKING:
    from apps.core.grants import KeyGrant

logger = logging.getLogger(__name__)


def archive_answered_request(
    *,
    grant: KeyGrant,
    image: bytes,
    answers: Iterable[tuple[str, dict[str, Any]]],
    client_request_id: object = None,
    portal_request_id: str = "",
    received_at: float | None = None,
) -> list[str]:
    """The detection flow's one hook: archive a successful request, one event per service.

    Plain values in (the caller's grant, the image, `(application_type, answer)` pairs), so the
    archive knows nothing of the detection API. The detection flow calls it for successful
    requests only: a failed one has no verified image and no answer worth keeping. Returns the
    new event ids.
    """
    received = datetime.fromtimestamp(received_at, UTC) if received_at else datetime.now(UTC)
    event_ids = []
    for application_type, result in answers:
        event_id = archive_request_event(
            grant=grant,
            application_type=application_type,
            image=image,
            response=result,
            request_id=client_request_id,
            portal_request_id=portal_request_id,
            model=result.get("model", ""),
            timings=result.get("timings_ms"),
            received_at=received,
        )
        if event_id:
            event_ids.append(event_id)
    return event_ids


def archive_request_event(
    *,
    grant: KeyGrant,
    application_type: str,
    image: bytes,
    response: dict[str, Any],
    request_id: object = None,
    portal_request_id: str = "",
    model: str = "",
    timings: dict[str, Any] | None = None,
    received_at: datetime | None = None,
) -> str | None:
    """Queue the event for archiving when the key's tenant saves events for this service.

    Returns the new event id, or None when the service does not archive. Never raises for
    Redis trouble: the event is spooled instead. Bytes that are not an image we recognise are
    not archived as an image; the JSON record is still stored.
    """
    service = grant.services.get(application_type)
    if service is None or not service.save_request_events:
        return None
    image_type = layout.sniff_image_type(image)
    event = RequestEvent(
        event_id=layout.new_event_id(),
        tenant_id=grant.tenant_id,
        tenant_slug=grant.tenant_slug,
        application_type=application_type,
        received_at=received_at or datetime.now(UTC),
        response=response,
        request_id="" if request_id is None else str(request_id)[:128],
        portal_request_id=portal_request_id,
        api_key_id=grant.key_id,
        model=model or "",
        timings=timings or {},
        image=image if image_type else None,
        image_type=image_type,
        image_size=len(image) if image_type else 0,
    )
    publish_or_spool(event)
    return event.event_id


def publish_or_spool(event: RequestEvent) -> str:
    """Add the event to the outbox and wake a consumer, or spool the whole event; returns
    "queued", "spooled" or "lost"."""
    if not _breaker.is_open():
        try:
            outbox.add(event.to_message(inline_image=False), event.image)
        except Exception as exc:
            # Whatever the Redis error (refused, timeout, OOM), the event must survive it.
            _breaker.trip()
            logger.warning("archive outbox unavailable, spooling events: %s", exc)
        else:
            _wake_up(event.event_id)
            _replayer.start_if_pending()
            return "queued"
    message = event.to_message()  # the image inline: the spool file is all there is
    if spool_for_replay(ARCHIVE, message["event_id"], json.dumps(message).encode()):
        return "spooled"
    # Redis down and the disk refuses too (full, read-only): the one case that loses an
    # event. Logged loudly; the camera's request still succeeds.
    logger.error("archive event %s lost: Redis and the spool both refused it", event.event_id)
    return "lost"


def _wake_up(event_id: str) -> None:
    """Publish the wake-up call unless the broker failed us moments ago: the entry is durable
    already, and the sweep delivers it after the claim bound, so a dead or black-holed broker
    must not cost each request a connect timeout."""
    if _wake_up_breaker.is_open():
        return
    try:
        wake_up()
    except Exception as exc:
        _wake_up_breaker.trip()
        logger.warning("wake-up for archive event %s not published: %s", event_id, exc)


def spool_for_replay(kind: str, name: str, payload: bytes) -> bool:
    """Keep a message Redis refused in this host's spool and make sure a replayer runs;
    False when the disk refused it too (the caller logs the loss)."""
    try:
        get_spool().put(name, payload, kind=kind)
    except OSError:
        logger.exception("spool refused %s message %s", kind, name)
        return False
    _replayer.start()
    return True


def republish(payload: bytes) -> None:
    """Replay of one spooled archive event: into the outbox (image beside the message, no
    longer inline), then a wake-up call. Raises while Redis is still down."""
    message = json.loads(payload)
    image = base64.b64decode(message.pop("image_b64")) if message.get("image_b64") else None
    outbox.add(message, image)
    _wake_up(message["event_id"])


@cache
def _replay_handlers() -> dict[str, Callable[[bytes], None]]:
    """kind -> replay function, named in settings (usage is metered on a higher floor)."""
    return {kind: import_string(path) for kind, path in settings.IPCAI_SPOOL_REPLAY.items()}


def replay_spool() -> ReplayResult:
    """Replay every spooled message Redis accepts now (used by all replay triggers)."""
    handlers = _replay_handlers()
    result = get_spool().replay(lambda kind, payload: handlers[kind](payload))
    if result.error is None:
        _breaker.close()
        beat("spool_replay")
    return result


class _BrokerBreaker:
    """Remembers a failure for a few seconds so requests skip that server meanwhile."""

    def __init__(self) -> None:
        self._open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self) -> None:
        self._open_until = time.monotonic() + settings.IPCAI_EVENT_BROKER_RETRY_S

    def close(self) -> None:
        self._open_until = 0.0


class _SpoolReplayer:
    """One daemon thread per process that replays the spool until it is empty."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._checked_pid = 0
        self._work_waiting = False

    def start_if_pending(self) -> None:
        """Once per process (so: at startup, on the first event), replay what an earlier run
        of this host left in the spool."""
        if self._checked_pid == os.getpid():
            return
        self._checked_pid = os.getpid()
        if get_spool().has_pending():
            self.start()

    def start(self) -> None:
        with self._lock:
            self._work_waiting = True
            # After a fork (gunicorn preload) the parent's thread does not exist in the child.
            if self._thread and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="archive-spool-replay", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        idle = threading.Event()
        while True:
            with self._lock:
                self._work_waiting = False
            try:
                result = replay_spool()
                drained = result.error is None and result.remaining == 0
            except Exception:
                logger.exception("archive spool replay failed")
                drained = False
            if drained:
                with self._lock:
                    # An event spooled while we replayed must not wait for the next trigger.
                    if not self._work_waiting:
                        self._thread = None
                        return
                continue
            idle.wait(settings.IPCAI_EVENT_SPOOL_REPLAY_S)


_breaker = _BrokerBreaker()  # the outbox's Redis
_wake_up_breaker = _BrokerBreaker()  # Celery's broker (the same Redis unless configured apart)
_replayer = _SpoolReplayer()
