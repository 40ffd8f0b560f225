"""The Cameras pages with the trio: the owner creates, connects, edits and deletes; the viewer
sees but changes nothing; the other tenant's owner gets 404 on every camera URL."""

from __future__ import annotations

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.cameras.frames import remember_frame
from apps.cameras.models import Camera, CameraKey
from apps.cameras.services import bind_key, create_camera
from apps.dashboard.once import issue_token
from apps.tenants.models import ApiKey
from harness.images import seed_image
from tests.apps.dashboard.conftest import signed_in

TRIANGLE = [[0.1, 0.5], [0.6, 0.5], [0.6, 1.0]]


@pytest.fixture
def camera(tenant_a) -> Camera:
    return create_camera(tenant_a, {"name": "driveway"})


def urls(camera: Camera, key: ApiKey) -> dict[str, tuple[str, str]]:
    """Every camera URL of tenant A: (method, path)."""
    base = f"/t/alpha/cameras/{camera.public_id}"
    return {
        "detail": ("get", f"{base}/"),
        "settings": ("post", f"{base}/"),
        "new key": ("post", f"{base}/connect/"),
        "zones": ("post", f"{base}/zones"),
        "still": ("post", f"{base}/still/"),
        "bind": ("post", f"{base}/keys/"),
        "unbind": ("post", f"{base}/keys/{key.public_id}/unbind/"),
        "delete page": ("get", f"{base}/delete/"),
        "delete": ("post", f"{base}/delete/"),
        "background": ("get", f"{base}/background"),
        "snapshot": ("get", f"{base}/snapshot.jpg"),
        "status": ("get", f"{base}/status.json"),
    }


