"""Cameras on the detection path, with the real worker and the seed's photos.

Expected boxes are never written down: each test first asks for the photo without a camera and
derives what the camera must keep from that answer (anchor positions, areas), then checks the
camera's answer against it, so the tests hold for whichever model the worker serves.
"""

from __future__ import annotations

import base64

import orjson
import pytest

from apps.archive.listing import tenant_events
from apps.cameras.services import (
    bind_key,
    create_camera,
    delete_camera,
    issue_camera_key,
    unbind_key,
    update_camera,
)
from apps.core.storage import get_storage
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import enable_service
from apps.usage.metering import drain_usage
from apps.usage.models import UsageEvent
from harness.images import seed_image

pytestmark = pytest.mark.usefixtures("inference")

LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
WHOLE_FRAME = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


def native(client, key, service, image, query=""):
    response = client.post(
        f"/api/v1/detect/{service}{query}",
        data=image,
        content_type="image/jpeg",
        HTTP_X_API_KEY=key,
    )
    assert response.status_code == 200, response.content
    return response.json()


def seed(client, key, image, **fields):
    body = {"image_base64_enc": base64.b64encode(image).decode(), **fields}
    response = client.post(
        "/inference", data=orjson.dumps(body), content_type="application/json", HTTP_X_API_KEY=key
    )
    assert response.status_code == 200, response.content
    return response.json()


def deepstack(client, key, image, **fields):
    response = client.post(
        "/v1/vision/detection",
        {"image": _upload(image), **fields},
        HTTP_X_API_KEY=key,
    )
    assert response.status_code == 200, response.content
    return response.json()


