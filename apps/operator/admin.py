"""Operator UI, on the top floor since it shows usage and reports beside tenants: tenants with
their services, members and keys; keys issued and revoked here; bulk actions (enable a service,
suspend, reactivate, export usage) and usage per month.

Saves go through the models (signals keep the key cache coherent); issuing and revoking keys go
through apps/tenants/services.py so the admin hashes and revokes exactly like the commands do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString

from apps.alerts.video_jobs.models import VideoLimits
from apps.cameras.models import Camera
from apps.core.signin import AdminSignInForm
from apps.operator.model_admin import tier_choices
from apps.reports.admin import csv_download
from apps.reports.usage import MONTHLY_FIELDS, monthly_totals, rows_csv, utc_today
from apps.tenants.application_types import ApplicationType
from apps.tenants.models import ApiKey, Membership, Tenant, TenantService
from apps.tenants.services import (
    TooManyKeys,
    check_service_offered,
    enable_service,
    issue_api_key,
    revoke_api_key,
    set_tenant_active,
)
from apps.usage.models import DailyUsage

# The operator sign-in is throttled like the dashboard's (apps/core/signin.py).
admin.site.login_form = AdminSignInForm

USAGE_SUMMARY_MONTHS = 12


class TenantServiceForm(forms.ModelForm):
    """Enabling a service here obeys the same rule as everywhere else (offered services)."""

    class Meta:
        model = TenantService
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "tier" in self.fields:  # the deployment's tiers, read when the form is built
            self.fields["tier"] = forms.ChoiceField(
                choices=tier_choices(), required=False, help_text=self.fields["tier"].help_text
            )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        application_type = data.get("application_type")
        if data.get("enabled") and application_type:
            try:
                check_service_offered(application_type)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


class TenantServiceInline(admin.TabularInline):
    model = TenantService
    form = TenantServiceForm
    extra = 0
    fields = [
        "application_type",
        "enabled",
        "min_confidence",
        "save_request_events",
        "retention_days",
        "tier",
        "model",
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "prefix",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return False  # keys are issued with the "Issue a new API key" action (shown once)


class CameraInline(admin.TabularInline):
    """The tenant's cameras, to look at: tenants edit them (zones, thresholds) in the
    dashboard or the API, where their settings are validated."""

    model = Camera
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "public_id",
        "name",
        "services",
        "zone_count",
        "bound_keys",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return False

    @admin.display(description="zones")
    def zone_count(self, camera: Camera) -> int:
        return len(camera.zones)

    @admin.display(description="bound keys")
    def bound_keys(self, camera: Camera) -> str:
        return ", ".join(b.api_key.prefix for b in camera.key_bindings.all()) or "-"


def _enable_service_action(application_type: str, label: str) -> Callable:
    """A bulk action enabling one service for the selected tenants (through the service
    function, so offered services and the key cache are honoured as everywhere else)."""

    def enable(modeladmin: TenantAdmin, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        try:
            for tenant in queryset:
                enable_service(tenant, application_type)
        except ValueError as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)
            return
        modeladmin.message_user(
            request, f"Enabled {label.lower()} for {queryset.count()} tenant(s).", messages.SUCCESS
        )

    enable.__name__ = f"enable_{application_type.replace('-', '_')}"
    return admin.action(
        description=f"Enable {label.lower()} for selected tenants", permissions=["change"]
    )(enable)


def _month_start_subquery() -> Subquery:
    month_start = utc_today().replace(day=1)
    return Subquery(
        DailyUsage.objects.filter(tenant=OuterRef("pk"), day__gte=month_start)
        .values("tenant")
        .annotate(total=Sum("requests"))
        .values("total"),
        output_field=IntegerField(),
    )


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "active",
        "enabled_services",
        "requests_this_month",
        "monthly_request_quota",
        "redacts",
    ]
    list_filter = [
        "active",
        "services__application_type",
        "require_redact_faces",
        "require_redact_plates",
    ]
    search_fields = ["slug", "name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["usage_by_month"]
    inlines = [TenantServiceInline, MembershipInline, ApiKeyInline, CameraInline]
    actions = [
        "issue_key",
        *(_enable_service_action(value, label) for value, label in ApplicationType.choices),
        "suspend",
        "reactivate",
        "export_usage",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return (
            super()
            .get_queryset(request)
            .annotate(month_requests=_month_start_subquery())
            .prefetch_related("services")
        )

    @admin.display(description="Redacts in storage")
    def redacts(self, tenant: Tenant) -> str:
        """What stored images blur (docs/PRIVACY.md); the operator's requirement marked."""
        required = {"faces": tenant.require_redact_faces, "plates": tenant.require_redact_plates}
        kinds = sorted(tenant.redaction())
        return ", ".join(f"{k} (required)" if required[k] else k for k in kinds) or "-"

    @admin.display(description="Services")
    def enabled_services(self, tenant: Tenant) -> str:
        return ", ".join(s.application_type for s in tenant.services.all() if s.enabled) or "-"

    @admin.display(description="Requests this month", ordering="month_requests")
    def requests_this_month(self, tenant: Tenant) -> int:
        return getattr(tenant, "month_requests", None) or 0  # annotated by get_queryset

    @admin.display(description=f"Usage by month (last {USAGE_SUMMARY_MONTHS})")
    def usage_by_month(self, tenant: Tenant) -> SafeString:
        if tenant.pk is None:
            return SafeString("-")
        return render_to_string(
            "admin/tenants/usage_by_month.html",
            {"rows": monthly_totals([tenant.pk], _summary_since())},
        )

    # Actions that change something need change permission: without `permissions=` Django
    # offers them to view-only staff too.
    @admin.action(description="Issue a new API key (shown once)", permissions=["change"])
    def issue_key(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> TemplateResponse:
        issued, refused = [], []
        for tenant in queryset:
            try:
                issued.append(
                    (
                        tenant,
                        issue_api_key(tenant, name="admin", created_by=cast(User, request.user))[1],
                    )
                )
            except TooManyKeys as exc:
                refused.append(f"{tenant.slug}: {exc}")
        for line in refused:
            self.message_user(request, line, messages.ERROR)
        # Rendered straight into the response: never stored in messages, session or logs.
        return TemplateResponse(
            request,
            "admin/tenants/issued_keys.html",
            {**self.admin_site.each_context(request), "issued": issued, "title": "New API keys"},
        )

    @admin.action(
        description="Suspend selected tenants (the API refuses them)", permissions=["change"]
    )
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            set_tenant_active(tenant, False)
        self.message_user(request, f"Suspended {queryset.count()} tenant(s).", messages.SUCCESS)

    @admin.action(description="Reactivate selected tenants", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            set_tenant_active(tenant, True)
        self.message_user(request, f"Reactivated {queryset.count()} tenant(s).", messages.SUCCESS)

    @admin.action(description=f"Export usage by month (last {USAGE_SUMMARY_MONTHS}) as CSV")
    def export_usage(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> HttpResponse:
        rows = monthly_totals(queryset.values_list("pk", flat=True), _summary_since())
        return csv_download(rows_csv(rows, MONTHLY_FIELDS), "usage-by-month.csv")


def _summary_since():
    today = utc_today()
    months_back = today.year * 12 + today.month - 1 - (USAGE_SUMMARY_MONTHS - 1)
    return today.replace(year=months_back // 12, month=months_back % 12 + 1, day=1)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "tenant",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["tenant"]
    search_fields = ["public_id", "name", "tenant__slug"]
    fields = [
        "tenant",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    readonly_fields = ["tenant", "prefix", "created_by", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issue keys from the tenant list so the key is shown once

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            revoke_api_key(key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(TenantService)
class TenantServiceAdmin(admin.ModelAdmin):
    form = TenantServiceForm
    list_display = [
        "tenant",
        "application_type",
        "enabled",
        "min_confidence",
        "save_request_events",
        "served_by",
    ]
    list_filter = ["application_type", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["tenant__slug"]

    @admin.display(description="Model")
    def served_by(self, service: TenantService) -> str:
        return service.model_name or "worker default"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "tenant__slug"]
    autocomplete_fields = ["user", "tenant"]


@admin.register(VideoLimits)
class VideoLimitsAdmin(admin.ModelAdmin):
    """A tenant's own stored-video limits; an empty field keeps the deployment's default
    (IPCAI_VIDEO_MAX_CONCURRENT_JOBS, IPCAI_VIDEO_MAX_DURATION_S, IPCAI_VIDEO_MONTHLY_SECONDS)."""

    list_display = ["tenant", "max_concurrent_jobs", "max_duration_s", "monthly_video_seconds"]
    search_fields = ["tenant__slug"]
    autocomplete_fields = ["tenant"]
