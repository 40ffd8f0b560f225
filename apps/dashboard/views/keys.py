"""The API keys page: create (the secret shown once), narrow a key's scopes, revoke."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.dashboard.access import TenantRequest, can_manage, not_found, tenant_page
from apps.dashboard.forms.keys import SCOPE_CHOICES, KeyCreateForm, KeyScopesForm
from apps.dashboard.once import issue_token, use_token
from apps.dashboard.pages import page
from apps.tenants.models import ApiKey
from apps.tenants.services import TooManyKeys, issue_api_key, revoke_api_key, set_key_scopes


@never_cache
@tenant_page()
@require_http_methods(["GET", "POST"])
def keys(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    new_key = None
    form = None
    if request.method == "POST":
        if not can_manage(request.membership):
            return page(request, "dashboard/forbidden.html", status=403)
        form = KeyCreateForm(request.POST)
        if form.is_valid():
            if use_token(request.session, form.cleaned_data["form_token"]):
                try:
                    new_key = _create_key(request, form.cleaned_data)
                except TooManyKeys as exc:
                    form.add_error(None, str(exc))
                else:
                    form = None
            else:
                messages.info(
                    request,
                    "That form was sent already: its key was shown once and is in the list. "
                    "Create another key if you need one.",
                )
                form = None
    if form is None:
        form = KeyCreateForm(initial={"form_token": issue_token(request.session)})
    else:  # show the errors, with a fresh token for the next try
        data = request.POST.copy()  # what the form is bound to
        data["form_token"] = issue_token(request.session)
        form.data = data
    return page(
        request,
        "dashboard/keys.html",
        {
            "form": form,
            "new_key": new_key,
            "scope_choices": SCOPE_CHOICES,
            "keys": tenant.api_keys.select_related("created_by", "camera_binding__camera").order_by(
                "revoked_at", "-created_at"
            ),
        },
    )


def _create_key(request: TenantRequest, data: dict) -> dict:
    """Issue the key; the secret goes into this response only (never cached: no-store), not
    into the session, messages or logs, so it cannot be shown a second time."""
    expires_on = data["expires_on"]
    key, raw = issue_api_key(
        request.tenant,
        name=data["name"],
        created_by=request.user,
        expires_at=datetime.combine(expires_on, time.min, tzinfo=UTC) if expires_on else None,
        scopes=data["scopes"],
    )
    return {"key": key, "raw": raw}


@tenant_page(manage=True)
@require_POST
def key_scopes(request: TenantRequest, public_id: str) -> HttpResponse:
    """Narrow (or widen) a key; its next request sees the change (the cached grant is dropped)."""
    key = ApiKey.objects.filter(tenant=request.tenant, public_id=public_id).first()
    if key is None:
        return not_found(request)
    form = KeyScopesForm(request.POST)
    if form.is_valid():
        set_key_scopes(key, form.cleaned_data["scopes"])
        messages.success(
            request, f"{key.prefix}… ({key.name}) may now: {', '.join(key.ordered_scopes)}."
        )
    else:
        messages.error(request, " ".join(map(str, form.errors["scopes"])))
    return redirect("dashboard:keys", slug=request.tenant.slug)


@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def revoke_key(request: TenantRequest, public_id: str) -> HttpResponse:
    key = ApiKey.objects.filter(tenant=request.tenant, public_id=public_id).first()
    if key is None:
        return not_found(request)
    if request.method == "POST":
        revoke_api_key(key)
        messages.success(request, f"Revoked {key.prefix}… ({key.name}). It no longer works.")
        return redirect("dashboard:keys", slug=request.tenant.slug)
    return page(request, "dashboard/key_revoke.html", {"key": key})
