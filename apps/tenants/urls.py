"""URLs of the tenant's own keys API (apps/tenants/api.py), under /api/v1/."""

from django.urls import path

from apps.tenants import api

urlpatterns = [
    path("keys", api.KeyListView.as_view(), name="api-keys"),
    path("keys/<str:public_id>/revoke", api.KeyRevokeView.as_view(), name="api-key-revoke"),
]
