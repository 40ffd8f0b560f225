"""Dashboard URLs, all of them: sign-in and account pages, then every tenant page under
/t/<slug>/, area by area (each area's views are apps/dashboard/views/<area>.py).

The request archive is "Requests" (requests/...); its first paths, events/..., answer with a
permanent redirect there, so bookmarks and the old URL names keep working."""

from collections.abc import Callable

from django.contrib.auth import views as auth_views
from django.http.response import HttpResponseBase
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from apps.core.signin import SignInForm, ThrottledPasswordResetView
from apps.dashboard.views import (
    accounts,
    alert_feedback,
    alerts,
    cameras,
    exports,
    keys,
    overview,
    privacy,
    reports,
    requests,
    services,
    try_it,
    usage,
    video_jobs,
    watchlists,
    webhooks,
)

app_name = "dashboard"


account_urls = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/accounts/login.html",
            redirect_authenticated_user=True,
            authentication_form=SignInForm,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="dashboard/accounts/password_change.html",
            success_url=reverse_lazy("dashboard:password-change-done"),
        ),
        name="password-change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="dashboard/accounts/password_change_done.html"
        ),
        name="password-change-done",
    ),
    path(
        "password/reset/",
        ThrottledPasswordResetView.as_view(
            template_name="dashboard/accounts/password_reset.html",
            email_template_name="dashboard/accounts/password_reset_email.txt",
            subject_template_name="dashboard/accounts/password_reset_subject.txt",
            success_url=reverse_lazy("dashboard:password-reset-done"),
        ),
        name="password-reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="dashboard/accounts/password_reset_sent.html"
        ),
        name="password-reset-done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="dashboard/accounts/password_reset_confirm.html",
            success_url=reverse_lazy("dashboard:password-reset-complete"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="dashboard/accounts/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
]


def moved_to(name: str) -> Callable[..., HttpResponseBase]:
    """A first path of a renamed page: a permanent redirect to the same page's new path."""
    return RedirectView.as_view(pattern_name=f"dashboard:{name}", permanent=True, query_string=True)


