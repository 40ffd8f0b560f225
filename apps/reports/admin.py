"""Operator view of the stored monthly reports, with CSV export of the selection."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from apps.reports.models import ErasureRequest, MonthlyUsageReport
from apps.reports.usage import report_csv


def csv_download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(MonthlyUsageReport)
class MonthlyUsageReportAdmin(admin.ModelAdmin):
    list_display = ["month_label", "tenant", "requests", "errors", "generated_at"]
    list_filter = ["month", "tenant"]
    search_fields = ["tenant__slug"]
    list_select_related = ["tenant"]
    readonly_fields = ["tenant", "month", "generated_at", "rows"]
    actions = ["export_csv"]

    @admin.display(description="Month", ordering="month")
    def month_label(self, report: MonthlyUsageReport) -> str:
        return report.label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # built by the monthly task (or `manage.py shell`), never typed in

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Export selected reports as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        rows = [row for report in queryset.order_by("month", "tenant__slug") for row in report.rows]
        return csv_download(report_csv(rows), "usage-reports.csv")


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    """The erasure audit log: read only (an erasure is made through the API or the dashboard,
    and its record is never edited or deleted)."""

    list_display = ["created_at", "tenant", "camera", "since", "until", "requested_by"]
    list_filter = ["tenant"]
    search_fields = ["tenant__slug", "camera", "requested_by"]
    list_select_related = ["tenant"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
