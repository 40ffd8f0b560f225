"""Hand a request event to the archive without slowing or failing the request.

The detection flow calls ``archive_answered_request`` once, among its post-response side effects
(apps/detection/services.py ``finish_request``). The event is published to Celery; if the broker
cannot take it (down, unreachable, out of memory), the message goes to the durable spool and a
background thread in this process replays the spool once the broker answers again.

While the broker is known to be down, new events go straight to the spool without trying the
broker (a short circuit breaker): a dead or black-holed Redis then costs each request one local
file write instead of a connect timeout.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from apps.events import layout
from apps.events.archive_task import archive_event
from apps.events.records import RequestEvent
from apps.events.spool import ReplayResult, Spool
from apps.events.staging import drop_staged_image, stage_image, staging_available

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
    broker trouble: the event is spooled instead. Bytes that are not an image we recognise are
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
    """Stage the image and publish the archive task, or spool the whole event; returns
    "queued", "spooled" or "lost"."""
    if not _breaker.is_open():
        try:
            image_ref = None
            if event.image is not None and staging_available():
                image_ref = stage_image(event.event_id, event.image)
            _publish(event.to_message(image_ref=image_ref))
        except Exception as exc:
            # Whatever the broker error (refused, timeout, OOM), the event must survive it.
            _breaker.trip()
            logger.warning("archive broker unavailable, spooling events: %s", exc)
            if image_ref:
                _forget_staged(image_ref)
        else:
            _replayer.start_if_pending()
            return "queued"
    message = event.to_message()  # the image inline: the spool file is all there is
    try:
        get_spool().put(message["event_id"], json.dumps(message).encode())
    except OSError:
        # Broker down and the disk refuses too (full, read-only): the one case that loses an
        # event. Log it loudly; the camera's request still succeeds.
        logger.exception("archive event %s lost: broker and spool unavailable", event.event_id)
        return "lost"
    _replayer.start()
    return "spooled"


def _forget_staged(image_ref: str) -> None:
    """The bytes were staged but the message never left: the spool copy replaces them."""
    try:
        drop_staged_image(image_ref)
    except Exception:  # Redis just failed us; a leftover blob only costs memory
        logger.warning("staged image %s left in Redis", image_ref)


def replay_spool() -> ReplayResult:
    """Publish every spooled message the broker accepts now (used by all replay triggers).

    Spooled messages carry their image inline; the rare replay path does not re-stage it."""
    result = get_spool().replay(lambda payload: _publish(json.loads(payload)))
    if result.error is None:
        _breaker.close()
    return result


def _publish(message: dict[str, Any]) -> None:
    # retry=False: Celery's default publish retries would hold the request for seconds when
    # the broker is down; the spool is our retry. argsrepr: Celery would otherwise build a
    # truncated repr of the whole message for its logs, half of this call's CPU time.
    archive_event.apply_async(
        args=[message], retry=False, argsrepr=f"(event {message['event_id']})", kwargsrepr="{}"
    )


@cache
def _spool_for(path: str) -> Spool:
    return Spool(Path(path))


def get_spool() -> Spool:
    return _spool_for(str(settings.IPCAI_EVENT_SPOOL_DIR))


class _BrokerBreaker:
    """Remembers a failed publish for a few seconds so requests skip the broker meanwhile."""

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


_breaker = _BrokerBreaker()
_replayer = _SpoolReplayer()