def test_the_list_shows_cameras_with_their_keys_and_last_frame(alice, camera, key_a):
    bind_key(camera, key_a.key)
    remember_frame(camera.public_id, seed_image("persons"), "image/jpeg", 1.7e9, [])
    page = signed_in(alice).get("/t/alpha/cameras/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "driveway" in html and key_a.key.prefix in html
    assert f"/t/alpha/cameras/{camera.public_id}/snapshot.jpg" in html
    snapshot = signed_in(alice).get(f"/t/alpha/cameras/{camera.public_id}/snapshot.jpg")
    assert snapshot.status_code == 200 and snapshot["Content-Type"] == "image/jpeg"


def test_connect_creates_a_camera_and_a_bound_key_shown_once(alice, tenant_a):
    client = signed_in(alice)
    page = client.get("/t/alpha/cameras/connect/")
    assert page.status_code == 200
    token = page.context["form"]["form_token"].value()
    answer = client.post(
        "/t/alpha/cameras/connect/",
        {"name": "porch", "services": ["persons-detection"], "form_token": token},
    )
    assert answer.status_code == 200
    camera = Camera.objects.get(tenant=tenant_a, name="porch")
    raw = answer.context["raw_key"]
    assert raw.startswith("ipcai_") and raw in answer.content.decode()
    assert "/v1/vision/detection" in answer.content.decode()
    assert CameraKey.objects.get(camera=camera).api_key.public_id in raw
    assert answer["Cache-Control"].startswith("max-age=0")
    again = client.post(
        "/t/alpha/cameras/connect/",
        {"name": "porch", "services": ["persons-detection"], "form_token": token},
    )
    assert again.status_code == 302  # the resubmission creates nothing
    assert Camera.objects.filter(tenant=tenant_a).count() == 1


def test_the_zone_editor_saves_valid_zones_and_names_the_bad_field(alice, camera):
    client = signed_in(alice)
    url = f"/t/alpha/cameras/{camera.public_id}/zones"
    zones = [{"name": "porch", "kind": "include", "points": TRIANGLE, "classes": ["person"]}]
    saved = client.post(url, orjson.dumps({"zones": zones}), content_type="application/json")
    assert saved.status_code == 200
    camera.refresh_from_db()
    assert camera.zones[0]["name"] == "porch"
    bad = [{"name": "x", "kind": "include", "points": TRIANGLE[:2]}]
    refused = client.post(url, orjson.dumps({"zones": bad}), content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("zones[0].points:")
    detail = client.get(f"/t/alpha/cameras/{camera.public_id}/")
    assert detail.status_code == 200
    assert 'id="camera-editor" type="application/json"' in detail.content.decode()


def test_settings_save_thresholds_and_size_and_show_errors_on_their_field(alice, camera):
    client = signed_in(alice)
    url = f"/t/alpha/cameras/{camera.public_id}/"
    form = {
        "name": "driveway",
        "services": ["persons-detection", "pets-detection"],
        "anchor": "center",
        "min_box_percent": "0.1",
        "threshold_dog": "0.45",
    }
    assert client.post(url, form).status_code == 302
    camera.refresh_from_db()
    assert camera.class_thresholds == {"dog": 0.45}
    assert camera.min_box_area == pytest.approx(0.001)
    assert camera.anchor == "center"
    refused = client.post(url, {**form, "services": []})
    assert refused.status_code == 400
    assert refused.context["form"].errors["services"]


def test_binding_unbinding_a_still_and_deleting(alice, camera, key_a):
    client = signed_in(alice)
    base = f"/t/alpha/cameras/{camera.public_id}"
    client.post(f"{base}/keys/", {"key": key_a.key.public_id})
    assert CameraKey.objects.get(api_key=key_a.key).camera == camera
    client.post(f"{base}/keys/{key_a.key.public_id}/unbind/")
    assert not CameraKey.objects.filter(api_key=key_a.key).exists()
    photo = SimpleUploadedFile("still.jpg", seed_image("pets"), content_type="image/jpeg")
    client.post(f"{base}/still/", {"image": photo})
    background = client.get(f"{base}/background")
    assert background.status_code == 200 and background["Content-Type"] == "image/jpeg"
    assert client.post(f"{base}/delete/").status_code == 302
    assert not Camera.objects.filter(pk=camera.pk).exists()
    assert ApiKey.objects.filter(pk=key_a.key.pk, revoked_at__isnull=True).exists()


def test_the_status_says_when_the_first_frame_came(alice, camera):
    client = signed_in(alice)
    url = f"/t/alpha/cameras/{camera.public_id}/status.json"
    assert client.get(url).json() == {"seen_at": None}
    remember_frame(camera.public_id, seed_image("persons"), "image/jpeg", 1.7e9, [])
    body = client.get(url).json()
    assert body["seen_at"].startswith("2023-11-14")
    assert body["frame_url"].endswith("?source=frame")


def test_a_viewer_sees_the_camera_but_changes_nothing(bob, camera, key_a):
    client = signed_in(bob)
    assert client.get("/t/alpha/cameras/").status_code == 200
    assert client.get(f"/t/alpha/cameras/{camera.public_id}/").status_code == 200
    assert client.get("/t/alpha/cameras/connect/").status_code == 403
    for name, (method, url) in urls(camera, key_a.key).items():
        if method == "post":
            assert getattr(client, method)(url).status_code == 403, name
    camera.refresh_from_db()
    assert Camera.objects.filter(pk=camera.pk).exists() and camera.zones == []


def test_another_tenants_owner_gets_404_on_every_camera_url(charlie, tenant_b, camera, key_a):
    client = signed_in(charlie)
    assert client.get("/t/alpha/cameras/").status_code == 404
    assert client.get("/t/alpha/cameras/connect/").status_code == 404
    for name, (method, url) in urls(camera, key_a.key).items():
        assert getattr(client, method)(url).status_code == 404, name
        # ... and under their own tenant's URL, A's camera id is unknown too.
        own = url.replace("/t/alpha/", "/t/bravo/")
        assert getattr(client, method)(own).status_code == 404, name
    assert Camera.objects.filter(pk=camera.pk).exists()


def test_the_connect_page_links_from_the_cameras_list(alice, tenant_a):
    html = signed_in(alice).get("/t/alpha/cameras/").content.decode()
    assert 'href="/t/alpha/cameras/connect/"' in html


def test_a_new_key_for_an_existing_camera(alice, camera):
    client = signed_in(alice)
    session = client.session
    token = issue_token(session)
    session.save()
    answer = client.post(f"/t/alpha/cameras/{camera.public_id}/connect/", {"form_token": token})
    assert answer.status_code == 200
    assert answer.context["raw_key"].startswith("ipcai_")
    assert CameraKey.objects.filter(camera=camera).count() == 1


def test_the_test_image_panel_cannot_run_another_tenants_camera(
    inference, alice, charlie, camera, tenant_b
):
    theirs = create_camera(tenant_b, {"name": "bravo cam"})
    answer = signed_in(alice).post(
        f"/t/alpha/api/detect/persons-detection?camera={theirs.public_id}",
        data=seed_image("persons"),
        content_type="image/jpeg",
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "camera_not_found"
    ours = signed_in(alice).post(
        f"/t/alpha/api/detect/persons-detection?camera={camera.public_id}",
        data=seed_image("persons"),
        content_type="image/jpeg",
    )
    assert ours.status_code == 200 and ours.json()["camera"] == camera.public_id


def test_the_keys_page_says_which_camera_a_key_sends(alice, camera, key_a):
    bind_key(camera, key_a.key)
    html = signed_in(alice).get("/t/alpha/keys/").content.decode()
    assert "sends the frames of" in html
    assert f'href="/t/alpha/cameras/{camera.public_id}/">driveway</a>' in html


def test_a_test_image_does_not_become_the_cameras_latest_frame(inference, alice, camera):
    answer = signed_in(alice).post(
        f"/t/alpha/api/detect/persons-detection?camera={camera.public_id}",
        data=seed_image("persons"),
        content_type="image/jpeg",
    )
    assert answer.status_code == 200
    status = signed_in(alice).get(f"/t/alpha/cameras/{camera.public_id}/status.json")
    assert status.json() == {"seen_at": None}
