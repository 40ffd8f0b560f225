"""The Webhooks pages: endpoints (a new one's secret shown once), their delivery log, a test
button. apps/alerts/webhooks/endpoints.py checks and makes the changes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.alerts.listing import (
    tenant_endpoint,
)
from apps.alerts.models import WebhookEndpoint
from apps.alerts.webhooks import endpoints
from apps.dashboard.access import TenantRequest, can_manage, not_found, tenant_page
from apps.dashboard.forms.alerts import words
from apps.dashboard.forms.webhooks import EndpointForm
from apps.dashboard.once import issue_token, use_token
from apps.dashboard.pages import page
from apps.dashboard.views.alerts import cameras_of

DELIVERIES_SHOWN = 50


def _endpoint_changes(form: EndpointForm, tenant_id: int):
    data = form.cleaned_data
    return endpoints.check_filters(
        cameras=list(data["cameras"]),
        labels=words(data["labels"]),
        zones=words(data["zones"]),
        event_types=list(data["event_types"]),
        tenant_id=tenant_id,
    )


@never_cache
@tenant_page()
@require_http_methods(["GET", "POST"])
def webhooks(request: TenantRequest) -> HttpResponse:
    """List and create endpoints; a new endpoint's secret is in this response only."""
    cameras = cameras_of(request)
    form = None
    created = None
    if request.method == "POST":
        if not can_manage(request.membership):
            return page(request, "dashboard/forbidden.html", status=403)
        form = EndpointForm(request.POST, cameras=cameras)
        if form.is_valid() and use_token(request.session, form.cleaned_data["form_token"]):
            try:
                endpoint, secret = endpoints.create_endpoint(
                    request.tenant,
                    form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                    filters=_endpoint_changes(form, request.tenant.pk),
                )
            except endpoints.EndpointError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                created = {"endpoint": endpoint, "secret": secret}
                form = None
        elif form.is_valid():
            messages.info(request, "That form was sent already; the endpoint is in the list.")
            form = None
    if form is None:
        form = EndpointForm(initial={"form_token": issue_token(request.session)}, cameras=cameras)
    else:
        data = request.POST.copy()  # what the form is bound to
        data["form_token"] = issue_token(request.session)
        form.data = data
    return page(
        request,
        "dashboard/webhooks.html",
        {
            "form": form,
            "created": created,
            "endpoints": WebhookEndpoint.objects.filter(tenant=request.tenant),
        },
    )


@never_cache
@tenant_page()
@require_http_methods(["GET", "POST"])
def webhook_detail(request: TenantRequest, endpoint_id: str) -> HttpResponse:
    endpoint = tenant_endpoint(request.tenant.pk, endpoint_id)
    if endpoint is None:
        return not_found(request)
    cameras = cameras_of(request)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "cameras": endpoint.cameras,
        "labels": " ".join(endpoint.labels),
        "zones": " ".join(endpoint.zones),
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
    }
    form = EndpointForm(initial=initial, cameras=cameras)
    if request.method == "POST":
        if not can_manage(request.membership):
            return page(request, "dashboard/forbidden.html", status=403)
        form = EndpointForm(request.POST, cameras=cameras)
        if form.is_valid():
            try:
                endpoints.update_endpoint(
                    endpoint,
                    url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                    filters=_endpoint_changes(form, request.tenant.pk),
                    enabled=form.cleaned_data["enabled"],
                )
                messages.success(request, "Webhook endpoint saved.")
                return redirect(
                    "dashboard:webhook", slug=request.tenant.slug, endpoint_id=endpoint_id
                )
            except endpoints.EndpointError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    deliveries = endpoint.deliveries.prefetch_related("attempt_log")[:DELIVERIES_SHOWN]
    return page(
        request,
        "dashboard/webhook_detail.html",
        {"endpoint": endpoint, "form": form, "deliveries": deliveries},
    )


@tenant_page(manage=True)
@require_POST
def webhook_test(request: TenantRequest, endpoint_id: str) -> HttpResponse:
    endpoint = tenant_endpoint(request.tenant.pk, endpoint_id)
    if endpoint is None:
        return not_found(request)
    delivery = endpoints.send_test_event(endpoint)
    if endpoint.enabled:
        messages.success(request, f"Test event {delivery.id} queued; see the delivery log below.")
    else:
        messages.warning(request, "Test event queued; it is sent once the endpoint is enabled.")
    return redirect("dashboard:webhook", slug=request.tenant.slug, endpoint_id=endpoint_id)


@tenant_page(manage=True)
@require_POST
def webhook_delete(request: TenantRequest, endpoint_id: str) -> HttpResponse:
    endpoint = tenant_endpoint(request.tenant.pk, endpoint_id)
    if endpoint is None:
        return not_found(request)
    endpoints.delete_endpoint(endpoint)
    messages.success(request, "Webhook endpoint deleted.")
    return redirect("dashboard:webhooks", slug=request.tenant.slug)
