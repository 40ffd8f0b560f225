"""Camera settings are checked before they are saved; each error names the field."""

from __future__ import annotations

import pytest

from apps.cameras import validation
from apps.cameras.validation import MAX_ZONE_POINTS, MAX_ZONES, CameraInvalid

TRIANGLE = [[0.1, 0.5], [0.6, 0.5], [0.6, 1.0]]


def zone(**overrides) -> dict:
    return {"name": "porch", "kind": "include", "points": TRIANGLE, **overrides}


def invalid(check, value) -> CameraInvalid:
    with pytest.raises(CameraInvalid) as caught:
        check(value)
    return caught.value


def test_a_valid_zone_is_kept_with_sorted_classes():
    (checked,) = validation.zones([zone(classes=["person", "dog", "person"])])
    assert checked == {
        "name": "porch",
        "kind": "include",
        "points": TRIANGLE,
        "classes": ["dog", "person"],
    }


@pytest.mark.parametrize(
    ("zones", "field", "words"),
    [
        ([zone(points=TRIANGLE[:2])], "zones[0].points", "3 to"),
        ([zone(points=[[0.1, 0.1]] * (MAX_ZONE_POINTS + 1))], "zones[0].points", "3 to"),
        ([zone(points=[[0.1, 0.5], [1.2, 0.5], [0.6, 1.0]])], "zones[0].points[1]", "0 to 1"),
        ([zone(points=[[0, 0], [1, 1], [1, 0], [0, 1]])], "zones[0].points", "crosses itself"),
        ([zone(points=[[0, 0], [0.5, 0.5], [1, 1]])], "zones[0].points", "no area"),
        ([zone(points=[[0.1, 0.5], "x", [0.6, 1.0]])], "zones[0].points[1]", "[x, y]"),
        ([zone(kind="ignore")], "zones[0].kind", "include or mask"),
        ([zone(name="")], "zones[0].name", "letters"),
        ([zone(classes=["unicorn"])], "zones[0].classes", "unknown class"),
        ([zone(), zone()], "zones[1].name", "two zones"),
        ([zone(name=f"z{i}") for i in range(MAX_ZONES + 1)], "zones", f"at most {MAX_ZONES}"),
        ("porch", "zones", "a list"),
    ],
)
def test_bad_zones_name_the_field(zones, field, words):
    error = invalid(validation.zones, zones)
    assert error.field == field
    assert words in error.message


def test_class_thresholds_take_known_classes_and_fractions():
    assert validation.class_thresholds({"dog": 0.45, "person": 1}) == {"dog": 0.45, "person": 1.0}
    assert invalid(validation.class_thresholds, {"dog": 1.5}).field == "class_thresholds.dog"
    assert invalid(validation.class_thresholds, {"dragon": 0.5}).field == "class_thresholds.dragon"
    assert invalid(validation.class_thresholds, {"dog": True}).field == "class_thresholds.dog"


def test_size_filters():
    assert validation.min_box_area(0.001) == 0.001
    assert validation.min_box_area(0) is None
    assert invalid(validation.min_box_area, 2).field == "min_box_area"
    assert validation.min_box_pixels(400) == 400
    assert invalid(validation.min_box_pixels, -1).field == "min_box_pixels"
    assert invalid(validation.min_box_pixels, 2.5).field == "min_box_pixels"


def test_services_must_be_enabled_for_the_tenant():
    enabled = ["persons-detection"]
    assert validation.services(["persons-detection"], enabled) == ["persons-detection"]
    assert (
        "not enabled"
        in invalid(lambda v: validation.services(v, enabled), ["pets-detection"]).message
    )
    assert "unknown service" in invalid(lambda v: validation.services(v, enabled), ["x"]).message
    assert invalid(lambda v: validation.services(v, enabled), []).field == "services"
