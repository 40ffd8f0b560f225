"""Routes of the reports API (apps/reports/api.py), under /api/v1/."""

from django.urls import include, path

from apps.reports import api, erasure_api

export_patterns = [
    path("exports", api.ExportListView.as_view(), name="list"),
    path("exports/<str:export_id>", api.ExportDetailView.as_view(), name="detail"),
    path("exports/<str:export_id>/download", api.ExportDownloadView.as_view(), name="download"),
]

erasure_patterns = [
    path("erasure-requests", erasure_api.ErasureRequestListView.as_view(), name="list"),
    path(
        "erasure-requests/<str:erasure_id>",
        erasure_api.ErasureRequestDetailView.as_view(),
        name="detail",
    ),
]

urlpatterns = [
    path("usage", api.UsageView.as_view(), name="api-usage"),
    path("", include((erasure_patterns, "erasures"))),
    path("", include((export_patterns, "exports"))),
]
