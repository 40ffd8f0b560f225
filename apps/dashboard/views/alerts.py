"""The Alerts pages: camera events (one per visit of an object): the timeline, one event
with its webhook deliveries, a camera's event settings.

"Requests" in the dashboard is the request archive (one row per API request, requests.py);
"Alerts" are camera events. apps/alerts makes the changes."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.alerts import snapshots
from apps.alerts.alerting import ALERTING_FIELDS, AlertingInvalid, alerting_of, update_alerting
from apps.alerts.feedback.models import EventVerdict
from apps.alerts.listing import (
    CameraEventFilter,
    tenant_camera_event,
    tenant_camera_events,
)
from apps.alerts.models import WebhookDelivery
from apps.alerts.watchlists import tenant_watchlists
from apps.archive.thumbnails import thumbnail_with_boxes
from apps.cameras.models import Camera
from apps.core.storage import StorageError
from apps.dashboard.access import TenantRequest, not_found, tenant_page
from apps.dashboard.forms.alerts import AlertFilterForm, AlertingForm, words
from apps.dashboard.pages import page

ALERTS_PER_PAGE = 24


def cameras_of(request: TenantRequest) -> list[Camera]:
    return list(Camera.objects.filter(tenant=request.tenant).order_by("name"))


@tenant_page()
def alerts(request: TenantRequest) -> HttpResponse:
    cameras = cameras_of(request)
    form = AlertFilterForm(request.GET or None, cameras=cameras)
    filters = CameraEventFilter()
    if form.is_valid():
        data = form.cleaned_data
        filters = CameraEventFilter(
            camera=data["camera"] or None,
            label=data["label"] or None,
            zone=data["zone"] or None,
            day=data["day"],
            plate=data["plate"] or None,
            plate_match="fuzzy",  # a plate typed from memory or a photo: one off matches
        )
    events = tenant_camera_events(request.tenant.pk, filters).select_related("verdict")
    page_obj = Paginator(events, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    camera = next((c for c in cameras if c.public_id == filters.camera), None)
    settings_form = None
    if camera is not None:
        row = alerting_of(camera.pk)
        initial = {name: getattr(row, name) for name in ALERTING_FIELDS}
        settings_form = AlertingForm(initial={**initial, "labels": " ".join(row.labels)})
    return page(
        request,
        "dashboard/alerts.html",
        {
            "form": form,
            "page_obj": page_obj,
            "filter_query": query.urlencode(),
            "cameras": cameras,
            "camera": camera,
            "settings_form": settings_form,
            "watchlists": tenant_watchlists(request.tenant.pk),
        },
    )


@tenant_page(manage=True)
@require_POST
def alert_settings(request: TenantRequest, camera_id: str) -> HttpResponse:
    camera = Camera.objects.filter(tenant=request.tenant, public_id=camera_id).first()
    if camera is None:
        return not_found(request)
    form = AlertingForm(request.POST)
    if form.is_valid():
        try:
            update_alerting(
                camera.pk, {**form.cleaned_data, "labels": words(form.cleaned_data["labels"])}
            )
        except AlertingInvalid as exc:
            messages.error(request, f"{form.fields[exc.field].label}: {exc.message}")
        else:
            messages.success(request, f"Event settings of {camera.name} saved.")
    else:
        field, problems = next(iter(form.errors.items()))
        messages.error(request, f"{form.fields[field].label}: {' '.join(map(str, problems))}")
    return redirect(f"{reverse('dashboard:alerts', args=[request.tenant.slug])}?camera={camera_id}")


@tenant_page()
def alert_detail(request: TenantRequest, event_id: str) -> HttpResponse:
    event = tenant_camera_event(request.tenant.pk, event_id)
    if event is None:
        return not_found(request)
    deliveries = (
        WebhookDelivery.objects.filter(event=event, endpoint__tenant=request.tenant)
        .select_related("endpoint")
        .prefetch_related("attempt_log")
        .order_by("created_at")
    )
    return page(
        request,
        "dashboard/alert_detail.html",
        {
            "event": event,
            "verdict": EventVerdict.objects.filter(event=event).first(),
            "deliveries": deliveries,
            "drawing": {
                "width": event.frame_width,
                "height": event.frame_height,
                "detections": event.frame_boxes,
            },
        },
    )


def _snapshot(request: TenantRequest, event_id: str):
    event = tenant_camera_event(request.tenant.pk, event_id)
    if event is None:
        return None, not_found(request)
    try:
        data = snapshots.read(str(event.id), event.snapshot_key)
    except StorageError:
        return None, page(request, "dashboard/archive_unavailable.html", status=503)
    if data is None:
        return None, not_found(request)
    return (event, data), None


@tenant_page()
def alert_snapshot(request: TenantRequest, event_id: str) -> HttpResponse:
    found, error = _snapshot(request, event_id)
    if error:
        return error
    event, data = found
    response = HttpResponse(data, content_type=event.snapshot_content_type or "image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response


@tenant_page()
def alert_thumbnail(request: TenantRequest, event_id: str) -> HttpResponse:
    """The best frame, small, with the event's object boxed (server-drawn: a grid of many)."""
    found, error = _snapshot(request, event_id)
    if error:
        return error
    event, data = found
    box = {"label": event.label, "score": event.max_score, "box": event.box}
    response = HttpResponse(thumbnail_with_boxes(data, [box]), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response
