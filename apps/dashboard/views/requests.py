"""Dashboard pages. Thin: resolve the tenant (access.py), call a query or a service, render.

Every page lives under `/t/<slug>/`; access.tenant_page answers 404 for tenants the user is not
a member of, and 403 to viewers on pages that change something.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.dashboard.access import can_manage, membership_of, not_found, tenant_page
from apps.dashboard.forms.keys import (
    SCOPE_CHOICES,
    DateRangeForm,
    EventFilterForm,
    KeyCreateForm,
    KeyScopesForm,
    ServiceSettingsForm,
)
from apps.dashboard.once import issue_token, use_token
from apps.dashboard.overview_data import first_calls, tenant_overview
from apps.events.listing import EventFilter, tenant_event, tenant_events
from apps.events.storage import ObjectNotFound, StorageError, get_storage
from apps.events.thumbnails import THUMBNAIL_CONTENT_TYPE, detections_in, thumbnail_key
from apps.reports.models import MonthlyUsageReport
from apps.reports.usage import (
    daily_csv,
    daily_series,
    parse_month,
    report_csv,
    request_totals,
    service_totals,
)
from apps.tenants.application_types import ApplicationType
from apps.tenants.models import ApiKey, Membership, Tenant
from apps.tenants.services import (
    TooManyKeys,
    issue_api_key,
    revoke_api_key,
    set_key_scopes,
    update_service,
)

EVENTS_PER_PAGE = 24


def page(request: HttpRequest, template: str, context: dict | None = None, status: int = 200):
    """Render a tenant page with what the layout needs: the tenant, the role, the switcher."""
    membership: Membership = request.membership
    return render(
        request,
        template,
        {
            "tenant": membership.tenant,
            "membership": membership,
            "can_manage": can_manage(membership),
            "memberships": request.user.memberships.select_related("tenant").order_by(
                "tenant__name"
            ),
            **(context or {}),
        },
        status=status,
    )


def download(body: str | bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The last tenant this user looked at, else their first; a page saying so if none."""
    memberships = request.user.memberships.select_related("tenant").order_by("tenant__name")
    last = request.session.get("tenant")
    chosen = next((m for m in memberships if m.tenant.slug == last), None) or memberships.first()
    if chosen is None:  # an operator is told how to join a tenant, anyone else whom to ask
        tenants = Tenant.objects.order_by("slug")[:20] if request.user.is_staff else []
        context = {"tenants": tenants, "support_email": settings.IPCAI_SUPPORT_EMAIL}
        return render(request, "dashboard/no_tenant.html", context)
    return redirect("dashboard:overview", slug=chosen.tenant.slug)


@login_required
def switch_tenant(request: HttpRequest) -> HttpResponse:
    slug = request.GET.get("tenant", "")
    if membership_of(request.user, slug) is None:
        return not_found(request)
    return redirect("dashboard:overview", slug=slug)


@tenant_page()
def overview(request: HttpRequest) -> HttpResponse:
    context = tenant_overview(request.tenant)
    if not context["chart"]["services"]:  # nothing yet: the guided start needs these
        context["first_calls"] = first_calls(request.tenant)
        context["base_url"] = request.build_absolute_uri("/").rstrip("/")
    return page(request, "dashboard/overview.html", context)


@never_cache
@tenant_page()
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
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
                    form = None
                except TooManyKeys as exc:
                    form.add_error(None, str(exc))
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
        form.data = form.data.copy()
        form.data["form_token"] = issue_token(request.session)
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


def _create_key(request: HttpRequest, data: dict) -> dict:
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
def key_scopes(request: HttpRequest, public_id: str) -> HttpResponse:
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
        messages.error(request, " ".join(form.errors["scopes"]))
    return redirect("dashboard:keys", slug=request.tenant.slug)


@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def revoke_key(request: HttpRequest, public_id: str) -> HttpResponse:
    key = ApiKey.objects.filter(tenant=request.tenant, public_id=public_id).first()
    if key is None:
        return not_found(request)
    if request.method == "POST":
        revoke_api_key(key)
        messages.success(request, f"Revoked {key.prefix}… ({key.name}). It no longer works.")
        return redirect("dashboard:keys", slug=request.tenant.slug)
    return page(request, "dashboard/key_revoke.html", {"key": key})


