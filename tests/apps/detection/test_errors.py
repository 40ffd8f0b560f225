"""Every error status of the API, as a client sees it: the right status, a JSON error with a
stable code, Retry-After where a retry helps, and never a 500 for bad input."""

import base64
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.tenants.services import (
    issue_api_key,
    revoke_api_key,
    set_monthly_quota,
    set_tenant_active,
)
from harness.images import huge_png, seed_image
from harness.processes import free_port
from harness.scripted_http import Reply, scripted_server
from tests.apps.detection.conftest import SEED_BODY, seed_body

ENDPOINTS = ["seed", "native", "deepstack"]


@pytest.fixture
def call(client):
    """Send the persons image through one endpoint's request style with `key`."""

    def send(endpoint: str, key: str | None, image: bytes | None = None):
        image = seed_image("persons") if image is None else image
        headers = {"HTTP_X_API_KEY": key} if key else {}
        if endpoint == "seed":
            return client.post(
                "/inference", seed_body(image), content_type="application/json", **headers
            )
        if endpoint == "native":
            return client.post(
                "/api/v1/detect/persons-detection", image, content_type="image/jpeg", **headers
            )
        return client.post(
            "/v1/vision/detection", {"image": SimpleUploadedFile("f.jpg", image)}, **headers
        )

    return send


def error_of(response) -> tuple[str, str]:
    body = response.json()
    if "success" in body:  # DeepStack's shape
        assert body["success"] is False and body["error"]
        return "", body["error"]
    return body["error"]["code"], body["error"]["message"]


# --- 401 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_key_is_401(call, endpoint, db):
    response = call(endpoint, None)
    assert response.status_code == 401
    code, message = error_of(response)
    if endpoint == "deepstack":  # DeepStack's own words, which camera software shows as is
        assert message == "Incorrect api key"
    else:
        assert code == "missing_api_key" and "x-api-key" in message


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("make_key", "code"),
    [
        (lambda k: "not-a-key", "invalid_api_key"),
        (lambda k: k.raw[:-4] + "AAAA", "invalid_api_key"),
        (lambda k: revoke_api_key(k.key) and k.raw, "revoked_api_key"),
        (
            lambda k: issue_api_key(k.key.tenant, expires_at=timezone.now() - timedelta(1))[1],
            "expired_api_key",
        ),
    ],
    ids=["malformed", "wrong-secret", "revoked", "expired"],
)
def test_bad_revoked_or_expired_keys_are_401(call, key_a, endpoint, make_key, code):
    response = call(endpoint, make_key(key_a))
    assert response.status_code == 401
    got, _ = error_of(response)
    assert got in {code, ""}


def test_revocation_applies_to_the_very_next_request(inference, call, key_a):
    assert call("native", key_a.raw).status_code == 200
    revoke_api_key(key_a.key)
    assert call("native", key_a.raw).status_code == 401


# --- 403 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_inactive_tenant_is_403(call, key_a, tenant_a, endpoint):
    set_tenant_active(tenant_a, False)
    response = call(endpoint, key_a.raw)
    assert response.status_code == 403
    assert "inactive" in error_of(response)[1]


def test_a_service_not_enabled_is_403_naming_it_and_who_enables_it(client, key_a, settings):
    settings.IPCAI_SUPPORT_EMAIL = "support@ipcai.example"
    for response in [
        client.post(
            "/api/v1/detect/vehicles-detection",
            seed_image("vehicles"),
            content_type="image/jpeg",
            **key_a.headers,
        ),
        client.post(
            "/inference",
            seed_body(seed_image("vehicles"), application_type="vehicles-detection"),
            content_type="application/json",
            **key_a.headers,
        ),
    ]:
        assert response.status_code == 403
        code, message = error_of(response)
        assert code == "service_not_enabled"
        assert "vehicles-detection" in message
        # Tenant owners cannot enable services: the message names who can and how to reach them.
        assert "Only the operator enables services" in message
        assert "support@ipcai.example" in message
        assert "dashboard" not in message

    settings.IPCAI_SUPPORT_EMAIL = ""
    response = client.post(
        "/api/v1/detect/vehicles-detection",
        seed_image("vehicles"),
        content_type="image/jpeg",
        **key_a.headers,
    )
    assert error_of(response)[1].endswith(
        "Only the operator enables services: ask the operator of this service."
    )


def test_deepstack_with_no_service_enabled_is_403(call, key_a, tenant_a):
    from apps.tenants.services import disable_service

    for service in ["persons-detection", "pets-detection"]:
        disable_service(tenant_a, service)
    response = call("deepstack", key_a.raw)
    assert response.status_code == 403
    assert response.json()["success"] is False


