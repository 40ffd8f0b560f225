"""Back-pressure end to end: a worker with a tiny queue behind a real portal, 200 cameras at once.

Every request must end, within a bound, in an answer (200) or a fast refusal the client can act
on (503 with Retry-After): no hang, no other 5xx, and the portal does not retry the worker's
503 (that would only add load to an overloaded worker)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.images import seed_image
from harness.portal import running_portal
from harness.worker import running_worker

CAMERAS = 200
# Generous for a loaded 2-core CI machine: the point is "ends", not "fast".
DEADLINE_S = 90


@pytest.fixture(scope="module")
def overloaded(tmp_path_factory):
    logs = tmp_path_factory.mktemp("backpressure")
    with (
        running_worker(logs, IPCAI_LANES="1", IPCAI_MAX_QUEUE="2") as (worker, worker_url),
        running_portal(logs, worker_url, workers=2, threads=32) as portal,
    ):
        yield portal, portal.create_tenant("crowd", ["persons-detection"]), worker


def test_200_concurrent_requests_end_in_200_or_503_with_retry_after(overloaded):
    portal, key, _ = overloaded
    image = seed_image("persons")

    def call(_: int) -> tuple[int, str | None, float]:
        started = time.monotonic()
        response = requests.post(
            f"{portal.base_url}/api/v1/detect/persons-detection",
            data=image,
            headers={"x-api-key": key, "Content-Type": "image/jpeg"},
            timeout=DEADLINE_S,
        )
        return response.status_code, response.headers.get("Retry-After"), time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(CAMERAS) as pool:
        results = list(pool.map(call, range(CAMERAS)))
    elapsed = time.monotonic() - started

    statuses = {status for status, _, _ in results}
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses  # the worker kept serving while it refused the overflow
    refused = [(status, retry) for status, retry, _ in results if status == 503]
    assert refused, "a queue of 2 cannot hold 200 requests: some must be refused"
    assert all(retry and int(retry) >= 1 for _, retry in refused)
    assert elapsed < DEADLINE_S


def test_the_portal_asks_an_overloaded_worker_once_per_request(overloaded):
    """The worker's own request counter sees one call per portal request, 503s included."""
    portal, key, _ = overloaded
    image = seed_image("persons")
    before = _worker_requests(portal)
    with ThreadPoolExecutor(40) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    requests.post(
                        f"{portal.base_url}/api/v1/detect/persons-detection",
                        data=image,
                        headers={"x-api-key": key, "Content-Type": "image/jpeg"},
                        timeout=DEADLINE_S,
                    ).status_code
                ),
                range(40),
            )
        )
    assert 503 in statuses
    assert _worker_requests(portal) - before == len(statuses)


def _worker_requests(portal) -> float:
    metrics = requests.get(f"{portal.env['IPCAI_WORKER_URL']}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("ipcai_worker_requests_total{")
    )
