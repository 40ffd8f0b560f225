"""Routes of the feedback API (added to apps/alerts/urls.py)."""

from django.urls import path

from apps.alerts.feedback import api

urlpatterns = [
    path(
        "api/v1/camera-events/<str:event_id>/feedback",
        api.EventFeedbackView.as_view(),
        name="camera-event-feedback",
    ),
    path(
        "api/v1/cameras/<str:camera_id>/learned-areas",
        api.LearnedAreaListView.as_view(),
        name="camera-learned-areas",
    ),
    path(
        "api/v1/cameras/<str:camera_id>/learned-areas/<int:area_id>",
        api.LearnedAreaView.as_view(),
        name="camera-learned-area",
    ),
    path(
        "api/v1/cameras/<str:camera_id>/feedback-quality",
        api.FeedbackQualityView.as_view(),
        name="camera-feedback-quality",
    ),
    path(
        "api/v1/cameras/<str:camera_id>/feedback-quality/apply",
        api.ApplySuggestionView.as_view(),
        name="camera-feedback-apply",
    ),
]
