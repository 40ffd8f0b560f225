"""Request and response shapes of the tenant keys/usage API, for validation and the schema."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.grants import SCOPE_DETECT, SCOPE_ORDER
from apps.tenants.application_types import ApplicationType

SCOPES_HELP = (
    "detect: the detection endpoints; events:read: archived request events and camera events; "
    "manage: keys, cameras and webhooks."
)


class KeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the key is for, e.g. the camera's name.",
    )
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        allow_null=True,
        default=None,
        help_text="The key stops working after this many days; omit for no expiry (or, when "
        "the key making the request expires, for its expiry: a key never outlives its maker).",
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=SCOPE_ORDER),
        allow_empty=False,
        required=False,
        default=lambda: [SCOPE_DETECT],
        help_text=f"What the key may do (default detect only; at most the requesting key's own "
        f"scopes). {SCOPES_HELP}",
    )


class ApiKeySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Public id: names the key, is not secret.")
    prefix = serializers.CharField(help_text="The key's non-secret start, `ipcai_<id>`.")
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="Updated in batches, so up to a minute behind."
    )
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField(help_text="Neither revoked nor expired.")
    scopes = serializers.ListField(child=serializers.CharField(), help_text=SCOPES_HELP)
    current = serializers.BooleanField(help_text="The key that made this request.")


class KeyListSerializer(serializers.Serializer):
    keys = ApiKeySerializer(many=True, help_text="Newest first.")


class KeySerializer(serializers.Serializer):
    key = ApiKeySerializer()


class KeyCreatedSerializer(serializers.Serializer):
    key = ApiKeySerializer()
    secret = serializers.CharField(
        help_text="The full API key. Shown in this answer only: it is stored hashed."
    )


class UsageDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="UTC day.")
    application_type = serializers.CharField()
    requests = serializers.IntegerField(
        help_text="Requests that ran this service; a DeepStack call runs every enabled service."
    )
    successes = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]  # a field (DRF pops it)
    objects = serializers.IntegerField(help_text="Objects detected.")
    mean_latency_ms = serializers.FloatField()


class UsageTotalsSerializer(serializers.Serializer):
    requests = serializers.IntegerField(
        help_text="API calls, each once (as the quota counts them), unless one service is asked."
    )
    errors = serializers.IntegerField()  # type: ignore[assignment]  # a field (DRF pops it)
    objects = serializers.IntegerField()


class QuotaSerializer(serializers.Serializer):
    monthly_request_quota = serializers.IntegerField(allow_null=True, help_text="Null: no limit.")
    used_this_month = serializers.IntegerField(help_text="Counted live, this UTC month.")


class VideoUsageSerializer(serializers.Serializer):
    jobs = serializers.IntegerField(help_text="Video jobs that succeeded in the period.")
    video_seconds = serializers.FloatField(help_text="Media seconds they analysed.")
    video_seconds_this_month = serializers.FloatField()
    monthly_video_seconds = serializers.FloatField(
        allow_null=True, help_text="The monthly video quota; null: none."
    )


class UsageSerializer(serializers.Serializer):
    from_ = serializers.DateField()
    to = serializers.DateField()
    application_type = serializers.ChoiceField(choices=ApplicationType.choices, allow_null=True)
    days = UsageDaySerializer(many=True, help_text="Recorded within about a minute.")
    totals = UsageTotalsSerializer()
    quota = QuotaSerializer()
    video = VideoUsageSerializer(help_text="Stored-video jobs, metered in video seconds.")

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # `from` is a Python keyword
        return fields
