"""Shapes of the events API: query filters in, archived-event metadata out."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.reverse import reverse

from apps.archive.models import ArchivedEvent
from apps.tenants.application_types import ApplicationType


class EventQuerySerializer(serializers.Serializer):
    service = serializers.ChoiceField(
        choices=ApplicationType.choices, required=False, help_text="Only this service's events."
    )
    date = serializers.DateField(
        required=False, help_text="Only events received on this UTC day (YYYY-MM-DD)."
    )
    since = serializers.DateTimeField(
        required=False, help_text="Only events received at or after this time (ISO 8601)."
    )
    until = serializers.DateTimeField(
        required=False, help_text="Only events received before this time (ISO 8601)."
    )


class ArchivedEventSerializer(serializers.ModelSerializer):
    # The same 32-hex-digit form as in the storage keys and the URLs.
    id = serializers.CharField(source="id.hex", read_only=True)
    service = serializers.CharField(source="application_type")
    image = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = ArchivedEvent
        fields = [
            "id",
            "service",
            "request_id",
            "portal_request_id",
            "received_at",
            "model",
            "detection_count",
            "image",
            "url",
        ]

    def _request(self):
        return self.context.get("request")

    def get_url(self, event: ArchivedEvent) -> str:
        return reverse("events:detail", args=[event.id.hex], request=self._request())

    def get_image(self, event: ArchivedEvent) -> dict | None:
        if not event.has_image:
            return None
        return {
            "content_type": event.image_content_type,
            "size": event.image_size,
            "url": reverse("events:image", args=[event.id.hex], request=self._request()),
        }


class ArchivedEventDetailSerializer(ArchivedEventSerializer):
    """Metadata plus what the stored JSON record holds: the response and the timings."""

    response = serializers.SerializerMethodField()
    timings = serializers.SerializerMethodField()
    services = serializers.SerializerMethodField(
        help_text="Every service the request ran (a DeepStack call runs all enabled ones); "
        "`response` is this service's part of the answer."
    )

    class Meta(ArchivedEventSerializer.Meta):
        fields = [*ArchivedEventSerializer.Meta.fields, "services", "response", "timings"]

    def get_services(self, event: ArchivedEvent) -> list[str]:
        return list(self.context["record"].get("services") or [event.application_type])

    def get_response(self, event: ArchivedEvent) -> dict:
        return self.context["record"].get("response", {})

    def get_timings(self, event: ArchivedEvent) -> dict:
        return self.context["record"].get("timings", {})


class EventPageSerializer(serializers.Serializer):
    """One cursor page of the listing (for the OpenAPI schema)."""

    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")
    results = ArchivedEventSerializer(many=True)
