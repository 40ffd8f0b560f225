"""URL map: detection API, tenant keys/usage API, OpenAPI schema and docs page, operator admin,
tenant dashboard."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from portal import api_docs

urlpatterns = [
    path("", include("apps.detection.urls")),
    path("api/v1/", include("apps.tenants.urls")),  # the tenant's own keys
    path("api/v1/", include("apps.cameras.urls")),  # cameras, zones, key bindings
    path("api/v1/", include("apps.reports.urls")),  # usage and dataset exports
    path("", include("apps.archive.urls")),  # the request archive of the key's tenant
    path("", include("apps.alerts.urls")),  # camera events and webhooks
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs/redoc.html"),
        name="api-docs",
    ),
    path("api/docs/redoc.standalone.js", api_docs.redoc_standalone, name="api-docs-redoc"),
    path("admin/", admin.site.urls),
    path("", include("apps.dashboard.urls")),  # the tenant dashboard (sign-in, /t/<slug>/...)
]

handler400 = "apps.core.errors.json_bad_request"
handler404 = "apps.core.errors.json_not_found"
handler500 = "apps.core.errors.json_server_error"
