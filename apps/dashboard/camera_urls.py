"""Camera page URLs, under /t/<slug>/cameras/ (included by urls.py in the dashboard namespace)."""

from django.urls import path

from apps.dashboard import cameras

urlpatterns = [
    path("", cameras.camera_list, name="cameras"),
    path("connect/", cameras.camera_connect, name="camera-connect"),
    path("<str:camera_id>/", cameras.camera_detail, name="camera"),
    path("<str:camera_id>/connect/", cameras.camera_new_key, name="camera-new-key"),
    path("<str:camera_id>/zones", cameras.camera_zones, name="camera-zones"),
    path("<str:camera_id>/still/", cameras.camera_still, name="camera-still"),
    path("<str:camera_id>/keys/", cameras.camera_bind, name="camera-bind"),
    path(
        "<str:camera_id>/keys/<str:key_id>/unbind/",
        cameras.camera_unbind,
        name="camera-unbind",
    ),
    path("<str:camera_id>/delete/", cameras.camera_delete, name="camera-delete"),
    path("<str:camera_id>/background", cameras.camera_background, name="camera-background"),
    path("<str:camera_id>/snapshot.jpg", cameras.camera_snapshot, name="camera-snapshot"),
    path("<str:camera_id>/status.json", cameras.camera_status, name="camera-status"),
]
