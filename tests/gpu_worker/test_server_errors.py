"""Bad input gets its status and a JSON error from a real worker, never a 500."""

from __future__ import annotations

import base64

import pytest

from harness.images import seed_image


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.text
    return error


def test_corrupt_base64_is_400(worker):
    response = worker.http.post(
        f"{worker.base_url}/invocations", json={"image_bytes": "not*base64!!"}, timeout=30
    )
    assert_error(response, 400, "invalid_base64")


def test_text_file_named_jpg_is_400(worker):
    response = worker.invoke_raw(b"this is a text file, saved as photo.jpg\n" * 10)
    assert_error(response, 400, "not_an_image")


def test_text_file_as_base64_is_400(worker):
    response = worker.invoke_json(b"hello, not an image")
    assert_error(response, 400, "not_an_image")


def test_jpeg_magic_with_garbage_is_400(worker):
    response = worker.invoke_raw(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 100)
    assert_error(response, 400, "corrupt_image")


def test_empty_raw_body_is_400(worker):
    assert_error(worker.invoke_raw(b""), 400, "empty_image")


def test_empty_json_body_is_400(worker):
    assert_error(worker.invoke_raw(b"", content_type="application/json"), 400, "empty_body")


def test_json_without_image_is_400(worker):
    response = worker.http.post(f"{worker.base_url}/invocations", json={"x": 1}, timeout=30)
    assert_error(response, 400, "missing_image")


def test_malformed_json_is_400(worker):
    response = worker.invoke_raw(b'{"image_bytes": ', content_type="application/json")
    assert_error(response, 400, "invalid_json")


def test_huge_png_is_refused_from_its_header_with_413(worker, huge_png_bytes):
    response = worker.invoke_raw(huge_png_bytes, content_type="image/png")
    error = assert_error(response, 413, "image_too_large")
    assert "20000x20000" in error["message"]
    # The worker never allocated the 1.2 GB: it still serves the next request at once.
    assert worker.invoke_raw(seed_image("pets")).status_code == 200


def test_body_over_the_byte_limit_is_413(worker):
    response = worker.invoke_raw(b"\xff\xd8\xff" + b"\x00" * (21 * 1024 * 1024))
    assert_error(response, 413, "body_too_large")


def test_unknown_application_type_lists_the_valid_ones(worker):
    response = worker.invoke_json(seed_image("pets"), application_type="faces-detection")
    error = assert_error(response, 400, "unknown_application_type")
    for valid in ("persons-detection", "pets-detection", "vehicles-detection"):
        assert valid in error["message"]


@pytest.mark.parametrize("value", ["high", 1.5, -0.1])
def test_out_of_range_min_confidence_is_400(worker, value):
    response = worker.invoke_json(seed_image("pets"), min_confidence=value)
    assert_error(response, 400, "invalid_min_confidence")


def test_wrong_content_type_is_415(worker):
    response = worker.invoke_raw(seed_image("pets"), content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_truncated_jpeg_is_answered_without_a_server_error(worker):
    """Cameras send cut-off frames; the worker decodes what it can or says 400, never 500."""
    data = seed_image("persons")
    response = worker.invoke_raw(data[: len(data) // 2])
    assert response.status_code in (200, 400), response.text
    assert response.headers["content-type"].startswith("application/json")


def test_base64_with_line_breaks_is_accepted(worker):
    encoded = base64.encodebytes(seed_image("pets")).decode()  # MIME style, 76-char lines
    response = worker.http.post(
        f"{worker.base_url}/invocations",
        json={"image_bytes": encoded, "application_type": "pets-detection"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _chunks(data: bytes, size: int = 64 * 1024):
    """A generator body: requests sends it chunked, with no Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_chunked_body_over_the_byte_limit_is_413(worker):
    """Without a Content-Length the limit is enforced while the body streams in."""
    response = worker.http.post(
        f"{worker.base_url}/invocations",
        data=_chunks(b"\xff\xd8\xff" + b"\x00" * (21 * 1024 * 1024)),
        headers={"Content-Type": "image/jpeg"},
        timeout=60,
    )
    assert_error(response, 413, "body_too_large")


def test_chunked_image_is_reassembled_and_detected(worker):
    """/invocations reads the raw ASGI channel (no Starlette Request): a body arriving in
    many pieces is joined whole."""
    response = worker.http.post(
        f"{worker.base_url}/invocations",
        data=_chunks(seed_image("pets"), 4096),
        headers={
            "Content-Type": "image/jpeg",
            "X-Amzn-SageMaker-Custom-Attributes": "application_type=pets-detection",
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["application_type"] == "pets-detection"
    assert answer["class_names"]


def test_other_methods_on_invocations_are_405(worker):
    response = worker.get("/invocations")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_regions_body_over_the_byte_limit_is_413(worker, chunked):
    """/regions reads its body through the same bound as /invocations."""
    body = b"\xff\xd8\xff" + b"\x00" * (21 * 1024 * 1024)
    response = worker.http.post(
        f"{worker.base_url}/regions?kinds=faces",
        data=_chunks(body) if chunked else body,
        headers={"Content-Type": "image/jpeg"},
        timeout=60,
    )
    assert_error(response, 413, "body_too_large")
