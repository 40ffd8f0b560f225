"""Routes of the camera-events and webhooks APIs (included by portal/urls.py)."""

from django.urls import path

from apps.alerts import api as camera_api
from apps.alerts import watchlist_api
from apps.alerts.feedback.urls import urlpatterns as feedback_urls
from apps.alerts.video_jobs.urls import urlpatterns as video_job_urls

app_name = "alerts"

urlpatterns = [
    path("api/v1/camera-events", camera_api.CameraEventListView.as_view(), name="camera-events"),
    path(
        "api/v1/camera-events/<str:event_id>",
        camera_api.CameraEventDetailView.as_view(),
        name="camera-event",
    ),
    path(
        "api/v1/camera-events/<str:event_id>/snapshot",
        camera_api.CameraEventSnapshotView.as_view(),
        name="camera-event-snapshot",
    ),
    path(
        "api/v1/cameras/<str:camera_id>/alerting",
        camera_api.CameraAlertingView.as_view(),
        name="camera-alerting",
    ),
    path("api/v1/webhooks", camera_api.WebhookListView.as_view(), name="webhooks"),
    path(
        "api/v1/webhooks/<str:endpoint_id>", camera_api.WebhookDetailView.as_view(), name="webhook"
    ),
    path(
        "api/v1/webhooks/<str:endpoint_id>/test",
        camera_api.WebhookTestView.as_view(),
        name="webhook-test",
    ),
    path(
        "api/v1/webhooks/<str:endpoint_id>/deliveries",
        camera_api.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    path("api/v1/plate-watchlists", watchlist_api.WatchlistListView.as_view(), name="watchlists"),
    path(
        "api/v1/plate-watchlists/<str:watchlist_id>",
        watchlist_api.WatchlistDetailView.as_view(),
        name="watchlist",
    ),
    path(
        "api/v1/plate-watchlists/<str:watchlist_id>/entries",
        watchlist_api.WatchlistEntriesView.as_view(),
        name="watchlist-entries",
    ),
    path(
        "api/v1/plate-watchlists/<str:watchlist_id>/entries/<str:entry_id>",
        watchlist_api.WatchlistEntryView.as_view(),
        name="watchlist-entry",
    ),
    *video_job_urls,
    *feedback_urls,
]