def test_an_inactive_tenant_is_told_whom_to_ask(call, key_a, tenant_a, settings):
    settings.IPCAI_SUPPORT_EMAIL = "support@ipcai.example"
    set_tenant_active(tenant_a, False)
    message = error_of(call("native", key_a.raw))[1]
    assert message == (
        "Tenant 'alpha' is inactive; to reactivate it, write to the operator at "
        "support@ipcai.example."
    )


# --- 400 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_body"),
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"timestamp": "1"}', "missing_image"),
        (b'{"image_base64_enc": "%%%not base64%%%"}', "invalid_base64"),
        (b'{"image_base64_enc": "' + base64.b64encode(b"hello, I am text") + b'"}', "not_an_image"),
        (b'{"image_base64_enc": ""}', "missing_image"),
        (seed_body(b"\xff\xd8\xff\xe0 truncated"), "not_an_image"),
        (seed_body(seed_image("persons"), application_type="faces"), "unknown_application_type"),
        (seed_body(seed_image("persons"), min_confidence=7), "invalid_min_confidence"),
        (seed_body(seed_image("persons"), min_confidence="high"), "invalid_min_confidence"),
    ],
)
def test_bad_seed_bodies_are_400(client, key_a, body, code):
    response = client.post("/inference", body, content_type="application/json", **key_a.headers)
    assert response.status_code == 400
    assert error_of(response)[0] == code


def test_a_zero_byte_raw_body_is_400(client, key_a):
    # Django's test client drops Content-Type for an empty body; a camera would send it.
    response = client.generic(
        "POST", "/api/v1/detect/persons-detection", b"", CONTENT_TYPE="image/jpeg", **key_a.headers
    )
    assert response.status_code == 400
    assert error_of(response)[0] == "empty_image"


def test_text_named_jpg_is_400(client, key_a):
    response = client.post(
        "/api/v1/detect/persons-detection",
        {"image": SimpleUploadedFile("photo.jpg", b"just text", "image/jpeg")},
        **key_a.headers,
    )
    assert response.status_code == 400
    assert error_of(response)[0] == "not_an_image"


def test_a_multipart_body_without_the_image_field_is_400(client, key_a):
    response = client.post(
        "/api/v1/detect/persons-detection",
        {"picture": SimpleUploadedFile("f.jpg", seed_image("persons"))},
        **key_a.headers,
    )
    assert response.status_code == 400
    assert error_of(response)[0] == "missing_image"


def test_unknown_application_type_in_the_path_is_404(client, key_a):
    response = client.post(
        "/api/v1/detect/faces-detection",
        seed_image("persons"),
        content_type="image/jpeg",
        **key_a.headers,
    )
    assert response.status_code == 404
    assert error_of(response)[0] == "unknown_application_type"


# --- 413 ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def png_20000(tmp_path_factory) -> bytes:
    return huge_png(tmp_path_factory.mktemp("png") / "huge.png").read_bytes()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_20000x20000_png_is_413_from_its_header(call, key_a, png_20000, endpoint):
    response = call(endpoint, key_a.raw, png_20000)
    assert response.status_code == 413
    code, message = error_of(response)
    assert code in {"image_too_large", ""} and "megapixels" in message


def test_a_body_over_the_limit_is_413_before_it_is_read(client, key_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        "/inference", SEED_BODY, content_type="application/json", **key_a.headers
    )
    assert response.status_code == 413
    assert error_of(response)[0] == "payload_too_large"


def test_an_image_over_the_byte_limit_is_413(call, key_a, settings):
    settings.IPCAI_MAX_IMAGE_BYTES = 10_000
    for endpoint in ["native", "deepstack"]:
        assert call(endpoint, key_a.raw).status_code == 413


# --- 415 ---------------------------------------------------------------------------------


def test_an_unsupported_content_type_is_415(client, key_a):
    response = client.post(
        "/api/v1/detect/persons-detection", b"hello", content_type="text/plain", **key_a.headers
    )
    assert response.status_code == 415
    assert error_of(response)[0] == "unsupported_media_type"


def test_deepstack_without_multipart_is_415(client, key_a):
    response = client.post(
        "/v1/vision/detection", b"{}", content_type="application/json", **key_a.headers
    )
    assert response.status_code == 415
    assert response.json()["success"] is False


def test_an_unsupported_image_format_is_415(call, key_a):
    gif = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
    response = call("native", key_a.raw, gif)
    assert response.status_code == 415
    assert error_of(response)[0] == "unsupported_image_format"


# --- 429 ---------------------------------------------------------------------------------


def test_over_the_per_key_rate_limit_is_429_with_retry_after(inference, call, key_a, settings):
    settings.IPCAI_RATE_LIMIT_REQUESTS = 2
    settings.IPCAI_RATE_LIMIT_WINDOW_S = 3600
    assert [call("native", key_a.raw).status_code for _ in range(2)] == [200, 200]
    response = call("native", key_a.raw)
    assert response.status_code == 429
    assert error_of(response)[0] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_over_the_monthly_quota_is_429_until_next_month(inference, call, key_a, tenant_a):
    set_monthly_quota(tenant_a, 1)
    assert call("seed", key_a.raw).status_code == 200
    # A second key of the same tenant shares the tenant's quota.
    _, second_key = issue_api_key(tenant_a)
    response = call("seed", second_key)
    assert response.status_code == 429
    code, message = error_of(response)
    assert code == "quota_exceeded" and "alpha" in message
    assert 1 <= int(response["Retry-After"]) <= 31 * 86400


