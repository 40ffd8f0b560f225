"""Serializers every API shares: the error shape, for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid_api_key`.")
    message = serializers.CharField(help_text="What went wrong and what to do about it.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
