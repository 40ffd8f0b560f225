"""The Alerts pages (camera events: timeline, one event) and the Webhooks pages (endpoints,
their delivery log, a test button).

"Events" in the dashboard is the request archive (one row per API request); "Alerts" are
camera events (one per visit of an object). Thin views: access.tenant_page resolves the tenant
(404 for non-members, 403 for viewers on changes), apps/events makes the changes.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.cameras.models import Camera
from apps.dashboard.access import can_manage, not_found, tenant_page
from apps.dashboard.once import issue_token, use_token
from apps.dashboard.views.requests import page
from apps.events import snapshots
from apps.events.camera_events import (
    ALERTING_FIELDS,
    AlertingInvalid,
    alerting_of,
    update_alerting,
)
from apps.events.camera_listing import (
    CameraEventFilter,
    tenant_camera_event,
    tenant_camera_events,
    tenant_endpoint,
)
from apps.events.camera_models import (
    EVENT_TYPES,
    MAX_CONFIRM_WINDOW,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.events.storage import StorageError
from apps.events.thumbnails import thumbnail_with_boxes
from apps.events.webhooks import endpoints

ALERTS_PER_PAGE = 24
DELIVERIES_SHOWN = 50


class AlertFilterForm(forms.Form):
    camera = forms.ChoiceField(required=False)
    label = forms.CharField(required=False, max_length=32, label="Class")
    zone = forms.CharField(required=False, max_length=64)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, cameras: list[Camera], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["camera"].choices = [("", "All cameras")] + [
            (c.public_id, c.name) for c in cameras
        ]


class AlertingForm(forms.Form):
    """A camera's event settings (apps/events/camera_events.update_alerting)."""

    enabled = forms.BooleanField(required=False, label="Make events from this camera's frames")
    labels = forms.CharField(
        required=False, label="Alerting classes", help_text="e.g. person car; empty: every class."
    )
    timeout_s = forms.FloatField(
        min_value=0.5, max_value=3600, label="Ends after (s) unseen", help_text="default 3"
    )
    cooldown_s = forms.FloatField(
        min_value=0, max_value=86400, label="Cooldown per class (s)", help_text="0: off"
    )
    stationary_after_s = forms.FloatField(
        min_value=1, max_value=86400, label="Stationary after (s)", help_text="default 30"
    )
    confirm_hits = forms.IntegerField(
        min_value=1,
        max_value=MAX_CONFIRM_WINDOW,
        label="Confirmed when seen in",
        help_text="sightings (default 3)",
    )
    confirm_window = forms.IntegerField(
        min_value=1,
        max_value=MAX_CONFIRM_WINDOW,
        label="of the last",
        help_text="frames (default 5); 1 of 1 opens an event at the first sighting",
    )


def _words(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w]


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=2000, label="URL")
    description = forms.CharField(max_length=200, required=False)
    cameras = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all cameras."
    )
    labels = forms.CharField(
        required=False, label="Classes", help_text="e.g. person car; empty: every class."
    )
    zones = forms.CharField(required=False, help_text="Zone names; empty: anywhere.")
    event_types = forms.MultipleChoiceField(
        required=False,
        choices=[(t, t) for t in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: both.",
    )
    enabled = forms.BooleanField(required=False, initial=True)
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, cameras: list[Camera], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cameras"].choices = [(c.public_id, c.name) for c in cameras]


def _cameras(request: HttpRequest) -> list[Camera]:
    return list(Camera.objects.filter(tenant=request.tenant).order_by("name"))


@tenant_page()
def alerts(request: HttpRequest) -> HttpResponse:
    cameras = _cameras(request)
    form = AlertFilterForm(request.GET or None, cameras=cameras)
    filters = CameraEventFilter()
    if form.is_valid():
        data = form.cleaned_data
        filters = CameraEventFilter(
            camera=data["camera"] or None,
            label=data["label"] or None,
            zone=data["zone"] or None,
            day=data["day"],
        )
    events = tenant_camera_events(request.tenant.pk, filters)
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
        },
    )


@tenant_page(manage=True)
@require_POST
def alert_settings(request: HttpRequest, camera_id: str) -> HttpResponse:
    camera = Camera.objects.filter(tenant=request.tenant, public_id=camera_id).first()
    if camera is None:
        return not_found(request)
    form = AlertingForm(request.POST)
    if form.is_valid():
        try:
            update_alerting(
                camera.pk, {**form.cleaned_data, "labels": _words(form.cleaned_data["labels"])}
            )
        except AlertingInvalid as exc:
            messages.error(request, f"{form.fields[exc.field].label}: {exc.message}")
        else:
            messages.success(request, f"Event settings of {camera.name} saved.")
    else:
        field, problems = next(iter(form.errors.items()))
        messages.error(request, f"{form.fields[field].label}: {' '.join(problems)}")
    return redirect(f"{reverse('dashboard:alerts', args=[request.tenant.slug])}?camera={camera_id}")


@tenant_page()
def alert_detail(request: HttpRequest, event_id: str) -> HttpResponse:
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
            "deliveries": deliveries,
            "drawing": {
                "width": event.frame_width,
                "height": event.frame_height,
                "detections": event.frame_boxes,
            },
        },
    )


def _snapshot(request: HttpRequest, event_id: str):
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
def alert_snapshot(request: HttpRequest, event_id: str) -> HttpResponse:
    found, error = _snapshot(request, event_id)
    if error:
        return error
    event, data = found
    response = HttpResponse(data, content_type=event.snapshot_content_type or "image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response


@tenant_page()
def alert_thumbnail(request: HttpRequest, event_id: str) -> HttpResponse:
    """The best frame, small, with the event's object boxed (server-drawn: a grid of many)."""
    found, error = _snapshot(request, event_id)
    if error:
        return error
    event, data = found
    box = {"label": event.label, "score": event.max_score, "box": event.box}
    response = HttpResponse(thumbnail_with_boxes(data, [box]), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response


def _endpoint_changes(form: EndpointForm, tenant_id: int):
    data = form.cleaned_data
    return endpoints.check_filters(
        cameras=list(data["cameras"]),
        labels=_words(data["labels"]),
        zones=_words(data["zones"]),
        event_types=list(data["event_types"]),
        tenant_id=tenant_id,
    )


@never_cache
@tenant_page()
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    """List and create endpoints; a new endpoint's secret is in this response only."""
    cameras = _cameras(request)
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
                created = {"endpoint": endpoint, "secret": secret}
                form = None
            except endpoints.EndpointError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        elif form.is_valid():
            messages.info(request, "That form was sent already; the endpoint is in the list.")
            form = None
    if form is None:
        form = EndpointForm(initial={"form_token": issue_token(request.session)}, cameras=cameras)
    else:
        form.data = form.data.copy()
        form.data["form_token"] = issue_token(request.session)
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
def webhook_detail(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = tenant_endpoint(request.tenant.pk, endpoint_id)
    if endpoint is None:
        return not_found(request)
    cameras = _cameras(request)
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
def webhook_test(request: HttpRequest, endpoint_id: str) -> HttpResponse:
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
def webhook_delete(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = tenant_endpoint(request.tenant.pk, endpoint_id)
    if endpoint is None:
        return not_found(request)
    endpoints.delete_endpoint(endpoint)
    messages.success(request, "Webhook endpoint deleted.")
    return redirect("dashboard:webhooks", slug=request.tenant.slug)
