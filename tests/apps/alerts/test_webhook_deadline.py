"""A slow receiver holds a webhook attempt no longer than the deadline (security review, issue
31, High): the status line, the headers and the body trickled one byte at a time by a real
server on 127.0.0.1 (harness/trickling_http.py), each byte well inside the per-read timeout.

Attempts run here by calling the delivery function the Celery task calls; the live test with
a real Celery worker is test_webhook_isolation_live.py.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings as django_settings

from apps.alerts.models import DeliveryAttempt, WebhookDelivery
from apps.alerts.tasks import deliver_webhook
from apps.alerts.webhooks import delivery, outbound
from apps.alerts.webhooks.endpoints import create_endpoint, send_test_event
from harness.scripted_http import Reply, scripted_server
from harness.trickling_http import trickling_server
from portal.celery import app

DEADLINE_S = 1.5


@pytest.fixture(autouse=True)
def _private_allowed(settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    settings.IPCAI_WEBHOOK_DEADLINE_S = DEADLINE_S


@pytest.mark.parametrize("phase", ["status", "headers", "body"])
def test_a_trickling_receiver_is_cut_off_at_the_deadline_and_logged_as_a_timeout(tenant_a, phase):
    # limit_s: without a deadline the attempt would end after 8 s, not hang the suite.
    with trickling_server(phase, interval_s=0.3, limit_s=8) as server:
        endpoint, _ = create_endpoint(tenant_a, server.url + "/hook")
        sent = send_test_event(endpoint)
        started = time.monotonic()
        outcome = delivery.attempt(sent.id)
        took = time.monotonic() - started
    assert took < DEADLINE_S + 1.0, f"the attempt took {took:.1f} s"
    (logged,) = sent.attempt_log.all()
    assert logged.error.startswith("timeout"), logged.error
    if phase == "body":  # the receiver answered 200 before the deadline: delivered
        assert outcome == "succeeded" and logged.status_code == 200
    else:
        assert outcome == "retry" and logged.status_code is None
        assert logged.latency_ms < (DEADLINE_S + 1.0) * 1000


def test_the_deadline_covers_a_status_line_that_never_ends():
    with trickling_server("status", interval_s=0.2, limit_s=None) as server:
        started = time.monotonic()
        answer = outbound.post(server.url, b"{}", {}, allow_private=True, deadline_s=1.0)
        took = time.monotonic() - started
    assert answer.status is None and answer.error.startswith("timeout")
    assert took < 2.0


@pytest.mark.django_db(transaction=True)
def test_the_attempt_is_on_record_before_the_request_is_sent(tenant_a, settings):
    """A worker killed mid-attempt (time limit, OOM) has still used up an attempt: counted,
    logged, and due again on the schedule, never retried at once and forever."""
    settings.IPCAI_WEBHOOK_DEADLINE_S = 30
    hold = threading.Event()
    with scripted_server(Reply(200, b"ok", hold=hold)) as server:
        endpoint, _ = create_endpoint(tenant_a, server.url + "/hook")
        # The row alone (send_test_event would run the eager task at once, in this thread).
        sent = WebhookDelivery.objects.create(endpoint=endpoint, event_type="test", payload={})
        worker = threading.Thread(target=delivery.attempt, args=(sent.id,))
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while not server.received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.received, "the request never arrived"
            # The receiver holds the request: what a killed worker would have left behind.
            in_flight = WebhookDelivery.objects.get(id=sent.id)
            (started,) = DeliveryAttempt.objects.filter(delivery_id=sent.id)
        finally:
            hold.set()
            worker.join(timeout=30)
    assert in_flight.attempts == 1 and in_flight.status == "pending"
    assert started.number == 1 and not started.ok and "no answer" in started.error
    assert in_flight.next_attempt_at > started.at  # due again later, on the schedule
    sent.refresh_from_db()
    (finished,) = sent.attempt_log.all()
    assert sent.status == "succeeded" and finished.ok and finished.status_code == 200


def test_nul_bytes_in_an_answer_are_stripped_from_what_is_stored(tenant_a):
    # PostgreSQL refuses NUL in text: storing the attempt failed, and the delivery was retried
    # without end, never counted.
    with scripted_server(Reply(500, b"bad\x00answer")) as server:
        endpoint, _ = create_endpoint(tenant_a, server.url + "/hook")
        sent = send_test_event(endpoint)
        assert delivery.attempt(sent.id) == "retry"
    (logged,) = sent.attempt_log.all()
    assert logged.status_code == 500 and logged.response_excerpt == "badanswer"


def test_a_delivery_whose_last_attempt_was_cut_off_fails_and_disables_the_endpoint(
    tenant_a, settings
):
    settings.IPCAI_WEBHOOK_MAX_ATTEMPTS = 2
    with scripted_server() as server:  # never used: both attempts were "killed"
        endpoint, _ = create_endpoint(tenant_a, server.url + "/hook")
        sent = send_test_event(endpoint)
    WebhookDelivery.objects.filter(id=sent.id).update(attempts=2)
    assert delivery.attempt(sent.id) == "failed"
    endpoint.refresh_from_db()
    assert endpoint.enabled is False and "2 failed attempts" in endpoint.disabled_reason


def test_the_delivery_task_has_a_time_limit_beyond_the_deadline():
    assert deliver_webhook.soft_time_limit > django_settings.IPCAI_WEBHOOK_DEADLINE_S
    assert deliver_webhook.time_limit > deliver_webhook.soft_time_limit
    assert delivery.lock_s() > deliver_webhook.time_limit  # no second worker while it may run


def test_webhook_deliveries_go_to_their_own_queue():
    route = app.amqp.router.route({}, "events.deliver_webhook")
    assert route["queue"].name == django_settings.IPCAI_WEBHOOK_QUEUE
    assert django_settings.IPCAI_WEBHOOK_QUEUE != django_settings.CELERY_TASK_DEFAULT_QUEUE
    for other in ("events.archive_request", "apps.detection.tasks.drain_usage_events"):
        assert app.amqp.router.route({}, other)["queue"].name == (
            django_settings.CELERY_TASK_DEFAULT_QUEUE
        )
