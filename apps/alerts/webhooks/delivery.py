"""Deliveries: which endpoints an event change goes to, one attempt at a time, the retry
schedule, and turning off an endpoint that keeps failing.

At-least-once: a delivery row is written in the event change's transaction and stays pending
until the receiver answers 2xx; every attempt is signed afresh (a new webhook-timestamp) with
the row's stable webhook-id, so a receiver that de-duplicates by id sees each event once. The
schedule (IPCAI_WEBHOOK_RETRY_BASE_S x 3^n, capped at IPCAI_WEBHOOK_RETRY_MAX_S, +-20 %
jitter, IPCAI_WEBHOOK_MAX_ATTEMPTS attempts) spans about a day with the defaults
(5 s, 15 s, 45 s, ... then every 3 h); when a delivery exhausts it the endpoint is disabled with
a note, as Stripe and Svix do, so a dead URL stops costing every event.

An attempt is on record before its request goes out (counted, logged as started, due again on
the schedule), and the answer then completes that record: a worker killed mid-attempt (the
task's time limit, an OOM kill) has still used an attempt, so a receiver that holds every
request is retried on the schedule and disabled in the end, never retried at once forever.
What is stored from an answer has its NUL bytes removed (PostgreSQL refuses them in text).
The tasks run on their own Celery queue (IPCAI_WEBHOOK_QUEUE) so they never delay the archive,
the usage drain or exports.
"""

from __future__ import annotations

import logging
import math
import random
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.alerts import counters as camera_counters
from apps.alerts.models import (
    CameraEvent,
    DeliveryAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.alerts.queueing import DELIVER_WEBHOOK, queue
from apps.alerts.webhooks import outbound
from apps.alerts.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)


def soft_time_limit_s() -> int:
    """The delivery task's soft time limit: the deadline plus the database work around it."""
    return math.ceil(settings.IPCAI_WEBHOOK_DEADLINE_S) + 10


def time_limit_s() -> int:
    """The hard one: the pool kills the child (the attempt is already on record)."""
    return math.ceil(settings.IPCAI_WEBHOOK_DEADLINE_S) + 20


def lock_s() -> int:
    """How long a sending worker holds a delivery: longer than the task may run at all."""
    return time_limit_s() + 30


def retry_delay_s(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1-based), jittered."""
    base = settings.IPCAI_WEBHOOK_RETRY_BASE_S * (3 ** (attempts - 1))
    delay = min(base, settings.IPCAI_WEBHOOK_RETRY_MAX_S)
    return delay * random.uniform(0.8, 1.2)


def endpoint_wants(endpoint: WebhookEndpoint, event: CameraEvent, event_type: str) -> bool:
    if endpoint.event_types and event_type not in endpoint.event_types:
        return False
    if endpoint.cameras and event.camera.public_id not in endpoint.cameras:
        return False
    if endpoint.labels and event.label not in endpoint.labels:
        return False
    return not endpoint.zones or bool(set(endpoint.zones) & set(event.zones))


def queue_event_deliveries(event: CameraEvent, event_type: str, payload: dict) -> list[str]:
    """Delivery rows for every enabled endpoint of the tenant that wants this change; called
    inside the event change's transaction. Returns the new delivery ids."""
    rows = [
        WebhookDelivery(endpoint=endpoint, event=event, event_type=event_type, payload=payload)
        for endpoint in WebhookEndpoint.objects.filter(tenant_id=event.tenant_id, enabled=True)
        if endpoint_wants(endpoint, event, event_type)
    ]
    WebhookDelivery.objects.bulk_create(rows)
    ids = [row.id for row in rows]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return ids


def enqueue(delivery_ids: list[str], countdown: float = 0) -> None:
    """Hand deliveries to Celery; if the broker is down the due-delivery sweep finds them."""
    for delivery_id in delivery_ids:
        if not queue(DELIVER_WEBHOOK, delivery_id, countdown=countdown):
            return


def _claim(delivery_id: str, now: datetime) -> WebhookDelivery | None:
    """Take the row for one attempt, unless another worker holds it or it is not due."""
    claimed = WebhookDelivery.objects.filter(
        id=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
        locked_until__lte=now,
        endpoint__enabled=True,
    ).update(locked_until=now + timedelta(seconds=lock_s()))
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(id=delivery_id)


