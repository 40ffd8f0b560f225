"""Checking a camera's settings before they are saved, with errors that name the field.

The API, the dashboard forms and the zone editor all send the same shapes through these
functions (via apps/cameras/services.py), so a zone the editor accepts is one the API accepts.
"""

from __future__ import annotations

import math
import re

from apps.cameras.geometry import area, first_self_intersection
from apps.cameras.models import DEFAULT_OFFLINE_AFTER_S, Anchor, Slicing, ZoneKind
from apps.tenants.application_types import APPLICATION_LABELS, ApplicationType

# Bounds: enough for a detailed driveway outline and a dozen areas to ignore, small enough that
# the per-request filter stays in microseconds and a camera's snapshot stays a few KB.
MAX_ZONES = 16
MAX_ZONE_POINTS = 32
MIN_ZONE_POINTS = 3
ZONE_NAME = re.compile(r"^[\w][\w .-]{0,39}$")
KNOWN_LABELS: frozenset[str] = frozenset().union(*APPLICATION_LABELS.values())


class CameraInvalid(ValueError):
    """A setting is not acceptable; `field` names it the way the API body does
    (`zones[1].points`), `message` says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CameraInvalid("name", "a camera needs a name")
    value = value.strip()
    if len(value) > 100:
        raise CameraInvalid("name", "at most 100 characters")
    return value


def services(value: object, enabled: list[str]) -> list[str]:
    """A list of the tenant's enabled application types, no repeats, in the order given."""
    if not isinstance(value, list) or not value:
        raise CameraInvalid("services", "a non-empty list of application types")
    chosen: list[str] = []
    for item in value:
        if item not in ApplicationType.values:
            raise CameraInvalid(
                "services", f"unknown service {item!r}; valid: {', '.join(ApplicationType.values)}"
            )
        if item not in enabled:
            raise CameraInvalid("services", f"{item} is not enabled for this tenant")
        if item not in chosen:
            chosen.append(item)
    return chosen


def _fraction(value: object, field: str, *, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise CameraInvalid(field, f"a number from 0 to 1, got {value!r}")
    number = float(value)
    if not 0.0 <= number <= 1.0 or (open_low and number == 0.0):
        raise CameraInvalid(field, f"a number from 0 to 1, got {value!r}")
    return number


def label(value: object, field: str) -> str:
    if value not in KNOWN_LABELS:
        raise CameraInvalid(
            field, f"unknown class {value!r}; valid: {', '.join(sorted(KNOWN_LABELS))}"
        )
    return value


def class_thresholds(value: object) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CameraInvalid("class_thresholds", 'an object like {"dog": 0.45}')
    return {
        label(cls, f"class_thresholds.{cls}"): _fraction(score, f"class_thresholds.{cls}")
        for cls, score in value.items()
    }


def min_box_area(value: object) -> float | None:
    if value is None:
        return None
    number = _fraction(value, "min_box_area")
    return number or None


def min_box_pixels(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000_000:
        raise CameraInvalid("min_box_pixels", f"a whole number of pixels >= 0, got {value!r}")
    return value or None


def anchor(value: object) -> str:
    if value is None:
        return Anchor.BOTTOM_CENTER
    if value not in Anchor.values:
        raise CameraInvalid("anchor", f"one of {', '.join(Anchor.values)}, got {value!r}")
    return value


def slicing(value: object) -> str:
    if value is None:
        return Slicing.TIER
    if value not in Slicing.values:
        raise CameraInvalid("slicing", f"one of {', '.join(Slicing.values)}, got {value!r}")
    return value


MIN_OFFLINE_AFTER_S = 1  # tests use seconds; cameras use minutes
MAX_OFFLINE_AFTER_S = 7 * 86400


def offline_after_s(value: object) -> int:
    if value is None:
        return DEFAULT_OFFLINE_AFTER_S
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_OFFLINE_AFTER_S <= value <= MAX_OFFLINE_AFTER_S
    ):
        raise CameraInvalid(
            "offline_after_s",
            f"whole seconds from {MIN_OFFLINE_AFTER_S} to {MAX_OFFLINE_AFTER_S}, got {value!r}",
        )
    return value


def zones(value: object) -> list[dict]:
    """Zones as stored: name, kind, points (floats in 0..1), classes (sorted, may be empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise CameraInvalid("zones", "a list of zones")
    if len(value) > MAX_ZONES:
        raise CameraInvalid("zones", f"at most {MAX_ZONES} zones, got {len(value)}")
    checked: list[dict] = []
    names: set[str] = set()
    for index, zone in enumerate(value):
        field = f"zones[{index}]"
        item = _zone(zone, field)
        if item["name"] in names:
            raise CameraInvalid(f"{field}.name", f"two zones are named {item['name']!r}")
        names.add(item["name"])
        checked.append(item)
    return checked


def _zone(zone: object, field: str) -> dict:
    if not isinstance(zone, dict):
        raise CameraInvalid(field, 'an object {"name", "kind", "points", "classes"}')
    zone_name = zone.get("name")
    if not isinstance(zone_name, str) or not ZONE_NAME.match(zone_name.strip()):
        raise CameraInvalid(
            f"{field}.name",
            "1 to 40 letters, digits, spaces, dots, dashes or underscores, starting with a "
            "letter or digit",
        )
    kind = zone.get("kind", ZoneKind.INCLUDE)
    if kind not in ZoneKind.values:
        raise CameraInvalid(f"{field}.kind", f"include or mask, got {kind!r}")
    points = _points(zone.get("points"), f"{field}.points")
    classes = zone.get("classes") or []
    if not isinstance(classes, list):
        raise CameraInvalid(f"{field}.classes", 'a list of classes like ["person"]')
    return {
        "name": zone_name.strip(),
        "kind": kind,
        "points": points,
        "classes": sorted({label(c, f"{field}.classes") for c in classes}),
    }


def _points(value: object, field: str) -> list[list[float]]:
    if not isinstance(value, list):
        raise CameraInvalid(field, "a list of [x, y] points")
    if not MIN_ZONE_POINTS <= len(value) <= MAX_ZONE_POINTS:
        raise CameraInvalid(
            field, f"{MIN_ZONE_POINTS} to {MAX_ZONE_POINTS} points, got {len(value)}"
        )
    points: list[list[float]] = []
    for index, point in enumerate(value):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise CameraInvalid(f"{field}[{index}]", f"an [x, y] pair, got {point!r}")
        x = _fraction(point[0], f"{field}[{index}]")
        y = _fraction(point[1], f"{field}[{index}]")
        points.append([round(x, 5), round(y, 5)])  # 1/100000 of the frame: below a pixel
    tuples = [(x, y) for x, y in points]
    if len(set(tuples)) != len(tuples):
        raise CameraInvalid(field, "two points are the same")
    crossing = first_self_intersection(tuples)
    if crossing is not None:
        i, j = crossing
        n = len(points)
        raise CameraInvalid(
            field,
            f"the outline crosses itself (edge {i}-{(i + 1) % n} meets edge {j}-{(j + 1) % n})",
        )
    if area(tuples) < 1e-6:
        raise CameraInvalid(field, "the zone has no area (its points lie on a line)")
    return points
