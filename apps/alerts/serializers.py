"""Shapes of the camera-events and webhooks APIs (validation in, documented JSON out)."""

from __future__ import annotations

from rest_framework import serializers

from apps.alerts.feedback.models import Verdict
from apps.alerts.models import EVENT_TYPES, MAX_CONFIRM_WINDOW


class CameraEventQuerySerializer(serializers.Serializer):
    camera = serializers.CharField(required=False, help_text="Only this camera's events (id).")
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        required=False, help_text="Only this class, e.g. `person`."
    )
    zone = serializers.CharField(required=False, help_text="Only events that entered this zone.")
    since = serializers.DateTimeField(
        required=False, help_text="Only events started at or after this time (ISO 8601)."
    )
    created_since = serializers.DateTimeField(
        required=False,
        help_text="Only events the service recorded at or after this time (ISO 8601), whatever "
        "capture time they started at: a replayed recording's events are new, not old.",
    )
    plate = serializers.CharField(
        required=False,
        max_length=16,
        help_text="Only vehicle events whose plate is this text (letters and digits; case, "
        "spaces and dashes ignored).",
    )
    plate_match = serializers.ChoiceField(
        choices=["exact", "fuzzy"],
        default="exact",
        help_text="`fuzzy`: a plate one character off (inserted, removed or changed) matches too.",
    )


class PlateSerializer(serializers.Serializer):
    text = serializers.CharField()
    score = serializers.FloatField(help_text="The best read's score, raised by agreeing reads.")


class CameraEventSerializer(serializers.Serializer):
    id = serializers.CharField()
    camera = serializers.CharField(help_text="The camera's id (`cam_...`).")
    camera_name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    zones = serializers.ListField(child=serializers.CharField())
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="null while it is open.")
    max_score = serializers.FloatField()
    box = serializers.ListField(
        child=serializers.FloatField(), help_text="[x1, y1, x2, y2] in the best frame's pixels."
    )
    snapshot_url = serializers.CharField(
        help_text="The best frame; a signed link that works without a key until it expires."
    )
    plate = PlateSerializer(
        allow_null=True,
        help_text="The licence plate its frames agree on (license-plates service); else null.",
    )
    watchlists = serializers.ListField(
        child=serializers.CharField(), help_text="The plate watchlists its plate matched."
    )
    verdict = serializers.ChoiceField(
        choices=Verdict.choices,
        allow_null=True,
        help_text="A user's verdict on it (POST .../feedback); null when none was given.",
    )


class CameraEventPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CameraEventSerializer(many=True)


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    cameras = serializers.ListField(child=serializers.CharField(), required=False)
    labels = serializers.ListField(child=serializers.CharField(), required=False)
    zones = serializers.ListField(child=serializers.CharField(), required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), required=False
    )
    enabled = serializers.BooleanField(required=False)


class WebhookSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    url = serializers.CharField()
    description = serializers.CharField()
    cameras = serializers.ListField(child=serializers.CharField())
    labels = serializers.ListField(child=serializers.CharField())
    zones = serializers.ListField(child=serializers.CharField())
    event_types = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (`whsec_...`); shown only in this response."
    )


class DeliveryAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField()
    error = serializers.CharField()
    response_excerpt = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The `webhook-id` header of every attempt.")
    event_type = serializers.CharField()
    event = serializers.CharField(source="event_id", allow_null=True)
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    attempt_log = DeliveryAttemptSerializer(many=True)


class CameraAlertingSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(
        required=False, help_text="Track this camera's frames into events (default on)."
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=50,
        help_text="Classes that make events; empty: every class the camera keeps.",
    )
    timeout_s = serializers.FloatField(
        required=False,
        min_value=0.5,
        max_value=3600,
        help_text="An event ends when its object has not been seen for this long (capture time).",
    )
    cooldown_s = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=86400,
        help_text="At most one new event per class this often; later objects wait (0: off).",
    )
    stationary_after_s = serializers.FloatField(
        required=False,
        min_value=1,
        max_value=86400,
        help_text="An object that stays put "
        "this long ends its event and opens no other while it stays.",
    )
    confirm_hits = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_CONFIRM_WINDOW,
        help_text="An object opens an event once seen in this many of the camera's last "
        "`confirm_window` frames (default 3; 1 with a window of 1: at the first sighting).",
    )
    confirm_window = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_CONFIRM_WINDOW,
        help_text="The frames `confirm_hits` counts over (default 5); at least confirm_hits.",
    )


class FrameEventSerializer(serializers.Serializer):
    """One camera event this frame changed (the native detection answer's `events`)."""

    id = serializers.CharField(help_text="The camera event's id (/api/v1/camera-events/{id}).")
    type = serializers.ChoiceField(choices=["opened", "updated", "closed"])
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    score = serializers.FloatField(help_text="The object's score in this frame.")
    box = serializers.ListField(child=serializers.FloatField())
    ended_at = serializers.DateTimeField(required=False, help_text="For `closed`.")
    reason = serializers.ChoiceField(
        choices=["timeout", "stationary"], required=False, help_text="For `closed`."
    )
