"""URLs of the dataset export API (apps/reports/export_api.py), under /api/v1/."""

from django.urls import path

from apps.reports import export_api

app_name = "exports"

urlpatterns = [
    path("exports", export_api.ExportListView.as_view(), name="list"),
    path("exports/<str:export_id>", export_api.ExportDetailView.as_view(), name="detail"),
    path(
        "exports/<str:export_id>/download",
        export_api.ExportDownloadView.as_view(),
        name="download",
    ),
]
