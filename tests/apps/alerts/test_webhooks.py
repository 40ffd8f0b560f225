"""Webhook signing, the SSRF guard and delivery, against a real receiver process on 127.0.0.1.

Signatures are checked with the Standard Webhooks reference library (`standardwebhooks`), not
with our own code. Attempts run here by calling the delivery function the Celery task calls.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from apps.alerts import counters as camera_counters
from apps.alerts.models import WebhookDelivery
from apps.alerts.webhooks import delivery, outbound
from apps.alerts.webhooks.endpoints import create_endpoint, send_test_event
from apps.alerts.webhooks.signing import new_secret, signed_headers
from harness.webhook_receiver import running_receiver, start_receiver


@pytest.fixture
def receiver(tmp_path):
    with running_receiver(tmp_path) as receiver:
        yield receiver


@pytest.fixture(autouse=True)
def _private_allowed(settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True


def make_due(delivery_id: str) -> None:
    """Skip the backoff wait (the schedule itself is tested on retry_delay_s)."""
    WebhookDelivery.objects.filter(id=delivery_id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_signatures_verify_with_the_reference_library():
    secret = new_secret()
    body = orjson.dumps({"type": "event.started", "data": {"id": "x"}})
    headers = signed_headers(secret, "msg_1", int(timezone.now().timestamp()), body)
    assert Webhook(secret).verify(body, headers) == {"type": "event.started", "data": {"id": "x"}}
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body + b" ", headers)


def test_a_delivery_reaches_the_receiver_signed_and_is_logged(tenant_a, receiver):
    endpoint, secret = create_endpoint(tenant_a, receiver.url)
    sent = send_test_event(endpoint)
    before = camera_counters.counters().get("deliveries_succeeded", 0)
    assert delivery.attempt(sent.id) == "succeeded"
    (request,) = receiver.requests()
    assert request["headers"]["webhook-id"] == sent.id
    assert Webhook(secret).verify(request["body"], request["headers"])["type"] == "test"
    sent.refresh_from_db()
    assert sent.status == "succeeded" and sent.attempts == 1
    (logged,) = sent.attempt_log.all()
    assert logged.ok and logged.status_code == 200 and logged.response_excerpt == "ok"
    assert camera_counters.counters()["deliveries_succeeded"] == before + 1
    assert delivery.attempt(sent.id) == "skipped"  # delivered: never sent twice


def test_a_failing_receiver_is_retried_with_the_same_id_then_succeeds(tenant_a, tmp_path):
    failing = start_receiver(tmp_path, status=503)
    endpoint, secret = create_endpoint(tenant_a, failing.url)
    sent = send_test_event(endpoint)
    try:
        assert delivery.attempt(sent.id) == "retry"
        assert delivery.attempt(sent.id) == "skipped"  # not due yet: the backoff holds
        make_due(sent.id)
        assert delivery.attempt(sent.id) == "retry"
    finally:
        failing.server.stop()
    up = start_receiver(tmp_path, port=failing.port)
    try:
        make_due(sent.id)
        assert delivery.attempt(sent.id) == "succeeded"
        ids = {r["headers"]["webhook-id"] for r in failing.requests() + up.requests()}
        assert ids == {sent.id}
        for request in up.requests():
            Webhook(secret).verify(request["body"], request["headers"])
    finally:
        up.server.stop()
    log = list(sent.attempt_log.order_by("number"))
    assert [(a.number, a.status_code, a.ok) for a in log] == [
        (1, 503, False),
        (2, 503, False),
        (3, 200, True),
    ]


def test_a_receiver_that_is_down_is_logged_as_a_connection_error(tenant_a, tmp_path):
    gone = start_receiver(tmp_path)
    gone.server.stop()
    endpoint, _ = create_endpoint(tenant_a, gone.url)
    sent = send_test_event(endpoint)
    assert delivery.attempt(sent.id) == "retry"
    (logged,) = sent.attempt_log.all()
    assert logged.status_code is None and "Connection" in logged.error


def test_persistent_failure_disables_the_endpoint_with_a_note(tenant_a, tmp_path, settings):
    settings.IPCAI_WEBHOOK_MAX_ATTEMPTS = 3
    failing = start_receiver(tmp_path, status=500)
    try:
        endpoint, _ = create_endpoint(tenant_a, failing.url)
        sent = send_test_event(endpoint)
        outcomes = []
        for _ in range(3):
            make_due(sent.id)
            outcomes.append(delivery.attempt(sent.id))
    finally:
        failing.server.stop()
    assert outcomes == ["retry", "retry", "failed"]
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert (
        "3 failed attempts" in endpoint.disabled_reason and "HTTP 500" in endpoint.disabled_reason
    )
    later = send_test_event(endpoint)
    assert delivery.attempt(later.id) == "skipped"  # a disabled endpoint gets nothing


def test_the_retry_schedule_spans_about_a_day_with_jitter(settings):
    delays = [delivery.retry_delay_s(n) for n in range(1, settings.IPCAI_WEBHOOK_MAX_ATTEMPTS)]
    assert 4 <= delays[0] <= 6  # 5 s +- 20 %
    assert max(delays) <= settings.IPCAI_WEBHOOK_RETRY_MAX_S * 1.2
    assert 20 * 3600 <= sum(delays) <= 32 * 3600


def test_due_deliveries_are_found_again_by_the_sweep(tenant_a, receiver):
    endpoint, _ = create_endpoint(tenant_a, receiver.url)
    sent = send_test_event(endpoint)  # its queued task "lost": only the row remains
    assert sent.id in delivery.due_deliveries()
    delivery.attempt(sent.id)
    assert sent.id not in delivery.due_deliveries()


def test_delivery_refuses_a_private_address_when_private_is_not_allowed(
    tenant_a, receiver, settings
):
    endpoint, _ = create_endpoint(tenant_a, receiver.url)  # allowed when it was created
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = False
    sent = send_test_event(endpoint)
    assert delivery.attempt(sent.id) == "retry"
    assert receiver.requests() == []
    assert "refused" in sent.attempt_log.get().error


@pytest.mark.parametrize(
    ("address", "private_allowed", "refused"),
    [
        ("8.8.8.8", False, False),
        ("2001:4860:4860::8888", False, False),
        ("127.0.0.1", False, True),
        ("127.0.0.1", True, False),
        ("10.0.0.5", True, False),
        ("172.16.0.1", False, True),
        ("100.64.0.1", False, True),
        ("169.254.169.254", True, True),
        ("fe80::1", True, True),
        ("::ffff:127.0.0.1", False, True),
        ("::ffff:169.254.169.254", True, True),
        ("0.0.0.0", True, True),
        ("224.0.0.1", True, True),
        ("fd00::1", False, True),
    ],
)
def test_which_addresses_are_refused(address, private_allowed, refused):
    reason = outbound.address_refusal(ipaddress.ip_address(address), private_allowed)
    assert (reason is not None) == refused


def test_redirects_are_not_followed(tenant_a, tmp_path):
    redirecting = start_receiver(tmp_path, status=302)
    try:
        answer = outbound.post(redirecting.url, b"{}", {}, allow_private=True)
    finally:
        redirecting.server.stop()
    assert answer.status == 302 and not answer.ok
    assert len(redirecting.requests()) == 1
