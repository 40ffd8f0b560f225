"""/healthz answers load-balancer probes whatever Host they carry; nothing else does."""

from __future__ import annotations

import pytest

from tests.support.processes import free_port

pytestmark = pytest.mark.django_db
PROBE_HOST = "10.40.2.7:8000"  # an ECS task's private IP, as an ALB health check sends it


@pytest.fixture
def public_hosts_only(settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]


def test_health_probe_with_a_private_ip_host_is_answered(client, public_hosts_only):
    response = client.get("/healthz", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_other_paths_still_refuse_unknown_hosts(client, public_hosts_only):
    assert client.get("/api/schema/", HTTP_HOST=PROBE_HOST).status_code == 400


def test_health_is_503_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unhealthy"
