"""The cameras API (`/api/v1/cameras`) with the trio's keys: the owner's key creates, reads,
edits, binds and deletes; the other tenant's key sees 404 everywhere; a key bound to a camera
and a key without the manage scope cannot change anything."""

from __future__ import annotations

import orjson
import pytest

from apps.cameras.models import Camera, CameraKey
from apps.cameras.services import bind_key, create_camera
from apps.tenants.models import ApiKey
from apps.tenants.services import issue_api_key

TRIANGLE = [[0.1, 0.5], [0.6, 0.5], [0.6, 1.0]]
BODY = {
    "name": "driveway",
    "services": ["persons-detection"],
    "class_thresholds": {"dog": 0.45},
    "min_box_area": 0.001,
    "zones": [{"name": "porch", "kind": "include", "points": TRIANGLE, "classes": ["person"]}],
}


def call(client, method, path, key, body=None):
    kwargs = {"HTTP_X_API_KEY": key}
    if body is not None:
        kwargs.update(data=orjson.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


def test_create_as_in_the_issue_then_list_read_update_delete(client, tenant_a, key_a):
    created = call(client, "post", "/api/v1/cameras", key_a.raw, BODY)
    assert created.status_code == 201, created.content
    camera = created.json()
    assert camera["id"].startswith("cam_") and len(camera["id"]) == 20
    assert {k: camera[k] for k in BODY} == BODY
    assert camera["anchor"] == "bottom_center" and camera["keys"] == []

    listed = call(client, "get", "/api/v1/cameras", key_a.raw).json()["cameras"]
    assert [c["id"] for c in listed] == [camera["id"]]
    path = f"/api/v1/cameras/{camera['id']}"
    assert call(client, "get", path, key_a.raw).json()["name"] == "driveway"

    patched = call(client, "patch", path, key_a.raw, {"zones": [], "min_box_pixels": 400})
    assert patched.status_code == 200
    assert patched.json()["zones"] == [] and patched.json()["min_box_pixels"] == 400
    assert patched.json()["class_thresholds"] == {"dog": 0.45}  # untouched by the PATCH

    assert call(client, "delete", path, key_a.raw).status_code == 204
    assert call(client, "get", path, key_a.raw).status_code == 404


def test_services_default_to_the_tenants_enabled_ones(client, tenant_a, key_a):
    created = call(client, "post", "/api/v1/cameras", key_a.raw, {"name": "yard"}).json()
    assert sorted(created["services"]) == ["persons-detection", "pets-detection"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"zones": [{"name": "z", "points": TRIANGLE[:2]}]}, "zones[0].points"),
        ({"zones": [{"name": "z", "points": [[0, 0], [1, 1], [1, 0], [0, 1]]}]}, "zones[0].points"),
        ({"zones": [{"name": "z", "points": [[0, 0], [2, 0], [1, 1]]}]}, "zones[0].points[1]"),
        ({"class_thresholds": {"dog": 3}}, "class_thresholds.dog"),
        ({"services": ["vehicles-detection"]}, "services"),
        ({"min_box_area": "big"}, "min_box_area"),
        ({"anchor": "top"}, "anchor"),
        ({"colour": "red"}, "colour"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_settings_are_400_naming_the_field(client, tenant_a, key_a, change, field):
    response = call(client, "post", "/api/v1/cameras", key_a.raw, {"name": "cam", **change})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_camera"
    assert error["message"].startswith(f"{field}:")


def test_a_duplicate_name_is_400(client, tenant_a, key_a):
    call(client, "post", "/api/v1/cameras", key_a.raw, {"name": "cam"})
    response = call(client, "post", "/api/v1/cameras", key_a.raw, {"name": "cam"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("name:")


def test_binding_an_existing_key_and_issuing_a_bound_one(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "gate"})
    other, _ = issue_api_key(tenant_a, name="recorder")
    path = f"/api/v1/cameras/{camera.public_id}/keys"

    bound = call(client, "post", path, key_a.raw, {"key": other.public_id})
    assert bound.status_code == 200
    assert bound.json()["camera"]["keys"] == [other.public_id]
    issued = call(client, "post", path, key_a.raw, {"name": "gate key"})
    assert issued.status_code == 201
    secret = issued.json()["secret"]
    assert secret.startswith(f"ipcai_{issued.json()['key']}_")
    assert CameraKey.objects.filter(camera=camera).count() == 2
    assert ApiKey.objects.get(public_id=issued.json()["key"]).scopes == ["detect"]

    unbound = call(client, "delete", f"{path}/{other.public_id}", key_a.raw)
    assert unbound.status_code == 200
    assert unbound.json()["keys"] == [issued.json()["key"]]

    # The new key is the camera's: it sends frames, and is refused on this API.
    refused = call(client, "get", "/api/v1/cameras", secret)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"


def test_another_tenants_key_gets_404_on_every_route_and_changes_nothing(
    client, tenant_a, tenant_b, key_a, key_b
):
    camera = create_camera(tenant_a, {"name": "alpha cam", "zones": []})
    base = f"/api/v1/cameras/{camera.public_id}"
    for method, path, body in [
        ("get", base, None),
        ("patch", base, {"name": "taken"}),
        ("delete", base, None),
        ("post", f"{base}/keys", {"key": key_b.key.public_id}),
        ("post", f"{base}/keys", {}),
        ("delete", f"{base}/keys/{key_a.key.public_id}", None),
    ]:
        response = call(client, method, path, key_b.raw, body)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "camera_not_found"
    assert call(client, "get", "/api/v1/cameras", key_b.raw).json() == {"cameras": []}
    camera.refresh_from_db()
    assert camera.name == "alpha cam" and not CameraKey.objects.exists()


def test_a_key_cannot_bind_another_tenants_key(client, tenant_a, tenant_b, key_a, key_b):
    camera = create_camera(tenant_a, {"name": "gate"})
    response = call(
        client,
        "post",
        f"/api/v1/cameras/{camera.public_id}/keys",
        key_a.raw,
        {"key": key_b.key.public_id},
    )
    assert response.status_code == 404
    assert not CameraKey.objects.exists()


def test_a_bound_key_cannot_read_or_change_cameras(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "gate"})
    bind_key(camera, key_a.key)
    for method, path, body in [
        ("get", "/api/v1/cameras", None),
        ("post", "/api/v1/cameras", {"name": "another"}),
        ("patch", f"/api/v1/cameras/{camera.public_id}", {"zones": []}),
    ]:
        response = call(client, method, path, key_a.raw, body)
        assert response.status_code == 403
        assert "bound to camera" in response.json()["error"]["message"]
    assert Camera.objects.count() == 1


def test_a_key_without_the_manage_scope_reads_but_cannot_change(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "gate"})
    _, detect_only = issue_api_key(tenant_a, name="camera", scopes=["detect"])
    assert call(client, "get", "/api/v1/cameras", detect_only).status_code == 200
    for method, path, body in [
        ("post", "/api/v1/cameras", {"name": "another"}),
        ("patch", f"/api/v1/cameras/{camera.public_id}", {"name": "renamed"}),
        ("delete", f"/api/v1/cameras/{camera.public_id}", None),
        ("post", f"/api/v1/cameras/{camera.public_id}/keys", {}),
    ]:
        response = call(client, method, path, detect_only, body)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "insufficient_scope"
    camera.refresh_from_db()
    assert camera.name == "gate" and Camera.objects.count() == 1


