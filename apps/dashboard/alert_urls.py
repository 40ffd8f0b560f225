"""Alerts (camera events) and Webhooks pages, under /t/<slug>/ (included by urls.py)."""

from django.urls import path

from apps.dashboard import alerts

urlpatterns = [
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/settings/<str:camera_id>", alerts.alert_settings, name="alert-settings"),
    path("alerts/<str:event_id>/", alerts.alert_detail, name="alert"),
    path("alerts/<str:event_id>/snapshot.jpg", alerts.alert_snapshot, name="alert-snapshot"),
    path("alerts/<str:event_id>/thumbnail.jpg", alerts.alert_thumbnail, name="alert-thumbnail"),
    path("webhooks/", alerts.webhooks, name="webhooks"),
    path("webhooks/<str:endpoint_id>/", alerts.webhook_detail, name="webhook"),
    path("webhooks/<str:endpoint_id>/test", alerts.webhook_test, name="webhook-test"),
    path("webhooks/<str:endpoint_id>/delete", alerts.webhook_delete, name="webhook-delete"),
]
