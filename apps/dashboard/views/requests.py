"""The Requests pages: the request archive (one row per API request the tenant chose to
save: image, response, thumbnail). Camera events are the Alerts pages (alerts.py)."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.http import HttpResponse

from apps.archive.listing import EventFilter, tenant_event, tenant_events
from apps.archive.thumbnails import THUMBNAIL_CONTENT_TYPE, detections_in, thumbnail_key
from apps.core.storage import ObjectNotFound, StorageError, get_storage
from apps.dashboard.access import TenantRequest, not_found, tenant_page
from apps.dashboard.forms.requests import RequestFilterForm
from apps.dashboard.pages import download, page

REQUESTS_PER_PAGE = 24


@tenant_page()
def archived_requests(request: TenantRequest) -> HttpResponse:
    form = RequestFilterForm(request.GET)
    filters = EventFilter()
    if form.is_valid():
        filters = EventFilter(
            service=form.cleaned_data["service"] or None, day=form.cleaned_data["day"]
        )
    paginator = Paginator(tenant_events(request.tenant.pk, filters), REQUESTS_PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page(
        request,
        "dashboard/requests.html",
        {
            "form": form,
            "page_obj": page_obj,
            "filter_query": query.urlencode(),
            "archiving": request.tenant.services.filter(
                enabled=True, save_request_events=True
            ).exists(),
        },
    )


def _archived_record(request: TenantRequest, event_id: str) -> tuple | HttpResponse:
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
def archived_request(request: TenantRequest, event_id: str) -> HttpResponse:
    found = _archived_record(request, event_id)
    if isinstance(found, HttpResponse):
        return found
    event, record = found
    response = record.get("response") or {}
    return page(
        request,
        "dashboard/request_detail.html",
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
def archived_request_record(request: TenantRequest, event_id: str) -> HttpResponse:
    found = _archived_record(request, event_id)
    if isinstance(found, HttpResponse):
        return found
    event, record = found
    return download(
        json.dumps(record, indent=2, sort_keys=True), "application/json", f"{event.id.hex}.json"
    )


@tenant_page()
def archived_request_image(request: TenantRequest, event_id: str) -> HttpResponse:
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
def archived_request_thumbnail(request: TenantRequest, event_id: str) -> HttpResponse:
    """The small JPEG the archive task made once (apps/archive/thumbnails.py): the web process
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