def _upload(image: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("frame.jpg", image, content_type="image/jpeg")


def anchor_x(box, width) -> float:
    return (box[0] + box[2]) / 2 / width


def boxes(detections) -> list[list[float]]:
    return sorted(d["box"] for d in detections)


def test_a_mask_over_the_left_half_drops_exactly_the_people_anchored_there(client, tenant_a, key_a):
    photo = seed_image("persons")
    plain = native(client, key_a.raw, ApplicationType.PERSONS, photo)
    left = [d for d in plain["detections"] if anchor_x(d["box"], plain["width"]) < 0.5]
    right = [d for d in plain["detections"] if anchor_x(d["box"], plain["width"]) >= 0.5]
    assert left and right, "the photo has people on both sides"
    camera = create_camera(
        tenant_a,
        {"name": "street", "zones": [{"name": "left", "kind": "mask", "points": LEFT_HALF}]},
    )

    answer = native(
        client, key_a.raw, ApplicationType.PERSONS, photo, f"?camera={camera.public_id}"
    )

    assert answer["camera"] == camera.public_id
    assert boxes(answer["detections"]) == boxes(right)
    assert boxes(answer["dropped"]) == boxes(left)
    assert {(d["reason"], d["zone"]) for d in answer["dropped"]} == {("masked", "left")}
    assert all(d["zones"] == [] for d in answer["detections"])


def test_an_include_zone_limited_to_persons_drops_cars(client, tenant_a, key_a):
    enable_service(tenant_a, ApplicationType.VEHICLES)
    photo = seed_image("persons")
    plain_cars = native(client, key_a.raw, ApplicationType.VEHICLES, photo)["detections"]
    plain_people = native(client, key_a.raw, ApplicationType.PERSONS, photo)["detections"]
    assert plain_cars and plain_people
    zone = {"name": "path", "kind": "include", "points": WHOLE_FRAME, "classes": ["person"]}
    camera = create_camera(tenant_a, {"name": "path", "zones": [zone]})
    query = f"?camera={camera.public_id}"

    cars = native(client, key_a.raw, ApplicationType.VEHICLES, photo, query)
    people = native(client, key_a.raw, ApplicationType.PERSONS, photo, query)

    assert cars["detections"] == []
    assert boxes(cars["dropped"]) == boxes(plain_cars)
    assert {d["reason"] for d in cars["dropped"]} == {"outside_zones"}
    assert boxes(people["detections"]) == boxes(plain_people)
    assert all(d["zones"] == ["path"] for d in people["detections"])


def test_a_dog_threshold_of_0_99_leaves_no_dogs_where_the_service_threshold_finds_three(
    client, tenant_a, key_a
):
    photo = seed_image("pets")
    plain = native(client, key_a.raw, ApplicationType.PETS, photo)
    assert [d["label"] for d in plain["detections"]] == ["dog"] * 3
    camera = create_camera(tenant_a, {"name": "living room", "class_thresholds": {"dog": 0.99}})

    answer = native(client, key_a.raw, ApplicationType.PETS, photo, f"?camera={camera.public_id}")

    assert answer["detections"] == []
    assert boxes(answer["dropped"]) == boxes(plain["detections"])
    assert {d["reason"] for d in answer["dropped"]} == {"below_threshold"}


def test_a_class_threshold_below_the_service_threshold_sees_more(client, tenant_a, key_a):
    photo = seed_image("persons")
    plain = native(client, key_a.raw, ApplicationType.PERSONS, photo)
    low = native(client, key_a.raw, ApplicationType.PERSONS, photo, "?min_confidence=0.2")
    assert len(low["detections"]) > len(plain["detections"])
    camera = create_camera(tenant_a, {"name": "low", "class_thresholds": {"person": 0.2}})

    answer = native(
        client, key_a.raw, ApplicationType.PERSONS, photo, f"?camera={camera.public_id}"
    )

    assert boxes(answer["detections"]) == boxes(low["detections"])


def test_a_size_filter_drops_small_boxes(client, tenant_a, key_a):
    photo = seed_image("persons")
    plain = native(client, key_a.raw, ApplicationType.PERSONS, photo)
    frame = plain["width"] * plain["height"]
    area = {
        id(d): (d["box"][2] - d["box"][0]) * (d["box"][3] - d["box"][1])
        for d in plain["detections"]
    }
    limit = sorted(area.values())[1] / frame  # between the smallest box and the others
    small = [d for d in plain["detections"] if area[id(d)] / frame < limit]
    large = [d for d in plain["detections"] if area[id(d)] / frame >= limit]
    assert small and large
    camera = create_camera(tenant_a, {"name": "yard", "min_box_area": limit})

    answer = native(
        client, key_a.raw, ApplicationType.PERSONS, photo, f"?camera={camera.public_id}"
    )

    assert boxes(answer["detections"]) == boxes(large)
    assert boxes(answer["dropped"]) == boxes(small)
    assert {d["reason"] for d in answer["dropped"]} == {"too_small"}


def test_one_camera_keeps_the_same_boxes_through_all_three_endpoints(client, tenant_a, key_a):
    photo = seed_image("persons")
    camera = create_camera(
        tenant_a,
        {
            "name": "driveway",
            "services": [ApplicationType.PERSONS],
            "zones": [{"name": "street", "kind": "mask", "points": LEFT_HALF}],
        },
    )
    _, bound_key = issue_camera_key(camera)

    by_native = native(
        client, key_a.raw, ApplicationType.PERSONS, photo, f"?camera={camera.public_id}"
    )
    by_seed = seed(client, key_a.raw, photo, camera=camera.public_id)
    # As Blue Iris or Frigate call it: the bound key, no camera field, every service enabled.
    by_deepstack = deepstack(client, bound_key, photo)

    kept = boxes(by_native["detections"])
    assert kept and by_native["dropped"]
    assert sorted(by_seed["bbox_coords"]) == kept
    assert by_seed["camera"] == camera.public_id
    assert set(by_seed) >= {
        "width",
        "height",
        "channels",
        "bbox_coords",
        "bbox_scores",
        "class_names",
    }
    assert sorted(
        [p["x_min"], p["y_min"], p["x_max"], p["y_max"]] for p in by_deepstack["predictions"]
    ) == [[round(v) for v in box] for box in kept]
    # DeepStack's shape, unchanged: no camera fields at the top or in the predictions.
    assert not {"camera", "dropped", "zones"} & set(by_deepstack)
    assert all(
        set(p) == {"label", "confidence", "x_min", "y_min", "x_max", "y_max"}
        for p in by_deepstack["predictions"]
    )


@pytest.mark.parametrize("how", ["header", "query", "json field"])
def test_an_unbound_key_names_its_camera_any_documented_way(client, tenant_a, key_a, how):
    camera = create_camera(
        tenant_a,
        {"name": "door", "zones": [{"name": "all", "kind": "mask", "points": WHOLE_FRAME}]},
    )
    photo = seed_image("persons")
    if how == "json field":
        body = {"image_base64": base64.b64encode(photo).decode(), "camera": camera.public_id}
        response = client.post(
            "/api/v1/detect/persons-detection",
            data=orjson.dumps(body),
            content_type="application/json",
            HTTP_X_API_KEY=key_a.raw,
        )
    else:
        extra = {"HTTP_X_CAMERA_ID": camera.public_id} if how == "header" else {}
        query = f"?camera={camera.public_id}" if how == "query" else ""
        response = client.post(
            f"/api/v1/detect/persons-detection{query}",
            data=photo,
            content_type="image/jpeg",
            HTTP_X_API_KEY=key_a.raw,
            **extra,
        )
    assert response.status_code == 200, response.content
    assert response.json()["camera"] == camera.public_id
    assert response.json()["detections"] == []  # everything masked


def test_a_deepstack_multipart_field_names_the_camera(client, tenant_a, key_a):
    camera = create_camera(
        tenant_a,
        {"name": "door", "zones": [{"name": "all", "kind": "mask", "points": WHOLE_FRAME}]},
    )
    photo = seed_image("persons")
    assert deepstack(client, key_a.raw, photo)["predictions"]
    assert deepstack(client, key_a.raw, photo, camera=camera.public_id)["predictions"] == []


def test_without_a_camera_the_answers_are_unchanged(client, tenant_a, key_a):
    create_camera(tenant_a, {"name": "unused", "class_thresholds": {"person": 0.99}})
    answer = native(client, key_a.raw, ApplicationType.PERSONS, seed_image("persons"))
    assert answer["detections"]
    assert not {"camera", "dropped"} & set(answer)
    assert all(set(d) == {"label", "score", "box"} for d in answer["detections"])


def test_another_tenants_camera_is_not_found_and_a_bound_key_cannot_name_another(
    client, tenant_a, tenant_b, key_a, key_b
):
    theirs = create_camera(tenant_b, {"name": "bravo cam"})
    ours = create_camera(tenant_a, {"name": "alpha cam"})
    other = create_camera(tenant_a, {"name": "alpha other"})
    bind_key(ours, key_a.key)
    photo = seed_image("persons")

    for key, camera, status, code in [
        (key_b.raw, ours.public_id, 404, "camera_not_found"),
        (key_b.raw, "cam_0000000000000000", 404, "camera_not_found"),
        (key_a.raw, theirs.public_id, 404, "camera_not_found"),
        (key_a.raw, other.public_id, 403, "camera_not_bound"),
    ]:
        response = client.post(
            f"/api/v1/detect/persons-detection?camera={camera}",
            data=photo,
            content_type="image/jpeg",
            HTTP_X_API_KEY=key,
        )
        assert response.status_code == status, (camera, response.content)
        assert response.json()["error"]["code"] == code

    # The bound key naming its own camera, or none, is that camera.
    assert native(client, key_a.raw, "persons-detection", photo)["camera"] == ours.public_id
    named = native(client, key_a.raw, "persons-detection", photo, f"?camera={ours.public_id}")
    assert named["camera"] == ours.public_id


def test_a_camera_only_runs_its_own_services(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "people only", "services": ["persons-detection"]})
    response = client.post(
        f"/api/v1/detect/pets-detection?camera={camera.public_id}",
        data=seed_image("pets"),
        content_type="image/jpeg",
        HTTP_X_API_KEY=key_a.raw,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "service_not_enabled_for_camera"


def test_an_edited_zone_applies_from_the_next_request(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "gate"})
    photo = seed_image("persons")
    query = f"?camera={camera.public_id}"
    assert native(client, key_a.raw, "persons-detection", photo, query)["detections"]
    update_camera(camera, {"zones": [{"name": "all", "kind": "mask", "points": WHOLE_FRAME}]})
    assert native(client, key_a.raw, "persons-detection", photo, query)["detections"] == []


