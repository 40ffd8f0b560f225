"""Routes of the video-jobs API (included by apps/alerts/urls.py)."""

from django.urls import path

from apps.alerts.video_jobs import api

urlpatterns = [
    path("api/v1/video-jobs", api.VideoJobListView.as_view(), name="video-jobs"),
    path("api/v1/video-jobs/<str:job_id>", api.VideoJobDetailView.as_view(), name="video-job"),
    path(
        "api/v1/video-jobs/<str:job_id>/events/<str:event_id>/snapshot",
        api.VideoJobSnapshotView.as_view(),
        name="video-job-snapshot",
    ),
]
