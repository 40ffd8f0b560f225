"""Reading the three request styles into (image bytes, options), with a clear 4xx for anything
malformed. The JSON and raw bodies are read straight from the request (orjson, no DRF parser
round trip); multipart goes through Django's bounded parser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.request import Request

from apps.core.errors import ApiError
from apps.tenants.application_types import is_application_type, valid_types_text

RAW_IMAGE_TYPES = {"image/jpeg", "image/png", "application/x-image", "application/octet-stream"}
MULTIPART_TYPES = ("multipart/form-data",)


def max_body_bytes() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def check_content_length(request: Request) -> None:
    """413 from the Content-Length header alone, before a byte of the body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "invalid_content_length", "Content-Length is not a number.") from None
    if length > max_body_bytes():
        raise ApiError(
            413,
            "payload_too_large",
            f"The request body is {length} bytes; the limit is {max_body_bytes()} bytes.",
        )


def media_type(request: Request) -> str:
    return (request.content_type or "").split(";", 1)[0].strip().lower()


def read_body(request: Request) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise ApiError(413, "payload_too_large", "The request body is too large.") from None


def json_object(request: Request) -> dict:
    """The body as a JSON object (whatever Content-Type the seed's clients happened to send)."""
    body = read_body(request)
    if not body:
        raise ApiError(400, "empty_body", "The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return data


def form_field(request: Request, name: str) -> Any:
    """A field of a parsed form body; None when it is absent or the body is not a form."""
    data = request.data
    return data.get(name) if isinstance(data, Mapping) else None


def uploaded_file(request: Request, field: str = "image") -> bytes:
    """The bytes of a multipart file field, bounded by IPCAI_MAX_IMAGE_BYTES."""
    upload = request.FILES.get(field)
    if upload is None:
        raise ApiError(
            400, "missing_image", f"Send the image as the multipart file field {field!r}."
        )
    limit = settings.IPCAI_MAX_IMAGE_BYTES
    if upload.size > limit:
        raise ApiError(
            413, "image_too_large", f"The image is {upload.size} bytes; the limit is {limit} bytes."
        )
    return upload.read()


def application_type(value: object) -> str:
    if not is_application_type(value):
        raise ApiError(
            400,
            "unknown_application_type",
            f"Unknown application_type {value!r}; valid types: {valid_types_text()}.",
        )
    return value  # type: ignore[return-value]  # a str: checked above


def slices(value: object) -> bool | None:
    """The native API's `slices` option: auto (True), off (False), None when absent."""
    if value is None or value == "":
        return None
    if value in ("auto", "off"):
        return value == "auto"
    raise ApiError(400, "invalid_slices", f"slices must be auto or off, got {value!r}.")


def min_confidence(value: object) -> float | None:
    """A threshold in [0, 1] from JSON, a form or the query string; None when absent."""
    if value is None or value == "":
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # any object: refused below
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not 0.0 <= number <= 1.0:
        raise ApiError(
            400,
            "invalid_min_confidence",
            f"min_confidence must be a number from 0 to 1, got {value!r}.",
        )
    return number
