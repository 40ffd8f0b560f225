"""Routes of the reports API (apps/reports/api.py), under /api/v1/."""

from django.urls import include, path

from apps.reports import api

export_patterns = [
    path("exports", api.ExportListView.as_view(), name="list"),
    path("exports/<str:export_id>", api.ExportDetailView.as_view(), name="detail"),
    path("exports/<str:export_id>/download", api.ExportDownloadView.as_view(), name="download"),
]

urlpatterns = [
    path("usage", api.UsageView.as_view(), name="api-usage"),
    path("", include((export_patterns, "exports"))),
]
