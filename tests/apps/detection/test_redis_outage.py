"""A Redis outage does not stop detection: live, with every part a real process.

The fault stack (harness/fault_stack.py: a private redis-server with an append-only file, the
inference worker, the portal under gunicorn with two processes, a Celery worker and beat)
takes a steady 20 requests per second from five keys, three of them bound to cameras, while
its Redis is killed by pid (or paused with SIGSTOP: it then accepts connections and never
answers) for 30 s. Beside them: a random key (must stay 401) and a key revoked during the
outage (refused within IPCAI_KEY_FALLBACK_CACHE_S, and still after Redis returns).

Afterwards every request is matched by its X-Request-Id against the usage rows: each stored
exactly once. Camera events (the responses' `events`) open again within 5 s of Redis's return.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import redis
import requests

from harness.fault_stack import FaultStack, running_fault_stack
from harness.images import seed_image
from harness.polling import eventually

pytestmark = pytest.mark.slow

PERSONS_JPEG = seed_image("persons")
RATE_PER_S = 20.0
OUTAGE_S = 30.0
REDIS_TIMEOUT_S = 1.0  # the portal's default
FALLBACK_CACHE_S = 5.0  # the portal's default
EVENTS_BACK_WITHIN_S = 5.0
SETTINGS = {
    "IPCAI_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S),
    "IPCAI_KEY_FALLBACK_CACHE_S": str(FALLBACK_CACHE_S),
    "IPCAI_USAGE_DRAIN_INTERVAL_S": "3",
    "IPCAI_SPOOL_SWEEP_S": "1",
    "IPCAI_EVENT_SPOOL_REPLAY_S": "0.5",
    "IPCAI_EVENT_BROKER_RETRY_S": "1",
    "IPCAI_BROKER_VISIBILITY_TIMEOUT_S": "5",
    # The random and the revoked key must be seen 401 throughout, not the failed-key limiter's
    # 429 for their address (the five valid keys share it; tests/apps/tenants covers the limiter).
    "IPCAI_AUTH_FAILURE_LIMIT": "100000",
}
SETUP = """
import json
from apps.cameras.services import create_camera, issue_camera_key
from apps.tenants.services import create_tenant, issue_api_key
cams = create_tenant("{run}-cams", services=["persons-detection"])
plain = create_tenant("{run}-plain", services=["persons-detection"], monthly_request_quota=10**6)
keys = [issue_camera_key(create_camera(cams, {{"name": f"cam {{i}}"}}))[1] for i in range(3)]
keys += [issue_api_key(plain, name=f"plain {{i}}")[1] for i in range(2)]
doomed, doomed_raw = issue_api_key(plain, name="revoked in the outage")
print(json.dumps({{"keys": keys, "doomed": doomed_raw, "doomed_id": doomed.public_id}}))
"""
REVOKE = (
    "from apps.tenants.models import ApiKey; from apps.tenants.services import revoke_api_key; "
    "revoke_api_key(ApiKey.objects.get(public_id={public_id!r}))"
)
METERED = (
    "import json; from apps.usage.models import UsageEvent; "
    "print(json.dumps(list(UsageEvent.objects.filter(tenant__slug__startswith={run!r})"
    ".values_list('request_id', flat=True))))"
)


@dataclass
class Answer:
    who: str  # "key0".."key4", "random", "doomed"
    sent: float  # time.monotonic() when it was due (the load's schedule)
    latency_s: float  # from then to its answer
    status: int
    request_id: str
    events: list[dict]
    code: str = ""
    # Time in the portal besides the inference worker's answer: what waiting for Redis adds to
    # (the whole latency also holds queueing for a thread on a machine shared with others).
    portal_only_s: float = 0.0


@dataclass
class Load:
    """Open-loop load: requests leave on schedule, whatever the answers' latency."""

    base_url: str
    keys: list[str]
    doomed: str
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def detect(self, who: str, key: str, sent: float) -> None:
        try:
            response = requests.post(
                f"{self.base_url}/api/v1/detect/persons-detection",
                data=PERSONS_JPEG,
                headers={"x-api-key": key, "Content-Type": "image/jpeg"},
                timeout=300,  # a busy shared machine queues: slow is not wrong here
            )
            body = response.json()
        except requests.RequestException as exc:
            self.answers.append(Answer(who, sent, time.monotonic() - sent, 0, "", [], repr(exc)))
            return
        timings = body.get("timings_ms", {}) if response.ok else {}
        self.answers.append(
            Answer(
                who,
                sent,
                time.monotonic() - sent,
                response.status_code,
                response.headers.get("X-Request-Id", ""),
                body.get("events", []) if response.ok else [],
                "" if response.ok else body["error"]["code"],
                (timings.get("portal_total", 0.0) - timings.get("total", 0.0)) / 1000,
            )
        )

    def run(self, pool: ThreadPoolExecutor) -> None:
        random_key = f"ipcai_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
        start, n = time.monotonic(), 0
        while not self._stop.is_set():
            who, due = n % len(self.keys), start + n / RATE_PER_S
            pool.submit(self.detect, f"key{who}", self.keys[who], due)
            if n % 10 == 0:  # beside the steady load, 2 a second each
                pool.submit(self.detect, "random", random_key, due)
                pool.submit(self.detect, "doomed", self.doomed, due)
            n += 1
            time.sleep(max(0.0, start + n / RATE_PER_S - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[FaultStack]:
    with running_fault_stack(tmp_path_factory.mktemp("outage"), **SETTINGS) as processes:
        yield processes


def healthz(stack: FaultStack) -> requests.Response:
    return requests.get(f"{stack.portal.base_url}/healthz", timeout=60)


def drained_after(stack: FaultStack, since: float) -> bool:
    """Queue and spool empty, and a drain finished after `since` (Redis and a folder only)."""
    prefix = stack.portal.env["IPCAI_REDIS_PREFIX"]
    try:
        r = stack.redis.client()
        queued = r.llen(f"{prefix}usage:queue")
        last_drain = float(r.hget(f"{prefix}heartbeat", "drain") or 0)
    except redis.RedisError:
        return False
    spooled = any((stack.spool_dir / "ready").glob("*.msg"))
    return queued == 0 and not spooled and last_drain > since


def opened_events(answers: list[Answer], who: str, after: float) -> list[Answer]:
    return [
        a
        for a in answers
        if a.who == who and a.sent >= after and any(e["type"] == "opened" for e in a.events)
    ]


def run_outage(
    stack: FaultStack, run: str, stop_redis: Callable[[], None], start_redis: Callable[[], None]
) -> None:
    made = json.loads(stack.portal.manage("shell", "-c", SETUP.format(run=run)).splitlines()[-1])
    load = Load(stack.portal.base_url, made["keys"], made["doomed"])
    pool = ThreadPoolExecutor(max_workers=400)  # every request leaves on time
    runner = threading.Thread(target=load.run, args=(pool,), daemon=True)
    runner.start()
    try:
        # Before: each camera has its events open (3 of 5 frames at 4 frames/s each).
        eventually(
            lambda: all(opened_events(load.answers, f"key{i}", 0) for i in range(3)),
            60,
            "camera events before the outage",
        )
        warm_portal_only = max(a.portal_only_s for a in load.answers)

        stop_redis()
        stopped = time.monotonic()
        eventually(lambda: healthz(stack).json()["status"] == "degraded", 60, "degraded")
        assert healthz(stack).status_code == 200  # the load balancer keeps sending
        revoking = time.monotonic()
        stack.portal.manage("shell", "-c", REVOKE.format(public_id=made["doomed_id"]))
        revoked = time.monotonic()
        time.sleep(max(0.0, stopped + OUTAGE_S - time.monotonic()))  # the outage's length
        metrics = requests.get(f"{stack.portal.base_url}/metrics", timeout=60)
        assert metrics.status_code == 200
        assert "ipcai_redis_available 0.0" in metrics.text
        served = re.search(r'ipcai_redis_fallbacks_total\{part="requests"\} (\S+)', metrics.text)
        assert served and float(served.group(1)) > 0  # this process's, counted while down

        start_redis()
        returned = time.monotonic()
        eventually(lambda: healthz(stack).json()["status"] == "ok", 60, "Redis in use again")
        deadline = returned + 3 * EVENTS_BACK_WITHIN_S  # asserted below, with the answers
        while time.monotonic() < deadline and not all(
            opened_events(load.answers, f"key{i}", stopped) for i in range(3)
        ):
            time.sleep(0.2)
        time.sleep(2)  # a little steady load with Redis back
    finally:
        load.stop()
        runner.join()
        pool.shutdown(wait=True)
    answered_at = time.time()

    answers = load.answers
    steady = [a for a in answers if a.who.startswith("key")]
    during = [a for a in steady if stopped <= a.sent < returned]
    assert len(during) >= 0.8 * RATE_PER_S * OUTAGE_S, "the load did not keep its rate"
    assert {(a.status, a.code) for a in steady} == {(200, "")}, [
        (a.who, a.status, a.code) for a in steady if a.status != 200
    ][:10]
    assert {(a.status, a.code) for a in answers if a.who == "random"} == {(401, "invalid_api_key")}
    doomed = [a for a in answers if a.who == "doomed"]
    assert all(a.status == 200 for a in doomed if a.sent + a.latency_s < revoking)
    refused_from = revoked + FALLBACK_CACHE_S + 1.0  # the bound, plus a request in flight
    late = [a for a in doomed if a.sent >= refused_from]
    assert late and {(a.status, a.code) for a in late} == {(401, "revoked_api_key")}
    # Camera events opened again soon after Redis returned (the tracker paused, nothing more).
    # Tracking paused: frames answered without events, and opened again by themselves soon
    # after Redis returned (by answers done after its return: a frame sent just before it may
    # be the one that opens them).
    assert not any(a.events for a in steady if stopped + 2 <= a.sent + a.latency_s <= returned - 1)
    for i in range(3):
        opened = opened_events(answers, f"key{i}", stopped)
        assert opened, [(round(a.sent - returned, 2), a.events) for a in steady[-20:]]
        first_done = min(a.sent + a.latency_s for a in opened)
        # Frames of this camera answered after Redis returned, up to the one that opened them.
        frames = [
            a
            for a in steady
            if a.who == f"key{i}" and returned <= a.sent + a.latency_s <= first_done
        ]
        # Within 5 s; or, where the machine answered this camera too slowly for that (a box
        # shared with other test runs), within 8 of its frames: at most 2 in the probe interval,
        # the first one closing the old tracks, 3 of 5 sightings to confirm the new ones.
        assert first_done - returned <= EVENTS_BACK_WITHIN_S or len(frames) <= 8, [
            (round(a.sent + a.latency_s - returned, 2), a.events) for a in frames
        ]
    # No request waited for the down Redis longer than the breaker's bound: one timeout (the
    # requests in flight when it stopped answering), plus the portal's own work on a busy box.
    # Answered while Redis was still down: later ones met a working Redis (and, on a loaded
    # machine, the camera locks of frames queued behind them).
    in_outage = [a for a in during if a.sent + a.latency_s < returned]
    slowest = sorted(in_outage, key=lambda a: a.portal_only_s)[-5:]
    assert slowest[-1].portal_only_s <= REDIS_TIMEOUT_S + 1.0, (
        warm_portal_only,
        [(a.portal_only_s, round(a.sent - stopped, 2), round(a.latency_s, 2)) for a in slowest],
    )

    # Metered exactly once: every answered request of the two tenants, and nothing else.
    eventually(lambda: drained_after(stack, answered_at), 120, "every answer drained")
    rows = json.loads(stack.portal.manage("shell", "-c", METERED.format(run=run)).splitlines()[-1])
    metered_ids = sorted(a.request_id for a in answers if a.status == 200)
    assert sorted(rows) == metered_ids


def test_a_killed_redis_refuses_no_valid_key_and_meters_every_request_once(stack):
    def kill() -> None:
        os.kill(stack.redis.pid, signal.SIGKILL)
        stack.redis.stop()  # reaps the killed process

    run_outage(stack, "killed", kill, stack.redis.start)


def test_a_paused_redis_costs_no_request_more_than_the_breaker_bound(stack):
    pid = stack.redis.pid
    run_outage(
        stack, "paused", lambda: os.kill(pid, signal.SIGSTOP), lambda: os.kill(pid, signal.SIGCONT)
    )