tenant_urls = [
    path("", overview.overview, name="overview"),
    # API keys
    path("keys/", keys.keys, name="keys"),
    path("keys/<str:public_id>/revoke/", keys.revoke_key, name="revoke-key"),
    path("keys/<str:public_id>/scopes/", keys.key_scopes, name="key-scopes"),
    # services and their settings
    path("services/", services.services, name="services"),
    path(
        "services/<str:application_type>/",
        services.update_service_settings,
        name="update-service",
    ),
    # usage and monthly reports
    path("usage/", usage.usage, name="usage"),
    path("usage.csv", usage.usage_csv, name="usage-csv"),
    path("reports/", reports.reports, name="reports"),
    path("reports/<str:month>.<str:fmt>", reports.report_download, name="report-download"),
    # Requests: the request archive
    path("requests/", requests.archived_requests, name="requests"),
    path("requests/<str:event_id>/", requests.archived_request, name="request"),
    path("requests/<str:event_id>/image", requests.archived_request_image, name="request-image"),
    path(
        "requests/<str:event_id>/thumbnail.jpg",
        requests.archived_request_thumbnail,
        name="request-thumbnail",
    ),
    path(
        "requests/<str:event_id>/record.json",
        requests.archived_request_record,
        name="request-record",
    ),
    path("events/", moved_to("requests"), name="events"),
    path("events/<str:event_id>/", moved_to("request"), name="event"),
    path("events/<str:event_id>/image", moved_to("request-image"), name="event-image"),
    path(
        "events/<str:event_id>/thumbnail.jpg",
        moved_to("request-thumbnail"),
        name="event-thumbnail",
    ),
    path("events/<str:event_id>/record.json", moved_to("request-record"), name="event-record"),
    # Try it, and the session-signed detection endpoint its page posts to
    path("try/", try_it.try_it, name="try-it"),
    path(
        "api/detect/<str:application_type>", try_it.SessionDetectView.as_view(), name="try-it-api"
    ),
    # cameras: list, connect flow, settings and zones, pictures
    path("cameras/", cameras.camera_list, name="cameras"),
    path("cameras/connect/", cameras.camera_connect, name="camera-connect"),
    path("cameras/<str:camera_id>/", cameras.camera_detail, name="camera"),
    path("cameras/<str:camera_id>/connect/", cameras.camera_new_key, name="camera-new-key"),
    path("cameras/<str:camera_id>/zones", cameras.camera_zones, name="camera-zones"),
    path("cameras/<str:camera_id>/still/", cameras.camera_still, name="camera-still"),
    path("cameras/<str:camera_id>/keys/", cameras.camera_bind, name="camera-bind"),
    path(
        "cameras/<str:camera_id>/keys/<str:key_id>/unbind/",
        cameras.camera_unbind,
        name="camera-unbind",
    ),
    path("cameras/<str:camera_id>/delete/", cameras.camera_delete, name="camera-delete"),
    path(
        "cameras/<str:camera_id>/learned-areas/<int:area_id>/remove",
        alert_feedback.learned_area_remove,
        name="learned-area-remove",
    ),
    path(
        "cameras/<str:camera_id>/feedback-apply",
        alert_feedback.feedback_apply,
        name="feedback-apply",
    ),
    path(
        "cameras/<str:camera_id>/background",
        cameras.camera_background,
        name="camera-background",
    ),
    path("cameras/<str:camera_id>/snapshot.jpg", cameras.camera_snapshot, name="camera-snapshot"),
    path("cameras/<str:camera_id>/status.json", cameras.camera_status, name="camera-status"),
    # Alerts: camera events
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/settings/<str:camera_id>", alerts.alert_settings, name="alert-settings"),
    path("alerts/<str:event_id>/", alerts.alert_detail, name="alert"),
    path("alerts/<str:event_id>/feedback", alert_feedback.alert_feedback, name="alert-feedback"),
    path("alerts/<str:event_id>/snapshot.jpg", alerts.alert_snapshot, name="alert-snapshot"),
    path("alerts/<str:event_id>/thumbnail.jpg", alerts.alert_thumbnail, name="alert-thumbnail"),
    # plate watchlists (reached from Alerts)
    path("watchlists/", watchlists.watchlist_list, name="watchlists"),
    path("watchlists/<str:watchlist_id>/", watchlists.watchlist_detail, name="watchlist"),
    path(
        "watchlists/<str:watchlist_id>/delete",
        watchlists.watchlist_delete,
        name="watchlist-delete",
    ),
    path(
        "watchlists/<str:watchlist_id>/entries/<str:entry_id>",
        watchlists.watchlist_entry,
        name="watchlist-entry",
    ),
    # webhooks
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/<str:endpoint_id>/", webhooks.webhook_detail, name="webhook"),
    path("webhooks/<str:endpoint_id>/test", webhooks.webhook_test, name="webhook-test"),
    path("webhooks/<str:endpoint_id>/delete", webhooks.webhook_delete, name="webhook-delete"),
    # stored-video jobs
    path("video-jobs/", video_jobs.video_jobs, name="video-jobs"),
    path("video-jobs/<str:job_id>/", video_jobs.video_job, name="video-job"),
    path(
        "video-jobs/<str:job_id>/events/<str:event_id>.jpg",
        video_jobs.video_job_snapshot,
        name="video-job-snapshot",
    ),
    # dataset exports
    path("exports/", exports.exports, name="exports"),
    path("exports/<str:export_id>.zip", exports.export_download, name="export-download"),
    # privacy: redaction settings and erasure
    path("privacy/", privacy.privacy, name="privacy"),
]


urlpatterns = [
    path("", accounts.home, name="home"),
    path("switch/", accounts.switch_tenant, name="switch-tenant"),
    path("accounts/", include(account_urls)),
    path("t/<slug:slug>/", include(tenant_urls)),
]
