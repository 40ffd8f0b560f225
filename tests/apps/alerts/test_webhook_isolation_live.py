"""Twenty slow webhook receivers do not slow the archive or the usage drain (security review,
issue 31, High: acceptance).

The whole service as real processes (harness/fault_stack.py: a private redis-server, the
inference worker, the portal under gunicorn, Celery's default worker, the webhook queue's own
worker, beat). Twenty endpoints of one tenant point at a real server on 127.0.0.1 that
answers every request a byte every half second, without end (harness/trickling_http.py).
While their attempts run, camera requests are archived and metered at the same pace as with
no webhooks at all: each drain is measured from the last answer to an empty archive outbox and
a finished usage drain. Every attempt ends at the deadline, is logged as a timeout, and is
retried on the schedule.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from harness.fault_stack import FaultStack, running_fault_stack
from harness.images import seed_image
from harness.polling import eventually
from harness.trickling_http import TricklingServer, trickling_server

pytestmark = pytest.mark.slow

PERSONS_JPEG = seed_image("persons")
DEADLINE_S = 2.0
RETRY_BASE_S = 3.0
ENDPOINTS = 20
REQUESTS = 12
SETTINGS = {
    "IPCAI_WEBHOOK_ALLOW_PRIVATE": "true",
    "IPCAI_WEBHOOK_DEADLINE_S": str(DEADLINE_S),
    "IPCAI_WEBHOOK_RETRY_BASE_S": str(RETRY_BASE_S),
    "IPCAI_CAMERA_SWEEP_S": "1",
    "IPCAI_USAGE_DRAIN_INTERVAL_S": "2",
    "IPCAI_ARCHIVE_SWEEP_S": "1",
    "IPCAI_ARCHIVE_CLAIM_AFTER_S": "5",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[FaultStack]:
    with running_fault_stack(tmp_path_factory.mktemp("webhook-isolation"), **SETTINGS) as s:
        yield s


def _detect(stack: FaultStack, key: str) -> None:
    answer = requests.post(
        f"{stack.portal.base_url}/api/v1/detect/persons-detection",
        data=PERSONS_JPEG,
        headers={"x-api-key": key, "Content-Type": "image/jpeg"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text


def _backlog_cleared(stack: FaultStack, since: float) -> bool:
    """The archive outbox is empty and a usage drain finished after `since`, with nothing
    left queued (Redis reads only: cheap to poll)."""
    prefix = stack.portal.env["IPCAI_REDIS_PREFIX"]
    r = stack.redis.client()
    outbox = r.xlen(f"{prefix}archive:outbox")
    queued = r.llen(f"{prefix}usage:queue")
    last_drain = float(r.hget(f"{prefix}heartbeat", "drain") or 0)
    return outbox == 0 and queued == 0 and last_drain > since


def _drain_time(stack: FaultStack, key: str, timeout: float = 90) -> float:
    """Seconds from the last of REQUESTS answers (one every 0.25 s) until every one is
    archived and metered."""
    for _ in range(REQUESTS):
        _detect(stack, key)
        time.sleep(0.25)  # a camera's pace, not a wait for a result
    answered, wall = time.monotonic(), time.time()
    eventually(lambda: _backlog_cleared(stack, wall), timeout, "archive and usage caught up")
    return time.monotonic() - answered


def _deliveries(stack: FaultStack, key: str, endpoint_id: str) -> list[dict]:
    answer = requests.get(
        f"{stack.portal.base_url}/api/v1/webhooks/{endpoint_id}/deliveries",
        headers={"x-api-key": key},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def _finished_attempts(delivery: dict) -> list[dict]:
    return sorted(
        (a for a in delivery["attempt_log"] if not a["error"].startswith("started")),
        key=lambda a: a["number"],
    )


def _at(attempt: dict) -> float:
    return datetime.fromisoformat(attempt["at"].replace("Z", "+00:00")).timestamp()


def test_twenty_trickling_receivers_leave_archive_and_usage_at_their_pace(stack):
    key = stack.portal.create_tenant("slowhooks", ("persons-detection",))
    stack.portal.manage("archive_requests", "slowhooks", "--on")
    _detect(stack, key)  # warm the portal and worker up
    baseline = _drain_time(stack, key)

    with trickling_server("status", interval_s=0.5, limit_s=None) as server:
        endpoint_ids = _start_slow_deliveries(stack, key, server)
        eventually(lambda: len(server.connections) >= 2, 60, "attempts under way")
        with_webhooks = _drain_time(stack, key)
        # Every delivery attempted twice: all attempts of one round, then their retries.
        logs = eventually(
            lambda: (
                (d := [_deliveries(stack, key, e)[0] for e in endpoint_ids])
                and all(len(_finished_attempts(x)) >= 2 for x in d)
                and d
            ),
            240,
            "two finished attempts of every delivery",
        )
        held = [c.held_s for c in server.finished()]

    print(f"drain after {REQUESTS} requests: {baseline:.2f} s alone, {with_webhooks:.2f} s "
          f"beside {ENDPOINTS} trickling receivers; connections held {min(held):.2f}-"
          f"{max(held):.2f} s")  # fmt: skip
    assert with_webhooks <= max(2 * baseline, baseline + 5.0)
    assert held and max(held) <= DEADLINE_S + 1.0
    for delivery in logs:
        first, second = _finished_attempts(delivery)[:2]
        for attempt in (first, second):
            assert attempt["status_code"] is None and attempt["error"].startswith("timeout")
            assert attempt["latency_ms"] <= (DEADLINE_S + 0.5) * 1000
        # Due RETRY_BASE_S (+-20 %) after the first attempt ended; never sooner. Later by at
        # most what waits ahead of it on the one webhook worker: the others' first attempts
        # and their retries that came due earlier, each cut at the deadline (plus its
        # connection set-up; CI measured one round at up to 2.6 s an attempt).
        due = _at(first) + first["latency_ms"] / 1000 + 0.8 * RETRY_BASE_S
        queued_ahead = 2 * ENDPOINTS * (DEADLINE_S + 1.0)
        assert due - 0.5 <= _at(second) <= due + 0.4 * RETRY_BASE_S + queued_ahead


def _start_slow_deliveries(stack: FaultStack, key: str, server: TricklingServer) -> list[str]:
    ids = []
    for n in range(ENDPOINTS):
        created = requests.post(
            f"{stack.portal.base_url}/api/v1/webhooks",
            json={"url": f"{server.url}/hook/{n}"},
            headers={"x-api-key": key},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    for endpoint_id in ids:
        sent = requests.post(
            f"{stack.portal.base_url}/api/v1/webhooks/{endpoint_id}/test",
            headers={"x-api-key": key},
            timeout=30,
        )
        assert sent.status_code == 202, sent.text
    return ids
