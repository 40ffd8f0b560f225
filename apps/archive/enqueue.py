"""Hand a request event to the archive without slowing or failing the request.

The detection flow calls ``archive_answered_request`` once, among its post-response side effects
(apps/detection/services.py ``finish_request``). The event goes into the archive outbox (one
``XADD``: message and image, durable before the request returns, apps/archive/outbox.py), then a
Celery wake-up call is published. If Redis cannot take the entry (down, unreachable, out of
memory), the event goes to the durable spool and a background thread in this process replays
the spool once Redis answers again. Usage events that Redis refused share the spool and the
replayer (apps/usage/metering.py).

While Redis is known to be down, new events go straight to the spool without trying it (a short
circuit breaker): a dead or black-holed Redis then costs each request one local file write
instead of a connect timeout.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings

from apps.archive import layout, outbox, redaction
from apps.archive.records import RequestEvent
from apps.archive.store_task import wake_up
from apps.core.spool import ARCHIVE
from apps.core.spool_replay import after_successful_replay, replayer, spool_for_replay

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
    models: dict[str, str] | None = None,
) -> list[str]:
    """The detection flow's one hook: archive a successful request, one event per service.

    Plain values in (the caller's grant, the image, `(application_type, answer)` pairs), so the
    archive knows nothing of the detection API. The detection flow calls it for successful
    requests only: a failed one has no verified image and no answer worth keeping. Returns the
    new event ids. `models`: the worker model of each service, when the answer does not say
    (a DeepStack answer names none).
    """
    received = datetime.fromtimestamp(received_at, UTC) if received_at else datetime.now(UTC)
    answers = list(answers)
    services = tuple(application_type for application_type, _ in answers)
    event_ids = []
    for application_type, result in answers:
        event_id = archive_request_event(
            grant=grant,
            application_type=application_type,
            image=image,
            response=result,
            request_id=client_request_id,
            portal_request_id=portal_request_id,
            model=result.get("model") or (models or {}).get(application_type, ""),
            timings=result.get("timings_ms"),
            received_at=received,
            services=services,
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
    services: tuple[str, ...] = (),
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
        services=services or (application_type,),
        image=image if image_type else None,
        image_type=image_type,
        image_size=len(image) if image_type else 0,
    )
    if grant.redact and event.image is not None:
        # Blurred off the request path before the outbox or the spool sees it.
        redaction.hand_over(event, grant.redact, publish_or_spool)
    else:
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
            replayer.start_if_pending()
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


def republish(payload: bytes) -> None:
    """Replay of one spooled archive event: into the outbox (image beside the message, no
    longer inline), then a wake-up call. Raises while Redis is still down."""
    message = json.loads(payload)
    image = base64.b64decode(message.pop("image_b64")) if message.get("image_b64") else None
    outbox.add(message, image)
    _wake_up(message["event_id"])


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


_breaker = _BrokerBreaker()  # the outbox's Redis
_wake_up_breaker = _BrokerBreaker()  # Celery's broker (the same Redis unless configured apart)
# A replay that went through means Redis answers again: stop skipping the outbox.
after_successful_replay(_breaker.close)
