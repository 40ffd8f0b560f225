"""Nothing lost, provably: kill real processes mid-burst and match every answered request.

One private stack per module (harness/fault_stack.py), every part a real process: a
redis-server with an append-only file (the portal's Redis and Celery's broker), the inference
worker, the portal under gunicorn with two processes, a Celery worker (prefork, two children,
in its own process group) and a separate Celery beat, archiving to a local folder. Faults are
SIGKILLs of processes started here, by pid or process group. Each test then matches the
X-Request-Id of every answer against what was archived (events API, files) or metered
(UsageEvent rows, the month's usage report), polling with deadlines; nothing sleeps for a
fixed time.

Timings are shortened so recovery happens within seconds (production values in
docs/ARCHIVING.md): entries pending 2 s are reclaimed, the sweep runs every second, usage is
drained every 3 s, beat ticks at least every 0.6 s (stale after 1.5 s).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import redis
import requests

from harness.fault_stack import FaultStack, running_fault_stack
from harness.images import seed_image
from harness.polling import eventually

pytestmark = pytest.mark.slow

PERSONS_JPEG = seed_image("persons")
DRAIN_INTERVAL_S = 3.0
FAST_RECOVERY = {
    "IPCAI_ARCHIVE_CLAIM_AFTER_S": "2",
    "IPCAI_ARCHIVE_SWEEP_S": "1",
    "IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S": "1",
    "IPCAI_SPOOL_SWEEP_S": "1",
    "IPCAI_USAGE_DRAIN_INTERVAL_S": str(DRAIN_INTERVAL_S),
    "IPCAI_BROKER_VISIBILITY_TIMEOUT_S": "5",
    "IPCAI_EVENT_SPOOL_REPLAY_S": "0.5",
    "IPCAI_EVENT_BROKER_RETRY_S": "1",
}


class Stack(FaultStack):
    """The running processes, and what the tests ask of them."""

    def detect(self, key: str) -> requests.Response:
        return requests.post(
            f"{self.portal.base_url}/api/v1/detect/persons-detection",
            data=PERSONS_JPEG,
            headers={"x-api-key": key, "Content-Type": "image/jpeg"},
            timeout=60,
        )

    def burst(
        self, key: str, total: int, during: Callable[[list[Future]], None], threads: int = 8
    ) -> list[requests.Response]:
        """`total` requests from `threads` cameras; `during(futures)` runs while they fly."""
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(self.detect, key) for _ in range(total)]
            during(futures)
            return [f.result() for f in futures]

    def events(self, key: str) -> list[dict]:
        url, events = f"{self.portal.base_url}/api/v1/events?limit=500", []
        while url:
            page = requests.get(url, headers={"x-api-key": key}, timeout=30)
            assert page.status_code == 200, page.text
            events += page.json()["results"]
            url = page.json()["next"]
        return events

    def outbox_entries(self) -> int:
        return self.redis.client().xlen(f"{self.portal.env['IPCAI_REDIS_PREFIX']}archive:outbox")

    def redis_key(self, *parts: str) -> str:
        return self.portal.env["IPCAI_REDIS_PREFIX"] + ":".join(parts)

    def usage_drained_after(self, since: float) -> bool:
        """Nothing left to meter (queue and spool empty) and a drain finished after `since`:
        cheap to poll, unlike the database (Redis and a folder listing only)."""
        try:
            r = self.redis.client()
            queued = r.llen(self.redis_key("usage", "queue"))
            last_drain = float(r.hget(self.redis_key("heartbeat"), "drain") or 0)
        except redis.RedisError:
            return False
        spooled = any((self.spool_dir / "ready").glob("*.msg"))
        return queued == 0 and not spooled and last_drain > since

    def celery_status(self) -> requests.Response:
        return requests.get(f"{self.portal.base_url}/healthz/celery", timeout=10)

    def metered(self, slug: str) -> list[dict]:
        """Every UsageEvent row of the tenant, straight from the portal's database."""
        script = (
            "import json; from apps.usage.models import UsageEvent; "
            f"print(json.dumps(list(UsageEvent.objects.filter(tenant__slug={slug!r})"
            ".values('request_id', 'status_code'))))"
        )
        output = self.portal.manage("shell", "-c", script)
        return json.loads(output.strip().splitlines()[-1])  # after the shell's own notices

    def month_report(self, slug: str) -> list[dict]:
        out = self.portal.manage("usage_report", "--tenant", slug, "--format", "json")
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def answered_when(futures: list[Future], count: int, timeout: float = 120) -> None:
    eventually(lambda: sum(f.done() for f in futures) >= count, timeout, f"{count} answers")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    # Redis with appendfsync always: every acknowledged write comes back after a kill.
    with running_fault_stack(tmp_path_factory.mktemp("faults"), **FAST_RECOVERY) as processes:
        yield Stack(**vars(processes))


