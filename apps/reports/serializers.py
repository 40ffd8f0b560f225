"""Shapes of the dataset export API: the request in, the job out."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.reverse import reverse

from apps.reports.datasets.formats import FORMATS
from apps.reports.datasets.selection import ExportSpec
from apps.reports.models import DatasetExport
from apps.tenants.application_types import ApplicationType


class ExportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS, help_text="coco, yolo or labelstudio.")
    service = serializers.ChoiceField(
        choices=ApplicationType.choices, required=False, help_text="Only this service's frames."
    )
    since = serializers.DateTimeField(required=False, help_text="Frames received at or after.")
    until = serializers.DateTimeField(required=False, help_text="Frames received before.")
    classes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only frames with a detection of these classes; only their boxes are kept.",
    )
    score_min = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text="Frames with a detection scored ≥."
    )
    score_max = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text="... and ≤ this (e.g. 0.3-0.6)."
    )
    sample_size = serializers.IntegerField(
        required=False, min_value=1, help_text="At most this many frames, sampled at random."
    )
    seed = serializers.IntegerField(required=False, default=0, help_text="Sampling seed.")

    def to_spec(self) -> ExportSpec:
        data = dict(self.validated_data)
        data["classes"] = tuple(data.get("classes") or ())
        return ExportSpec(**data)


class DatasetExportSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="pk.hex", read_only=True)
    filters = serializers.JSONField(source="spec")
    progress = serializers.FloatField()
    error = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the finished export is deleted (IPCAI_EXPORT_RETENTION_DAYS after).",
    )
    archiving = serializers.SerializerMethodField(
        help_text="The tenant's services that save requests now (an export holds only frames "
        "the request archive kept; empty: archiving is off)."
    )

    class Meta:
        model = DatasetExport
        fields = [
            "id",
            "format",
            "status",
            "progress",
            "images",
            "annotations",
            "scanned",
            "candidates",
            "size_bytes",
            "filters",
            "created_at",
            "finished_at",
            "expires_at",
            "archiving",
            "error",
            "url",
            "download_url",
        ]

    def get_archiving(self, export: DatasetExport) -> list[str]:
        services = export.tenant.services.filter(enabled=True, save_request_events=True)
        return sorted(services.values_list("application_type", flat=True))

    def get_error(self, export: DatasetExport) -> dict | None:
        if not export.error_code:
            return None
        return {"code": export.error_code, "message": export.error_message}

    def get_url(self, export: DatasetExport) -> str:
        return reverse("exports:detail", args=[export.pk.hex], request=self.context.get("request"))

    def get_download_url(self, export: DatasetExport) -> str | None:
        if export.status != DatasetExport.Status.DONE:
            return None
        return reverse(
            "exports:download", args=[export.pk.hex], request=self.context.get("request")
        )
