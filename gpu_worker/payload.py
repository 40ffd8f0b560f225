"""Parse an /invocations request into image bytes and options, per the SageMaker contract.

Two shapes arrive: the AWS sample's JSON (`image_bytes` base64 + options), and a raw image
body with options in `X-Amzn-SageMaker-Custom-Attributes` (what SageMaker's InvokeEndpoint
passes through as CustomAttributes), which saves the 33% base64 overhead and a decode step.
"""

from __future__ import annotations

import binascii
import math
from dataclasses import dataclass

import orjson
import pybase64

from gpu_worker.app_types import TYPE_SEPARATOR, parse_application_types
from gpu_worker.errors import WorkerError, bad_request
from gpu_worker.slicing import OFF, SliceRequest, parse_slices

RAW_IMAGE_TYPES = {
    "image/jpeg",
    "image/jpg",
    "image/png",
    "image/bmp",
    "image/webp",
    "image/gif",
    "image/tiff",
    "application/x-image",
    "application/octet-stream",
}
JSON_TYPES = {"application/json"}
IMAGE_FIELDS = ("image_bytes", "image_base64_enc")  # the worker's field, and the seed camera's
OPTION_FIELDS = ("application_type", "min_confidence", "model", "slices")


@dataclass(frozen=True)
class Invocation:
    image: bytes
    application_type: str
    min_confidence: float
    model: str | None = None  # a loaded model's name; None: the worker's default
    slices: SliceRequest = OFF  # sliced inference: off, auto, or regions (gpu_worker/slicing.py)


def parse_custom_attributes(header: str | None) -> dict[str, str]:
    """`application_type=pets-detection,min_confidence=0.5,model=yolox_nano` (`;` works as a
    separator too)."""
    if not header:
        return {}
    pairs = (part.split("=", 1) for part in header.replace(";", ",").split(",") if "=" in part)
    return {key.strip(): value.strip() for key, value in pairs}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_invocation(
    content_type: str | None,
    body: bytes,
    custom_attributes: str | None,
    default_application_type: str,
    default_min_confidence: float,
) -> Invocation:
    options = parse_custom_attributes(custom_attributes)
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        image, json_options = _parse_json(body)
        options.update(json_options)
    elif kind in RAW_IMAGE_TYPES or kind.startswith("image/"):
        image = body
    else:
        accepted = "application/json, image/jpeg, image/png, application/x-image"
        raise WorkerError(
            415,
            "unsupported_media_type",
            f"Content-Type {kind or '(none)'!r} is not accepted; send one of: {accepted}",
        )
    if not image:
        raise bad_request("empty_image", "the request carries no image bytes (empty body)")
    return Invocation(
        image=image,
        application_type=_application_type(
            options.get("application_type"), default_application_type
        ),
        min_confidence=_min_confidence(options.get("min_confidence"), default_min_confidence),
        model=_model(options.get("model")),
        slices=parse_slices(options.get("slices")),
    )


def _parse_json(body: bytes) -> tuple[bytes, dict]:
    if not body:
        raise bad_request("empty_body", "the request body is empty")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request("invalid_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise bad_request("invalid_json", "the JSON body must be an object")
    encoded = next((document[f] for f in IMAGE_FIELDS if f in document), None)
    if encoded is None:
        raise bad_request("missing_image", "the JSON body needs an `image_bytes` field (base64)")
    if not isinstance(encoded, str):
        raise bad_request("invalid_base64", "`image_bytes` must be a base64 string")
    options = {k: document[k] for k in OPTION_FIELDS if k in document}
    return decode_base64(encoded), options


def decode_base64(encoded: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet); line breaks are tolerated.

    pybase64 (SIMD) decodes the seed's 277 KB body in 0.01 ms of CPU where the standard
    library took 0.64 ms. The common case, standard alphabet on one line, is tried first;
    only a body that fails it pays for the whitespace strip and the URL-safe attempt."""
    try:
        return pybase64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        pass
    text = "".join(encoded.split())
    for altchars in (None, b"-_"):
        try:
            return pybase64.b64decode(text, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
    raise bad_request("invalid_base64", "`image_bytes` is not valid base64")


def _application_type(value: object, default: str) -> str:
    if value is None or value == "":
        return default
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = TYPE_SEPARATOR.join(value)  # JSON may list several types
    if not isinstance(value, str):
        value = repr(value)  # reported as unknown below, never a 500
    return TYPE_SEPARATOR.join(parse_application_types(value))


def _model(value: object) -> str | None:
    """The requested model's name; whether it is loaded is the server's question."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request("invalid_model", f"model must be a model's name, got {value!r}")
    return value.strip()


def _min_confidence(value: object, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)  # type: ignore[arg-type]  # any object: refused below
    except (TypeError, ValueError):
        number = math.nan
    if not 0.0 <= number <= 1.0:
        raise bad_request(
            "invalid_min_confidence", f"min_confidence must be a number from 0 to 1, got {value!r}"
        )
    return number