def attempt(delivery_id: str) -> str:
    """Send one due delivery once; returns "succeeded", "retry", "failed" or "skipped"."""
    now = timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "skipped"
    endpoint = delivery.endpoint
    if delivery.attempts >= settings.IPCAI_WEBHOOK_MAX_ATTEMPTS:
        # Its last attempt was cut off before it could say how it ended.
        outcome = give_up(delivery, "the last attempt did not finish")
        camera_counters.count(f"deliveries_{outcome}")
        return outcome
    started = record_start(delivery)
    body = orjson.dumps(delivery.payload)
    headers = signed_headers(endpoint.secret, delivery.id, int(now.timestamp()), body)
    answer = outbound.post(
        endpoint.url,
        body,
        headers,
        allow_private=settings.IPCAI_WEBHOOK_ALLOW_PRIVATE,
        deadline_s=settings.IPCAI_WEBHOOK_DEADLINE_S,
        ports=settings.IPCAI_WEBHOOK_PORTS,
    )
    outcome = record_attempt(delivery, answer, started)
    camera_counters.count(f"deliveries_{outcome}")
    return outcome


STARTED_NOTE = "started: no answer recorded (the attempt was cut off)"


def storable(text: str, limit: int) -> str:
    """Text as a column can hold it: no NUL bytes (PostgreSQL refuses them), within length."""
    return text.replace("\x00", "")[:limit]


@transaction.atomic
def record_start(delivery: WebhookDelivery) -> DeliveryAttempt:
    """Count the attempt and log it as started before anything is sent, due again on the
    schedule as if it takes the whole deadline; record_attempt completes both."""
    now = timezone.now()
    delivery.attempts += 1
    delivery.next_attempt_at = now + timedelta(
        seconds=settings.IPCAI_WEBHOOK_DEADLINE_S + retry_delay_s(delivery.attempts)
    )
    delivery.save(update_fields=["attempts", "next_attempt_at"])
    return DeliveryAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, at=now, ok=False, error=STARTED_NOTE
    )


def seconds_until_due(delivery_id: str) -> float | None:
    """How long until the delivery's next attempt; None when it is no longer pending."""
    due = (
        WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING)
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return None if due is None else max(0.0, (due - timezone.now()).total_seconds())


@transaction.atomic
def record_attempt(
    delivery: WebhookDelivery, answer: outbound.Answer, started: DeliveryAttempt
) -> str:
    """Complete the started attempt with its answer, and the delivery with the outcome."""
    now = timezone.now()
    started.status_code = answer.status
    started.ok = answer.ok
    started.latency_ms = answer.latency_ms
    started.error = storable(answer.error, 300)
    started.response_excerpt = storable(answer.excerpt, 500)
    started.save(update_fields=["status_code", "ok", "latency_ms", "error", "response_excerpt"])
    if answer.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        outcome = "succeeded"
    elif delivery.attempts >= settings.IPCAI_WEBHOOK_MAX_ATTEMPTS:
        return give_up(delivery, storable(answer.error, 200) or f"HTTP {answer.status}")
    else:
        delivery.next_attempt_at = now + timedelta(seconds=retry_delay_s(delivery.attempts))
        outcome = "retry"
    delivery.locked_until = now
    delivery.save(
        update_fields=["attempts", "status", "delivered_at", "next_attempt_at", "locked_until"]
    )
    return outcome


@transaction.atomic
def give_up(delivery: WebhookDelivery, last: str) -> str:
    """The schedule is spent: the delivery failed, and its endpoint is turned off."""
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.locked_until = timezone.now()
    delivery.save(update_fields=["status", "locked_until"])
    disable_endpoint(
        delivery.endpoint,
        f"Disabled after {delivery.attempts} failed attempts to deliver {delivery.id} "
        f"(last: {last}).",
    )
    return "failed"


def disable_endpoint(endpoint: WebhookEndpoint, reason: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason=reason[:300], disabled_at=timezone.now()
    )
    logger.warning("webhook endpoint %s disabled: %s", endpoint.public_id, reason)


def due_deliveries(limit: int = 500) -> list[str]:
    """Pending rows whose attempt is due and that no worker holds (the sweep's work)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            Q(status=WebhookDelivery.Status.PENDING)
            & Q(next_attempt_at__lte=now)
            & Q(locked_until__lte=now)
            & Q(endpoint__enabled=True)
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
