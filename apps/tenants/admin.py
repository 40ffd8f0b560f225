"""Operator UI: tenants with their services, members and keys; keys issued and revoked here.

Saves go through the models (signals keep the key cache coherent); issuing and revoking keys go
through apps/tenants/services.py so the admin hashes and revokes exactly like the commands do.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.tenants.models import ApiKey, Membership, Tenant, TenantService
from apps.tenants.services import issue_api_key, revoke_api_key


class TenantServiceInline(admin.TabularInline):
    model = TenantService
    extra = 0
    fields = [
        "application_type",
        "enabled",
        "min_confidence",
        "save_request_events",
        "retention_days",
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ["prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return False  # keys are issued with the "Issue a new API key" action (shown once)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "active", "default_application_type", "monthly_request_quota"]
    list_filter = ["active", "services__application_type"]
    search_fields = ["slug", "name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TenantServiceInline, MembershipInline, ApiKeyInline]
    actions = ["issue_key"]

    @admin.action(description="Issue a new API key (shown once)")
    def issue_key(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> TemplateResponse:
        issued = [
            (tenant, issue_api_key(tenant, name="admin", created_by=request.user)[1])
            for tenant in queryset
        ]
        # Rendered straight into the response: never stored in messages, session or logs.
        return TemplateResponse(
            request,
            "admin/tenants/issued_keys.html",
            {**self.admin_site.each_context(request), "issued": issued, "title": "New API keys"},
        )


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

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            revoke_api_key(key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(TenantService)
class TenantServiceAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "application_type",
        "enabled",
        "min_confidence",
        "save_request_events",
    ]
    list_filter = ["application_type", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["tenant__slug"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "tenant__slug"]
    autocomplete_fields = ["user", "tenant"]
