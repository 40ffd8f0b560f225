"""The detection routes' JSON renderer: what DRF and our views put in a response body."""

from decimal import Decimal

import orjson
import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail

from apps.core.rendering import OrjsonRenderer


def render(data) -> bytes:
    return OrjsonRenderer().render(data)


def test_renders_compact_utf8_json():
    body = render({"class_names": [["person"]], "score": 0.875, "camera": "Einfahrt Süd"})
    assert body == '{"class_names":[["person"]],"score":0.875,"camera":"Einfahrt Süd"}'.encode()


def test_renders_drf_error_details_and_lazy_messages_as_strings():
    body = orjson.loads(
        render({"error": {"code": ErrorDetail("bad", code="x"), "message": gettext_lazy("Hi")}})
    )
    assert body == {"error": {"code": "bad", "message": "Hi"}}


def test_renders_decimals_as_numbers_and_no_body_as_empty():
    assert orjson.loads(render({"limit": Decimal("0.5")})) == {"limit": 0.5}
    assert render(None) == b""


def test_refuses_what_it_cannot_render():
    with pytest.raises(TypeError, match="not JSON serializable"):
        render({"x": object()})
