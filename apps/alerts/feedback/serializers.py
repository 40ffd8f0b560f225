"""Shapes of the feedback API, for the OpenAPI schema (validation is services.py's)."""

from __future__ import annotations

from rest_framework import serializers

from apps.alerts.feedback.models import Verdict


class FeedbackInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class LearnedAreaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    box = serializers.ListField(child=serializers.FloatField(), help_text="[x1, y1, x2, y2]")
    frame_width = serializers.IntegerField()
    frame_height = serializers.IntegerField()
    max_score = serializers.FloatField(help_text="Boxes scoring above this (+0.03) still count.")
    held_back = serializers.IntegerField(help_text="Boxes it kept from opening events so far.")
    event = serializers.CharField(allow_null=True, help_text="The false alarm that taught it.")
    created_at = serializers.DateTimeField()


class FeedbackSerializer(serializers.Serializer):
    event = serializers.CharField()
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    note = serializers.CharField()
    given_at = serializers.DateTimeField()
    learned_area = LearnedAreaSerializer(allow_null=True)


class LearnedAreaListSerializer(serializers.Serializer):
    areas = LearnedAreaSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):
    value = serializers.FloatField()
    keeps_confirmed = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    drops_false_alarms = serializers.IntegerField()
    false_alarms = serializers.IntegerField()
    precision_after = serializers.FloatField(allow_null=True)


class ClassQualitySerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    confirmed = serializers.IntegerField()
    false_alarms = serializers.IntegerField()
    precision = serializers.FloatField(allow_null=True)
    suggested_threshold = SuggestionSerializer(allow_null=True)


class CameraQualitySerializer(serializers.Serializer):
    classes = ClassQualitySerializer(many=True)
    suggested_min_size = SuggestionSerializer(allow_null=True)


class ApplySuggestionSerializer(serializers.Serializer):
    setting = serializers.ChoiceField(choices=["threshold", "min_size"])
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        required=False, help_text="The class, for a threshold."
    )
