"""Shapes of the video-jobs API: the create options, the job, its events and frames."""

from __future__ import annotations

from rest_framework import serializers

from apps.alerts.video_jobs.models import VideoJob
from apps.tenants.application_types import ApplicationType


class VideoJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="The clip (multipart).")
    source_key = serializers.CharField(
        required=False, max_length=512, help_text="Or: a key under video-uploads/<tenant id>/."
    )
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=ApplicationType.values), required=False
    )
    camera = serializers.CharField(required=False, max_length=32)
    fps = serializers.FloatField(required=False, min_value=0.1, max_value=30.0, default=2.0)
    min_confidence = serializers.FloatField(required=False, min_value=0.05, max_value=1.0)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("file")) == bool(attrs.get("source_key")):
            raise serializers.ValidationError("send either a file or a source_key.")
        return attrs


class VideoJobQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=VideoJob.Status.values, required=False)
    camera = serializers.CharField(required=False, max_length=32)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200)


class VideoJobDetailQuerySerializer(serializers.Serializer):
    frames = serializers.BooleanField(required=False, default=False)
    frames_offset = serializers.IntegerField(required=False, min_value=0, default=0)
    frames_limit = serializers.IntegerField(
        required=False, min_value=1, max_value=1000, default=100
    )


class VideoJobEventSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # DRF takes it off the class
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    max_score = serializers.FloatField()
    zones = serializers.ListField(child=serializers.CharField())
    box = serializers.ListField(child=serializers.FloatField())
    best_s = serializers.FloatField()
    plate = serializers.CharField(required=False)
    snapshot_url = serializers.CharField(allow_null=True)


class VideoJobSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=VideoJob.Status.values)
    file_name = serializers.CharField()
    camera = serializers.CharField(allow_null=True)
    services = serializers.ListField(child=serializers.CharField())
    sample_fps = serializers.FloatField()
    progress = serializers.DictField()
    clip = serializers.DictField()
    error = serializers.DictField(allow_null=True)
    created_at = serializers.CharField()
    finished_at = serializers.CharField(allow_null=True)
    events = VideoJobEventSerializer(many=True, required=False)
    frames = serializers.DictField(required=False)