def tenant(stack: Stack, slug: str) -> str:
    key = stack.portal.create_tenant(slug, ("persons-detection",))
    stack.portal.manage("archive_requests", slug, "--on")
    return key


def test_a_killed_beat_is_reported_within_one_drain_interval(stack):
    eventually(lambda: stack.celery_status().status_code == 200, 30, "a ready Celery side")

    stack.celery.kill_beat()
    killed = time.monotonic()
    try:
        report = eventually(
            lambda: (
                (r := stack.celery_status()).status_code == 503
                and r.json()["heartbeats"]["beat"]["stale"]
                and r.json()
            ),
            DRAIN_INTERVAL_S,
            "the readiness route to report the dead beat",
        )
        assert report["status"] == "stale"
        assert time.monotonic() - killed <= DRAIN_INTERVAL_S
        metrics = requests.get(f"{stack.portal.base_url}/metrics", timeout=10).text
        assert 'ipcai_heartbeat_age_seconds{name="beat"}' in metrics
    finally:
        stack.celery.start_beat()
    eventually(lambda: stack.celery_status().status_code == 200, 30, "beat to be back")


def test_celery_process_group_killed_mid_burst_loses_and_duplicates_nothing(stack):
    key = tenant(stack, "killed")
    backlog_at_kill: list[int] = []

    def kill_celery(futures: list[Future]) -> None:
        answered_when(futures, 100)
        backlog_at_kill.append(stack.outbox_entries())
        stack.celery.kill_worker_group()
        stack.celery.start_worker()

    answers = stack.burst(key, 300, kill_celery)

    assert [a.status_code for a in answers] == [200] * 300
    assert all(backlog_at_kill), "nothing was in flight when Celery died: the fault missed"
    request_ids = [a.headers["X-Request-Id"] for a in answers]
    # Every entry was added before its answer; an empty outbox means every one was stored.
    eventually(lambda: stack.outbox_entries() == 0, 120, "an empty outbox (no image left)")
    events = stack.events(key)
    assert sorted(e["portal_request_id"] for e in events) == sorted(request_ids)
    # Objects only: not thumbnails, and not a writer's `.tmp-*` file (a write in flight, or
    # one the kill cut short: never linked to an object name, so never read as one).
    tenant_files = sorted(
        p.suffix
        for p in (stack.archive_dir / "killed").rglob("*.*")
        if ".thumb." not in p.name and not p.name.startswith(".tmp-")
    )
    assert tenant_files == [".jpg"] * 300 + [".json"] * 300


def test_redis_killed_mid_burst_every_answer_is_metered_once(stack):
    key = tenant(stack, "outage")

    spooled_in_outage: list[int] = []

    def kill_redis(futures: list[Future]) -> None:
        answered_when(futures, 30)
        os.kill(stack.redis.pid, signal.SIGKILL)
        stack.redis.stop()  # reaps the killed process
        answered = sum(f.done() for f in futures)
        answered_when(futures, answered + 20)
        spooled_in_outage.append(len(list((stack.spool_dir / "ready").glob("*.msg"))))
        stack.redis.start()  # same port, same append-only file

    worker_before = stack.celery.worker
    answers = stack.burst(key, 150, kill_redis, threads=4)

    statuses = [a.status_code for a in answers]
    # Redis down refuses no valid key (apps/core/breaker.py): every request is answered.
    assert statuses == [200] * len(answers)
    failed = 0
    assert spooled_in_outage[0] > 0, "no request saw Redis down: the fault missed"
    request_ids = sorted(a.headers["X-Request-Id"] for a in answers)
    answered_at = time.time()

    def drained() -> bool:
        # The Celery worker reconnects by itself: no supervisor has to start another one.
        assert worker_before.poll() is None, (
            f"the Celery worker exited ({worker_before.returncode}) when Redis restarted; "
            + stack.celery.worker_log_tail()
        )
        return stack.usage_drained_after(answered_at)

    eventually(drained, 120, "every answer drained")
    # The choice on running tasks is stated in settings: no warning about it per lost link.
    assert "CPendingDeprecationWarning" not in stack.celery.worker_log.read_text()
    rows = stack.metered("outage")
    assert sorted(r["request_id"] for r in rows) == request_ids
    assert sorted(r["status_code"] for r in rows) == sorted(statuses)
    report = {row["application_type"]: row for row in stack.month_report("outage")}
    for service in ("persons-detection", "all"):
        assert (report[service]["requests"], report[service]["errors"]) == (len(answers), failed)