# --- 502 / 503 ---------------------------------------------------------------------------
# A scripted HTTP server stands in for a worker in trouble: the real worker cannot be made to
# crash or stall on demand. The portal still talks real HTTP to it.


def test_a_worker_error_is_502(call, key_a, settings):
    with scripted_server(Reply(500, {"detail": "boom"}), Reply(500, b"")) as worker:
        settings.IPCAI_WORKER_URL = worker.url
        response = call("native", key_a.raw)
    assert response.status_code == 502
    assert error_of(response)[0] == "worker_error"
    assert "boom" not in response.content.decode()  # no worker internals leak out


def test_an_unreadable_worker_answer_is_502(call, key_a, settings):
    with scripted_server(Reply(200, "<html>proxy page</html>")) as worker:
        settings.IPCAI_WORKER_URL = worker.url
        response = call("seed", key_a.raw)
    assert response.status_code == 502


def test_a_worker_timeout_is_502(call, key_a, settings):
    import threading

    release = threading.Event()
    with scripted_server(Reply(200, {}, hold=release)) as worker:
        settings.IPCAI_WORKER_URL = worker.url
        settings.IPCAI_WORKER_READ_TIMEOUT_S = 0.2
        response = call("native", key_a.raw)
        release.set()
    assert response.status_code == 502
    assert error_of(response)[0] == "worker_timeout"


def test_an_overloaded_workers_503_is_passed_on_at_once_with_retry_after(call, key_a, settings):
    busy = Reply(503, {"error": {"code": "overloaded", "message": "full"}}, {"Retry-After": "2"})
    with scripted_server(busy, busy) as worker:
        settings.IPCAI_WORKER_URL = worker.url
        response = call("native", key_a.raw)
        assert len(worker.received) == 1  # not retried: no retry storm on a full worker
    assert response.status_code == 503
    assert error_of(response)[0] == "worker_overloaded"
    assert response["Retry-After"] == "2"


def test_an_unreachable_worker_is_503_with_retry_after(call, key_a, settings):
    settings.IPCAI_WORKER_URL = f"http://127.0.0.1:{free_port()}"
    response = call("seed", key_a.raw)
    assert response.status_code == 503
    assert error_of(response)[0] == "worker_unavailable"
    assert int(response["Retry-After"]) >= 1


@pytest.mark.parametrize("endpoint", ["seed", "native"])
def test_a_worker_still_loading_its_model_is_503_unavailable_not_overloaded(
    call, key_a, settings, endpoint
):
    # The worker's own answer while it loads (gpu_worker/server.py, _not_ready).
    loading = Reply(
        503,
        {"error": {"code": "not_ready", "message": "the model is loading"}},
        {"Retry-After": "5"},
    )
    with scripted_server(loading, loading) as worker:
        settings.IPCAI_WORKER_URL = worker.url
        response = call(endpoint, key_a.raw)
    assert response.status_code == 503
    code, message = error_of(response)
    assert code == "worker_unavailable"
    assert "loading" in message
    assert response["Retry-After"] == "5"


# --- never a 500 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"\x00\xff" * 100),
        ("application/json", b'{"image_base64_enc": 12}'),
        ("application/json", b'{"image_base64_enc": null, "min_confidence": [1]}'),
        ("application/json", b'{"image_base64": {"a": 1}}'),
        ("multipart/form-data; boundary=zzz", b"--zzz\r\nbroken"),
        ("image/jpeg", b"\xff\xd8\xff" + b"\x00" * 50),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
        ("application/x-www-form-urlencoded", b"image=abc&api_key=%%%"),
    ],
)
@pytest.mark.parametrize(
    "path", ["/inference", "/api/v1/detect/persons-detection", "/v1/vision/detection"]
)
def test_garbage_never_causes_a_500(client, key_a, content_type, body, path):
    response = client.post(path, body, content_type=content_type, **key_a.headers)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"


def test_401_says_how_to_authenticate(call, key_a):
    response = call("native", "ipcai_000000000000_unknown")
    assert response.status_code == 401
    assert "x-api-key" in response["WWW-Authenticate"]


def test_redis_down_still_answers_a_valid_key_and_refuses_a_bad_one(
    inference, call, key_a, settings
):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    assert call("seed", key_a.raw).status_code == 200  # the key checked in the database
    response = call("seed", "ipcai_000000000000_unknown")
    assert response.status_code == 401
    assert error_of(response)[0] == "invalid_api_key"
