"""The camera's health in the cameras API: the `health` object (state, reason, since) that
apps/alerts/health.py writes through services.set_health, and the per-camera offline time."""

from __future__ import annotations

import orjson

from apps.cameras.models import Camera
from apps.cameras.services import create_camera, set_health


def call(client, method, path, key, body=None):
    kwargs = {"HTTP_X_API_KEY": key}
    if body is not None:
        kwargs.update(data=orjson.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


def test_a_new_camera_has_no_health_yet_and_goes_offline_after_ten_minutes(client, key_a):
    created = call(client, "post", "/api/v1/cameras", key_a.raw, {"name": "gate"}).json()
    assert created["health"] == {"state": "", "reason": "", "since": None}
    assert created["offline_after_s"] == 600


def test_the_health_written_by_the_checks_is_in_the_answer_and_the_list(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "gate"})
    assert set_health(camera.pk, "tampered", "covered") is True
    assert set_health(camera.pk, "tampered", "covered") is False  # no change, no second webhook
    answer = call(client, "get", f"/api/v1/cameras/{camera.public_id}", key_a.raw).json()
    assert answer["health"]["state"] == "tampered" and answer["health"]["reason"] == "covered"
    assert answer["health"]["since"]
    listed = call(client, "get", "/api/v1/cameras", key_a.raw).json()["cameras"]
    assert listed[0]["health"]["state"] == "tampered"


def test_the_offline_time_is_set_per_camera_and_checked(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "gate"})
    path = f"/api/v1/cameras/{camera.public_id}"
    assert (
        call(client, "patch", path, key_a.raw, {"offline_after_s": 30}).json()["offline_after_s"]
        == 30
    )
    for bad in (0, -5, 1.5, "ten", True):
        answer = call(client, "patch", path, key_a.raw, {"offline_after_s": bad})
        assert answer.status_code == 400, bad
        assert "offline_after_s" in answer.json()["error"]["message"]
    assert Camera.objects.get(pk=camera.pk).offline_after_s == 30


def test_another_tenants_key_sees_no_health(client, tenant_a, key_b):
    camera = create_camera(tenant_a, {"name": "gate"})
    set_health(camera.pk, "offline")
    answer = call(client, "get", f"/api/v1/cameras/{camera.public_id}", key_b.raw)
    assert answer.status_code == 404
    assert call(client, "get", "/api/v1/cameras", key_b.raw).json()["cameras"] == []