def test_no_key_is_401(client, db):
    assert client.get("/api/v1/cameras").status_code == 401


def test_the_routes_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for operation in ("cameras_list", "cameras_create", "cameras_bind_key", "keys_camera_bind"):
        assert operation in schema


def test_the_keys_api_side_binds_and_unbinds_a_key(client, tenant_a, tenant_b, key_a, key_b):
    camera = create_camera(tenant_a, {"name": "gate"})
    other, _ = issue_api_key(tenant_a, name="recorder")
    path = f"/api/v1/keys/{other.public_id}/camera"

    assert call(client, "get", path, key_a.raw).json() == {"key": other.public_id, "camera": None}
    bound = call(client, "put", path, key_a.raw, {"camera": camera.public_id})
    assert bound.status_code == 200
    assert bound.json()["camera"] == camera.public_id
    assert CameraKey.objects.get(api_key=other).camera == camera
    # Another tenant's key: neither our key nor our camera exists for it.
    assert call(client, "get", path, key_b.raw).status_code == 404
    theirs = f"/api/v1/keys/{key_b.key.public_id}/camera"
    assert call(client, "put", theirs, key_b.raw, {"camera": camera.public_id}).status_code == 404
    assert call(client, "delete", path, key_a.raw).json()["camera"] is None
    assert not CameraKey.objects.filter(api_key=other).exists()
