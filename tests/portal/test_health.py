"""/healthz answers load-balancer probes whatever Host they carry; nothing else does."""

from __future__ import annotations

import pytest

from apps.core.redis import redis_available
from harness.polling import eventually
from harness.processes import free_port

pytestmark = pytest.mark.django_db
PROBE_HOST = "10.40.2.7:8000"  # an ECS task's private IP, as an ALB health check sends it


@pytest.fixture
def public_hosts_only(settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]


def test_health_probe_with_a_private_ip_host_is_answered(client, public_hosts_only):
    response = client.get("/healthz", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis": "ok"}


def test_other_paths_still_refuse_unknown_hosts(client, public_hosts_only):
    assert client.get("/api/schema/", HTTP_HOST=PROBE_HOST).status_code == 400


def test_health_is_degraded_not_down_when_redis_does_not_answer(client, settings):
    shared_url = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    try:
        response = client.get("/healthz")
        # 200: detection goes on without Redis, the load balancer must keep sending traffic.
        assert response.status_code == 200
        assert response.json() == {"status": "degraded", "redis": "degraded"}
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "ipcai_redis_available 0.0" in metrics.content.decode()
    finally:
        settings.REDIS_URL = shared_url
        eventually(redis_available, 10, "the breaker to close again")
    assert client.get("/healthz").json() == {"status": "ok", "redis": "ok"}


def test_the_celery_readiness_route_names_what_is_stale(client, public_hosts_only):
    from apps.core.heartbeats import HEARTBEATS, beat, heartbeat_key
    from apps.core.redis import get_redis

    get_redis().delete(heartbeat_key())
    silent = client.get("/healthz/celery", HTTP_HOST=PROBE_HOST)
    assert silent.status_code == 503
    assert {name for name, h in silent.json()["heartbeats"].items() if h["stale"]} == set(
        HEARTBEATS
    )

    for name in HEARTBEATS:  # beat ticked, the drain, the sweep and the replay ran
        beat(name)
    ready = client.get("/healthz/celery", HTTP_HOST=PROBE_HOST)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    assert set(ready.json()["archive_outbox"]) == {
        "entries",
        "pending",
        "stored",
        "reconciled",
        "dropped",
    }

    metrics = client.get("/metrics", HTTP_HOST=PROBE_HOST)
    assert metrics.status_code == 200
    assert 'ipcai_heartbeat_age_seconds{name="beat"}' in metrics.content.decode()
    assert "ipcai_archive_outbox_entries" in metrics.content.decode()


def test_the_celery_readiness_route_is_503_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/healthz/celery")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unhealthy"
