"""URL of the tenant's usage API (apps/reports/api.py), under /api/v1/."""

from django.urls import path

from apps.reports import api

urlpatterns = [
    path("usage", api.UsageView.as_view(), name="api-usage"),
]
