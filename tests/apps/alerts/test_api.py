"""/api/v1/camera-events and /api/v1/webhooks: the owner's key works, another tenant's key sees
nothing (404), bad input is a clear 400, snapshot links are signed, private URLs are refused."""

from __future__ import annotations

import pytest

from apps.alerts import alerting, snapshots
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.models import WebhookEndpoint
from apps.cameras.services import create_camera
from tests.apps.archive.conftest import PERSONS_JPEG

BOX = [100.0, 100.0, 200.0, 400.0]


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    alerting._settings_cache.clear()


@pytest.fixture
def camera_a(tenant_a):
    return create_camera(tenant_a, {"name": "driveway"})


@pytest.fixture
def event_a(camera_a, archive) -> str:
    """An open person event on A's camera, made by frames through the tracking hook."""
    answer = []
    for i in range(3):
        detections = [{"label": "person", "score": 0.8, "box": BOX, "zones": ["porch"]}]
        answer = track_camera_frame(
            CameraFrame(
                camera_a.tenant_id, camera_a.pk, 1000 + i * 0.2, detections, PERSONS_JPEG, 546, 819
            )
        )
    return answer[0]["id"]


def test_the_owner_lists_its_camera_events(client, key_a, event_a, camera_a):
    response = client.get("/api/v1/camera-events", **key_a.headers)
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item["id"] == event_a and item["camera"] == camera_a.public_id
    assert item["label"] == "person" and item["zones"] == ["porch"] and item["ended_at"] is None
    assert item["box"] == BOX and item["max_score"] == 0.8
    assert set(item) >= {"id", "camera", "label", "zones", "started_at", "ended_at", "max_score"}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("label=person", 1),
        ("label=car", 0),
        ("zone=porch", 1),
        ("zone=por", 0),
        ("since=1970-01-01T00:16:40Z", 1),
        ("since=1970-01-01T00:20:00Z", 0),
    ],
)
def test_filters(client, key_a, event_a, query, found):
    response = client.get(f"/api/v1/camera-events?{query}", **key_a.headers)
    assert response.status_code == 200
    assert len(response.json()["results"]) == found


def test_the_camera_filter(client, key_a, event_a, camera_a):
    url = "/api/v1/camera-events?camera="
    assert len(client.get(url + camera_a.public_id, **key_a.headers).json()["results"]) == 1
    assert client.get(url + "cam_0000000000000000", **key_a.headers).json()["results"] == []


