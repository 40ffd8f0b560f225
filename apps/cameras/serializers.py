"""Shapes of the cameras API, for the OpenAPI schema. Validation itself is validation.py's (one
set of rules for the API, the dashboard and the zone editor); these only describe."""

from __future__ import annotations

from rest_framework import serializers

from apps.cameras.models import Anchor, Health, Slicing, ZoneKind
from apps.cameras.validation import (
    MAX_OFFLINE_AFTER_S,
    MAX_ZONE_POINTS,
    MAX_ZONES,
    MIN_OFFLINE_AFTER_S,
)
from apps.tenants.application_types import ApplicationType


class ZoneSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40, help_text="Unique within the camera.")
    kind = serializers.ChoiceField(
        choices=ZoneKind.choices,
        default=ZoneKind.INCLUDE,
        help_text="include: only detections anchored inside count (when a camera has include "
        "zones, a detection must lie in one that applies to its class); mask: detections "
        "anchored inside are dropped.",
    )
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        min_length=3,
        max_length=MAX_ZONE_POINTS,
        help_text="[x, y] corners as fractions of the image width and height (0..1), so the "
        "zone holds when the camera's resolution changes; no self-intersection.",
    )
    classes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only these classes (e.g. person); empty or absent: every class.",
    )


class CameraSettingsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=ApplicationType.choices),
        required=False,
        help_text="A subset of the tenant's enabled services; default: all of them.",
    )
    class_thresholds = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=1),
        required=False,
        help_text='Score threshold per class, e.g. {"dog": 0.45}; classes not listed use the '
        "request's min_confidence, else the service's threshold.",
    )
    min_box_area = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Drop boxes smaller than this fraction of the frame area (e.g. 0.001).",
    )
    min_box_pixels = serializers.IntegerField(
        required=False, allow_null=True, help_text="Drop boxes of fewer pixels (width x height)."
    )
    anchor = serializers.ChoiceField(
        choices=Anchor.choices,
        required=False,
        help_text="The point of a box tested against zones; default bottom_center.",
    )
    slicing = serializers.ChoiceField(
        choices=Slicing.choices,
        required=False,
        help_text="Sliced inference (the whole frame plus overlapping slices: distant objects "
        "found, at about 5x the inference cost): tier (default: as the service's tier says, "
        "the accurate tier slices), on, off. With include zones, only their area is sliced.",
    )
    zones = ZoneSerializer(many=True, required=False, help_text=f"At most {MAX_ZONES}.")
    offline_after_s = serializers.IntegerField(
        required=False,
        min_value=MIN_OFFLINE_AFTER_S,
        max_value=MAX_OFFLINE_AFTER_S,
        help_text="Seconds without a frame after which the camera is offline (a camera.health "
        "webhook); default 600. Only cameras that sent a frame in the last day go offline.",
    )


class CameraHealthSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=Health.choices, help_text="online, offline, tampered; empty before any frame."
    )
    reason = serializers.CharField(
        help_text="Why it is tampered: covered (dark, no detail), blurred (far below its usual "
        "sharpness), moved (the scene no longer matches its reference view); else empty."
    )
    since = serializers.DateTimeField(allow_null=True)


class CameraUpdateSerializer(CameraSettingsSerializer):
    name = serializers.CharField(max_length=100, required=False)


class CameraSerializer(CameraSettingsSerializer):
    id = serializers.CharField(
        help_text="The camera's public id: name it in detection requests with `?camera=<id>`, "
        "the `camera` field or the `X-Camera-Id` header."
    )
    keys = serializers.ListField(
        child=serializers.CharField(), help_text="Public ids of the API keys bound to it."
    )
    health = CameraHealthSerializer(help_text="Written by the health checks and the sweep.")
    last_seen_at = serializers.DateTimeField(
        allow_null=True, help_text="Its latest request (up to half a minute behind)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CameraListSerializer(serializers.Serializer):
    cameras = CameraSerializer(many=True)


class CameraKeyBindSerializer(serializers.Serializer):
    key = serializers.CharField(
        required=False,
        help_text="Public id of an existing key of the tenant to bind. Omit to issue a new key "
        "bound to the camera (its secret is in the answer only).",
    )
    name = serializers.CharField(required=False, help_text="Name of the new key.")


class CameraKeyBoundSerializer(serializers.Serializer):
    camera = CameraSerializer()
    key = serializers.CharField(help_text="Public id of the bound key.")
    secret = serializers.CharField(
        required=False, help_text="The new key, when one was issued: shown in this answer only."
    )


class KeyCameraSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True, help_text="The key's public id.")
    camera = serializers.CharField(
        allow_null=True, help_text="The camera's id the key is bound to; null when unbound."
    )
