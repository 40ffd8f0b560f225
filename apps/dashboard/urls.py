"""Dashboard URLs: sign-in and account pages, then every tenant page under /t/<slug>/."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from apps.core.signin import SignInForm, ThrottledPasswordResetView
from apps.dashboard.views import alerts, cameras, exports
from apps.dashboard.views import requests as views
from apps.dashboard.views.try_it import SessionDetectView

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

tenant_urls = [
    path("", views.overview, name="overview"),
    path("keys/", views.keys, name="keys"),
    path("keys/<str:public_id>/revoke/", views.revoke_key, name="revoke-key"),
    path("keys/<str:public_id>/scopes/", views.key_scopes, name="key-scopes"),
    path("services/", views.services, name="services"),
    path(
        "services/<str:application_type>/",
        views.update_service_settings,
        name="update-service",
    ),
    path("usage/", views.usage, name="usage"),
    path("usage.csv", views.usage_csv, name="usage-csv"),
    path("events/", views.events, name="events"),
    path("events/<str:event_id>/", views.event_detail, name="event"),
    path("events/<str:event_id>/image", views.event_image, name="event-image"),
    path("events/<str:event_id>/thumbnail.jpg", views.event_thumbnail, name="event-thumbnail"),
    path("events/<str:event_id>/record.json", views.event_record, name="event-record"),
    path("try/", views.try_it, name="try-it"),
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
        "cameras/<str:camera_id>/background",
        cameras.camera_background,
        name="camera-background",
    ),
    path("cameras/<str:camera_id>/snapshot.jpg", cameras.camera_snapshot, name="camera-snapshot"),
    path("cameras/<str:camera_id>/status.json", cameras.camera_status, name="camera-status"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/settings/<str:camera_id>", alerts.alert_settings, name="alert-settings"),
    path("alerts/<str:event_id>/", alerts.alert_detail, name="alert"),
    path("alerts/<str:event_id>/snapshot.jpg", alerts.alert_snapshot, name="alert-snapshot"),
    path("alerts/<str:event_id>/thumbnail.jpg", alerts.alert_thumbnail, name="alert-thumbnail"),
    path("webhooks/", alerts.webhooks, name="webhooks"),
    path("webhooks/<str:endpoint_id>/", alerts.webhook_detail, name="webhook"),
    path("webhooks/<str:endpoint_id>/test", alerts.webhook_test, name="webhook-test"),
    path("webhooks/<str:endpoint_id>/delete", alerts.webhook_delete, name="webhook-delete"),
    # "Try it" posts here: the native detection endpoint, signed in by session (session_api).
    path("api/detect/<str:application_type>", SessionDetectView.as_view(), name="try-it-api"),
    path("reports/", views.reports, name="reports"),
    path("exports/", exports.exports, name="exports"),
    path("exports/<str:export_id>.zip", exports.export_download, name="export-download"),
    path(
        "reports/<str:month>.<str:fmt>",
        views.report_download,
        name="report-download",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("switch/", views.switch_tenant, name="switch-tenant"),
    path("accounts/", include(account_urls)),
    path("t/<slug:slug>/", include(tenant_urls)),
]