def test_usage_and_the_archived_record_carry_the_camera(
    client, settings, tmp_path, tenant_a, key_a
):
    settings.IPCAI_ARCHIVE_URL = f"file://{tmp_path / 'archive'}"
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    enable_service(tenant_a, ApplicationType.PERSONS, save_request_events=True)
    camera = create_camera(tenant_a, {"name": "gate"})
    native(
        client, key_a.raw, "persons-detection", seed_image("persons"), f"?camera={camera.public_id}"
    )
    native(client, key_a.raw, "persons-detection", seed_image("persons"))

    drain_usage()
    assert sorted(UsageEvent.objects.values_list("camera", flat=True)) == ["", camera.public_id]
    records = [
        orjson.loads(get_storage().get(event.record_key)) for event in tenant_events(tenant_a.pk)
    ]
    assert sorted(r["response"].get("camera", "") for r in records) == ["", camera.public_id]


def test_a_deleted_camera_is_not_found_from_the_next_request(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "old"})
    query = f"?camera={camera.public_id}"
    assert native(client, key_a.raw, "persons-detection", seed_image("persons"), query)
    delete_camera(camera)
    response = client.post(
        f"/api/v1/detect/persons-detection{query}",
        data=seed_image("persons"),
        content_type="image/jpeg",
        HTTP_X_API_KEY=key_a.raw,
    )
    assert response.status_code == 404


def test_binding_and_unbinding_a_key_apply_from_the_next_request(client, tenant_a, key_a):
    camera = create_camera(tenant_a, {"name": "gate"})
    photo = seed_image("persons")
    assert "camera" not in native(client, key_a.raw, "persons-detection", photo)  # cached: unbound
    bind_key(camera, key_a.key)
    assert native(client, key_a.raw, "persons-detection", photo)["camera"] == camera.public_id
    unbind_key(key_a.key)
    assert "camera" not in native(client, key_a.raw, "persons-detection", photo)