@tenant_page()
def services(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    existing = {s.application_type: s for s in tenant.services.all()}
    rows = []
    for value, label in ApplicationType.choices:
        service = existing.get(value)
        enabled = service is not None and service.enabled
        rows.append(
            {
                "application_type": value,
                "label": label,
                "service": service,
                "enabled": enabled,
                "offered": value in settings.IPCAI_OFFERED_SERVICES,
                "form": ServiceSettingsForm(instance=service, prefix=value) if enabled else None,
            }
        )
    return page(
        request,
        "dashboard/services.html",
        {"rows": rows, "support_email": settings.IPCAI_SUPPORT_EMAIL},
    )


@tenant_page(manage=True)
@require_POST
def update_service_settings(request: HttpRequest, application_type: str) -> HttpResponse:
    service = request.tenant.services.filter(
        application_type=application_type, enabled=True
    ).first()
    if service is None:
        return not_found(request)
    form = ServiceSettingsForm(request.POST, instance=service, prefix=application_type)
    if not form.is_valid():
        messages.error(
            request,
            f"{service.get_application_type_display()}: "
            + " ".join(e for errors in form.errors.values() for e in errors),
        )
        return redirect("dashboard:services", slug=request.tenant.slug)
    update_service(
        service,
        min_confidence=form.cleaned_data["min_confidence"],
        save_request_events=form.cleaned_data["save_request_events"],
        retention_days=form.cleaned_data["retention_days"],
    )
    messages.success(request, f"Saved the {service.get_application_type_display()} settings.")
    return redirect("dashboard:services", slug=request.tenant.slug)


@tenant_page()
def usage(request: HttpRequest) -> HttpResponse:
    form = DateRangeForm.from_query(request.GET)
    context: dict = {"form": form}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"] + timedelta(days=1)
        context.update(
            chart=daily_series(request.tenant.pk, start, end),
            totals=service_totals(start, end, [request.tenant.pk]),
            requests=request_totals(start, end, [request.tenant.pk]).get(request.tenant.pk),
            csv_query=request.GET.urlencode(),
        )
    return page(request, "dashboard/usage.html", context, status=200 if form.is_valid() else 400)


@tenant_page()
def usage_csv(request: HttpRequest) -> HttpResponse:
    form = DateRangeForm.from_query(request.GET)
    if not form.is_valid():
        return HttpResponse(
            " ".join(e for errors in form.errors.values() for e in errors), status=400
        )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return download(
        daily_csv(request.tenant.pk, start, end + timedelta(days=1)),
        "text/csv; charset=utf-8",
        f"usage-{request.tenant.slug}-{start}-{end}.csv",
    )


@tenant_page()
def events(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET)
    filters = EventFilter()
    if form.is_valid():
        filters = EventFilter(
            service=form.cleaned_data["service"] or None, day=form.cleaned_data["day"]
        )
    paginator = Paginator(tenant_events(request.tenant.pk, filters), EVENTS_PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page(
        request,
        "dashboard/events.html",
        {
            "form": form,
            "page_obj": page_obj,
            "filter_query": query.urlencode(),
            "archiving": request.tenant.services.filter(
                enabled=True, save_request_events=True
            ).exists(),
        },
    )


def _event_record(request: HttpRequest, event_id: str) -> tuple | HttpResponse:
    """(event, stored record) of the user's tenant, or the error page to answer with."""
    event = tenant_event(request.tenant.pk, event_id)
    if event is None:
        return not_found(request)
    try:
        record = json.loads(get_storage().get(event.record_key))
    except StorageError:
        return page(request, "dashboard/archive_unavailable.html", status=503)
    return event, record


@tenant_page()
def event_detail(request: HttpRequest, event_id: str) -> HttpResponse:
    found = _event_record(request, event_id)
    if isinstance(found, HttpResponse):
        return found
    event, record = found
    response = record.get("response") or {}
    return page(
        request,
        "dashboard/event_detail.html",
        {
            "event": event,
            "record_json": json.dumps(record, indent=2, sort_keys=True),
            "drawing": {
                "width": response.get("width"),
                "height": response.get("height"),
                "detections": detections_in(response),
            },
        },
    )


@tenant_page()
def event_record(request: HttpRequest, event_id: str) -> HttpResponse:
    found = _event_record(request, event_id)
    if isinstance(found, HttpResponse):
        return found
    event, record = found
    return download(
        json.dumps(record, indent=2, sort_keys=True), "application/json", f"{event.id.hex}.json"
    )


@tenant_page()
def event_image(request: HttpRequest, event_id: str) -> HttpResponse:
    event = tenant_event(request.tenant.pk, event_id)
    if event is None or not event.has_image:
        return not_found(request)
    try:
        data = get_storage().get(event.image_key)
    except StorageError:
        return page(request, "dashboard/archive_unavailable.html", status=503)
    response = HttpResponse(data, content_type=event.image_content_type)
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="{event.image_key.rsplit("/", 1)[-1]}"'
        )
    response["Cache-Control"] = "private, max-age=86400"  # an archived event never changes
    return response


@tenant_page()
def event_thumbnail(request: HttpRequest, event_id: str) -> HttpResponse:
    """The small JPEG the archive task made once (apps/events/thumbnails.py): the web process
    never decodes an archived image for the events grid."""
    event = tenant_event(request.tenant.pk, event_id)
    if event is None or not event.has_image:
        return not_found(request)
    try:
        data = get_storage().get(thumbnail_key(event.record_key))
    except ObjectNotFound:  # archived before thumbnails existed, or an unreadable image
        return not_found(request)
    except StorageError:
        return page(request, "dashboard/archive_unavailable.html", status=503)
    response = HttpResponse(data, content_type=THUMBNAIL_CONTENT_TYPE)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@tenant_page()
def try_it(request: HttpRequest) -> HttpResponse:
    enabled = [
        (s.application_type, s.get_application_type_display())
        for s in request.tenant.services.filter(enabled=True)
    ]
    return page(
        request,
        "dashboard/try_it.html",
        {
            "enabled_services": enabled,
            "api_base": reverse(
                "dashboard:try-it-api",
                kwargs={"slug": request.tenant.slug, "application_type": "SERVICE"},
            ),
        },
    )


@tenant_page()
def reports(request: HttpRequest) -> HttpResponse:
    return page(
        request,
        "dashboard/reports.html",
        {"reports": MonthlyUsageReport.objects.filter(tenant=request.tenant)},
    )


@tenant_page()
def report_download(request: HttpRequest, month: str, fmt: str) -> HttpResponse:
    if fmt not in {"csv", "json"}:
        return not_found(request)
    try:
        first_day = parse_month(month)
    except ValueError:
        return not_found(request)
    report = MonthlyUsageReport.objects.filter(tenant=request.tenant, month=first_day).first()
    if report is None:
        return not_found(request)
    filename = f"usage-{request.tenant.slug}-{report.label}.{fmt}"
    if fmt == "csv":
        return download(report_csv(report.rows), "text/csv; charset=utf-8", filename)
    body = {
        "tenant": request.tenant.slug,
        "month": report.label,
        "generated_at": report.generated_at.isoformat(),
        "rows": report.rows,
    }
    return download(json.dumps(body, indent=2), "application/json", filename)
