"""URLs of the cameras API (apps/cameras/api.py), under /api/v1/."""

from django.urls import path

from apps.cameras import api

urlpatterns = [
    path("cameras", api.CameraListView.as_view(), name="api-cameras"),
    path("cameras/<str:camera_id>", api.CameraDetailView.as_view(), name="api-camera"),
    path("cameras/<str:camera_id>/keys", api.CameraKeysView.as_view(), name="api-camera-keys"),
    path(
        "cameras/<str:camera_id>/keys/<str:key_id>",
        api.CameraKeyView.as_view(),
        name="api-camera-key",
    ),
    # The binding seen from the key's side, beside the keys API's own /keys/<id>/revoke.
    path("keys/<str:key_id>/camera", api.KeyCameraView.as_view(), name="api-key-camera"),
]