def test_a_bad_filter_is_a_clear_400(client, key_a):
    response = client.get("/api/v1/camera-events?since=yesterday", **key_a.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "since" in response.json()["error"]["message"]


def test_another_tenant_sees_none_of_it(client, key_b, event_a):
    assert client.get("/api/v1/camera-events", **key_b.headers).json()["results"] == []
    response = client.get(f"/api/v1/camera-events/{event_a}", **key_b.headers)
    assert response.status_code == 404
    snapshot = client.get(f"/api/v1/camera-events/{event_a}/snapshot", **key_b.headers)
    assert snapshot.status_code == 404


def test_no_key_is_401(client, event_a):
    assert client.get("/api/v1/camera-events").status_code == 401
    assert client.get(f"/api/v1/camera-events/{event_a}/snapshot").status_code == 401


def test_the_snapshot_by_key_and_by_signed_link(client, key_a, event_a):
    by_key = client.get(f"/api/v1/camera-events/{event_a}/snapshot", **key_a.headers)
    assert by_key.status_code == 200 and by_key.content == PERSONS_JPEG
    assert by_key["Content-Type"] == "image/jpeg"
    link = client.get(f"/api/v1/camera-events/{event_a}", **key_a.headers).json()["snapshot_url"]
    path = link.split("://", 1)[1].split("/", 1)[1]
    signed = client.get("/" + path)  # no key: the signature is the permission
    assert signed.status_code == 200 and signed.content == PERSONS_JPEG


def test_a_signed_link_opens_only_its_own_event_and_expires(client, event_a):
    other = "00000000-0000-0000-0000-000000000000"
    token = snapshots.signed_path(event_a).split("token=")[1]
    assert client.get(f"/api/v1/camera-events/{other}/snapshot?token={token}").status_code == 404
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    url = f"/api/v1/camera-events/{event_a}/snapshot?token="
    assert client.get(url + tampered).status_code == 404
    expired = snapshots.signed_path(event_a, ttl_s=-10).split("token=")[1]
    assert client.get(url + expired).status_code == 404


def test_webhook_crud_for_the_owner(client, key_a, settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    created = client.post(
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:9/hook", "labels": ["person"], "event_types": ["event.started"]},
        content_type="application/json",
        **key_a.headers,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["labels"] == ["person"]
    endpoint_id = body["id"]
    listed = client.get("/api/v1/webhooks", **key_a.headers).json()["results"]
    assert [e["id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]
    patched = client.patch(
        f"/api/v1/webhooks/{endpoint_id}",
        {"enabled": False},
        content_type="application/json",
        **key_a.headers,
    )
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert patched.json()["labels"] == ["person"]  # untouched fields stay
    test = client.post(f"/api/v1/webhooks/{endpoint_id}/test", **key_a.headers)
    assert test.status_code == 202 and test.json()["event_type"] == "test"
    log = client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", **key_a.headers).json()
    assert [d["event_type"] for d in log["results"]] == ["test"]
    assert client.delete(f"/api/v1/webhooks/{endpoint_id}", **key_a.headers).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_another_tenant_cannot_touch_a_webhook(client, key_a, key_b, settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    endpoint_id = client.post(
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:9/hook"},
        content_type="application/json",
        **key_a.headers,
    ).json()["id"]
    assert client.get("/api/v1/webhooks", **key_b.headers).json()["results"] == []
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/webhooks/{endpoint_id}", content_type="application/json", **key_b.headers
        )
        assert response.status_code == 404, method
    assert client.post(f"/api/v1/webhooks/{endpoint_id}/test", **key_b.headers).status_code == 404
    deliveries = client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", **key_b.headers)
    assert deliveries.status_code == 404
    assert WebhookEndpoint.objects.get().enabled


@pytest.mark.parametrize(
    ("url", "allow_private", "status"),
    [
        ("http://127.0.0.1:8080/hook", False, 400),
        ("http://10.1.2.3/hook", False, 400),
        ("http://192.168.1.20/hook", False, 400),
        ("http://[::1]/hook", False, 400),
        ("http://localhost/hook", False, 400),
        ("http://169.254.169.254/latest/meta-data", True, 400),  # metadata: never
        ("http://[::ffff:169.254.169.254]/", True, 400),
        ("ftp://example.com/hook", True, 400),
        ("http://user:pw@127.0.0.1/hook", True, 400),
        ("http://127.0.0.1:8080/hook", True, 201),
        ("http://10.1.2.3/hook", True, 201),
    ],
)
def test_private_and_metadata_urls_are_refused(client, key_a, settings, url, allow_private, status):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = allow_private
    response = client.post(
        "/api/v1/webhooks", {"url": url}, content_type="application/json", **key_a.headers
    )
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["error"]["code"] == "invalid_webhook"
        assert "url" in response.json()["error"]["message"]


def test_a_camera_filter_must_name_the_tenants_own_camera(client, key_a, settings, tenant_b):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    theirs = create_camera(tenant_b, {"name": "gate"})
    response = client.post(
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:9/", "cameras": [theirs.public_id]},
        content_type="application/json",
        **key_a.headers,
    )
    assert response.status_code == 400
    assert "No such camera" in response.json()["error"]["message"]


def test_the_apis_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/camera-events",
        "/api/v1/camera-events/{event_id}/snapshot",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{endpoint_id}/test",
    ):
        assert path in schema


def test_the_owner_changes_a_cameras_event_settings(client, key_a, key_b, camera_a, archive):
    url = f"/api/v1/cameras/{camera_a.public_id}/alerting"
    assert client.get(url, **key_a.headers).json() == {
        "enabled": True,
        "labels": [],
        "timeout_s": 3.0,
        "cooldown_s": 0.0,
        "stationary_after_s": 30.0,
        "confirm_hits": 3,
        "confirm_window": 5,
    }
    changed = client.patch(
        url, {"labels": ["car"], "timeout_s": 10}, content_type="application/json", **key_a.headers
    )
    assert changed.status_code == 200 and changed.json()["labels"] == ["car"]
    assert changed.json()["timeout_s"] == 10 and changed.json()["enabled"] is True
    for i in range(5):  # persons no longer make events on this camera
        track_camera_frame(
            CameraFrame(
                camera_a.tenant_id,
                camera_a.pk,
                2000 + i * 0.2,
                [{"label": "person", "score": 0.9, "box": BOX}],
                PERSONS_JPEG,
                546,
                819,
            )
        )
    assert client.get("/api/v1/camera-events", **key_a.headers).json()["results"] == []
    bad = client.patch(url, {"timeout_s": -1}, content_type="application/json", **key_a.headers)
    assert bad.status_code == 400 and "timeout_s" in bad.json()["error"]["message"]
    assert client.get(url, **key_b.headers).status_code == 404
    outsider = client.patch(
        url, {"enabled": False}, content_type="application/json", **key_b.headers
    )
    assert outsider.status_code == 404
    assert client.get(url, **key_a.headers).json()["enabled"] is True


def test_the_native_answer_documents_its_camera_events(client):
    schema = client.get("/api/schema/").content.decode()
    assert "FrameEvent" in schema and "X-Capture-Time" in schema


def test_one_of_one_confirmation_opens_an_event_at_the_first_sighting(
    client, key_a, camera_a, archive
):
    url = f"/api/v1/cameras/{camera_a.public_id}/alerting"

    def one_frame(at: float) -> None:
        frame = [{"label": "person", "score": 0.9, "box": BOX}]
        track_camera_frame(
            CameraFrame(camera_a.tenant_id, camera_a.pk, at, frame, PERSONS_JPEG, 546, 819)
        )

    def events() -> list[dict]:
        return client.get("/api/v1/camera-events", **key_a.headers).json()["results"]

    one_frame(1000.0)  # the default, 3 of 5: a lone sighting opens nothing
    assert events() == []
    unfit = client.patch(url, {"confirm_hits": 6}, content_type="application/json", **key_a.headers)
    assert unfit.status_code == 400
    assert unfit.json()["error"]["message"].startswith("confirm_hits: 6 sightings cannot fit")
    assert client.get(url, **key_a.headers).json()["confirm_hits"] == 3  # nothing saved

    changed = client.patch(
        url, {"confirm_hits": 1, "confirm_window": 1}, content_type="application/json",
        **key_a.headers,
    )  # fmt: skip
    assert (changed.json()["confirm_hits"], changed.json()["confirm_window"]) == (1, 1)
    one_frame(2000.0)  # a new visit, long after the first one ended
    assert [e["label"] for e in events()] == ["person"]
