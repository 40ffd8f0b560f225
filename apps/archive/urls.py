from django.urls import path

from apps.archive import api as views

app_name = "events"

urlpatterns = [
    path("api/v1/events", views.EventListView.as_view(), name="list"),
    path("api/v1/events/<str:event_id>", views.EventDetailView.as_view(), name="detail"),
    path("api/v1/events/<str:event_id>/image", views.EventImageView.as_view(), name="image"),
]
