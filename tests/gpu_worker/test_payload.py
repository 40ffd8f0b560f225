"""Parsing /invocations bodies and SageMaker custom attributes."""

from __future__ import annotations

import base64

import pytest

from gpu_worker.errors import WorkerError
from gpu_worker.payload import parse_custom_attributes, parse_invocation


def parse(content_type, body, attributes=None):
    return parse_invocation(content_type, body, attributes, "persons-detection", 0.3)


def test_custom_attributes_accept_commas_and_semicolons():
    assert parse_custom_attributes("application_type=pets-detection; min_confidence=0.6") == {
        "application_type": "pets-detection",
        "min_confidence": "0.6",
    }
    assert parse_custom_attributes(None) == {}


def test_raw_body_takes_options_from_custom_attributes():
    invocation = parse(
        "image/jpeg", b"\xff\xd8\xff", "application_type=vehicles-detection,min_confidence=0.7"
    )
    assert invocation.application_type == "vehicles-detection"
    assert invocation.min_confidence == 0.7


def test_json_body_options_and_defaults():
    body = b'{"image_bytes": "' + base64.b64encode(b"abc") + b'"}'
    invocation = parse("application/json; charset=utf-8", body)
    assert invocation.image == b"abc"
    assert invocation.application_type == "persons-detection"
    assert invocation.min_confidence == 0.3


def test_url_safe_base64_is_accepted():
    body = b'{"image_bytes": "' + base64.urlsafe_b64encode(b"\xfb\xff\xfe") + b'"}'
    assert parse("application/json", body).image == b"\xfb\xff\xfe"


def test_base64_with_line_breaks_is_accepted():
    image = bytes(range(256)) * 4  # MIME-style base64 wraps this at 76 characters
    wrapped = base64.encodebytes(image).replace(b"\n", b"\\n")
    assert parse("application/json", b'{"image_bytes": "' + wrapped + b'"}').image == image


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("application/json", b"[1, 2]", 400, "invalid_json"),
        ("application/json", b'{"image_bytes": 12}', 400, "invalid_base64"),
        ("application/json", b'{"image_bytes": ""}', 400, "empty_image"),
        ("multipart/form-data", b"x", 415, "unsupported_media_type"),
        (None, b"x", 415, "unsupported_media_type"),
    ],
)
def test_bad_bodies_have_status_and_code(content_type, body, status, code):
    with pytest.raises(WorkerError) as refused:
        parse(content_type, body)
    assert (refused.value.status, refused.value.code) == (status, code)


def test_model_comes_from_custom_attributes_or_the_json_body():
    assert parse("image/jpeg", b"\xff\xd8\xff", "model=yolox_nano").model == "yolox_nano"
    body = b'{"image_bytes": "' + base64.b64encode(b"abc") + b'", "model": "deimv2_femto"}'
    assert parse("application/json", body).model == "deimv2_femto"
    assert parse("image/jpeg", b"\xff\xd8\xff").model is None  # the worker's default


def test_a_model_that_is_not_a_name_is_400():
    body = b'{"image_bytes": "' + base64.b64encode(b"abc") + b'", "model": ["a", "b"]}'
    with pytest.raises(WorkerError) as refused:
        parse("application/json", body)
    assert (refused.value.status, refused.value.code) == (400, "invalid_model")
