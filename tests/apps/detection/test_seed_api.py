"""POST /inference: the seed's request and response, served by the real worker."""

import orjson

from apps.tenants.application_types import ApplicationType
from apps.tenants.services import enable_service, set_default_application_type
from tests.apps.detection.conftest import SEED_BODY, seed_body


def test_the_seed_load_test_body_finds_the_five_pedestrians(inference, post_seed, key_a):
    response = post_seed(SEED_BODY, key_a.raw)
    assert response.status_code == 200
    body = response.json()
    assert (body["width"], body["height"], body["channels"]) == (819, 546, 3)
    assert body["class_names"] == [["person"]] * 5
    assert len(body["bbox_coords"]) == len(body["bbox_scores"]) == 5
    for x1, y1, x2, y2 in body["bbox_coords"]:
        assert 0 <= x1 < x2 <= 819 and 0 <= y1 < y2 <= 546
    assert body["application_type"] == "persons-detection"
    assert body["model"] == "yolox_nano"
    assert body["request_id"] == response["X-Request-Id"]
    assert body["timings_ms"]["portal_total"] >= body["timings_ms"]["total"] > 0


def test_application_type_in_the_body_selects_the_service(inference, post_seed, key_a, pets_jpg):
    response = post_seed(seed_body(pets_jpg, application_type="pets-detection"), key_a.raw)
    assert response.status_code == 200
    assert response.json()["class_names"] == [["dog"]] * 3


def test_without_application_type_the_tenant_default_service_runs(
    inference, post_seed, key_a, tenant_a, pets_jpg
):
    set_default_application_type(tenant_a, ApplicationType.PETS)
    response = post_seed(seed_body(pets_jpg), key_a.raw)
    assert response.json()["application_type"] == "pets-detection"
    assert response.json()["class_names"] == [["dog"]] * 3


def test_min_confidence_in_the_body_drops_weaker_objects(inference, post_seed, key_a, persons_jpg):
    body = post_seed(seed_body(persons_jpg, min_confidence=0.85), key_a.raw).json()
    assert 0 < len(body["bbox_scores"]) < 5
    assert all(score >= 0.85 for (score,) in body["bbox_scores"])


def test_the_services_configured_threshold_applies_by_default(
    inference, post_seed, key_a, tenant_a, persons_jpg
):
    enable_service(tenant_a, ApplicationType.PERSONS, min_confidence=0.85)
    body = post_seed(seed_body(persons_jpg), key_a.raw).json()
    assert 0 < len(body["bbox_scores"]) < 5
    assert all(score >= 0.85 for (score,) in body["bbox_scores"])


def test_line_wrapped_base64_from_old_firmware_is_accepted(
    inference, post_seed, key_a, persons_jpg
):
    import base64

    wrapped = base64.encodebytes(persons_jpg).decode()  # 76-character lines
    response = post_seed(orjson.dumps({"image_base64_enc": wrapped}), key_a.raw)
    assert response.status_code == 200
    assert len(response.json()["class_names"]) == 5


def test_any_accept_header_gets_the_json_answer(inference, post_seed, key_a):
    # Camera software sends its HTTP library's default Accept; the answer is JSON regardless.
    for accept in ("text/html", "image/png", "application/xml;q=0.9"):
        response = post_seed(SEED_BODY, key_a.raw, HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"] == "application/json"
        assert response.json()["class_names"] == [["person"]] * 5
