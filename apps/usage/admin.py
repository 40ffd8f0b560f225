"""Operator views of usage across tenants (read-only: usage is written by the drain only)."""

from django.contrib import admin
from django.http import HttpRequest

from apps.usage.models import DailyUsage, UsageEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(DailyUsage)
class DailyUsageAdmin(ReadOnlyAdmin):
    list_display = [
        "day",
        "tenant",
        "application_type",
        "requests",
        "errors",
        "objects_found",
        "mean_latency_ms",
    ]
    list_filter = ["application_type", "day", "tenant"]
    date_hierarchy = "day"


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "tenant",
        "api_key",
        "endpoint",
        "application_type",
        "status_code",
        "error_code",
        "latency_ms",
        "objects_found",
    ]
    list_filter = ["endpoint", "status_code", "application_type", "tenant"]
    search_fields = ["request_id", "tenant__slug"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant", "api_key"]
