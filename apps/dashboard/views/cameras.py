"""The Cameras pages: list, connect a camera, a camera's settings and zone editor, its pictures.

Thin, like every dashboard view: access.tenant_page resolves the tenant (404 for non-members,
403 for viewers on anything that changes), apps/cameras/services.py makes the changes and checks
them.
The zone editor and the "test with this image" panel are static JavaScript (camera.js): the
editor posts its zones here as JSON; the panel posts the image to the session Try-it endpoint
with `?camera=`, so it runs exactly the filter a camera's request runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.archive.thumbnails import thumbnail_with_boxes
from apps.cameras.frames import last_seen, latest_frame
from apps.cameras.models import Camera, CameraStill, ZoneKind
from apps.cameras.services import (
    bind_key,
    create_camera,
    delete_camera,
    enabled_services,
    issue_camera_key,
    set_still,
    unbind_key,
    update_camera,
)
from apps.cameras.validation import MAX_ZONE_POINTS, MAX_ZONES, CameraInvalid
from apps.core.errors import error_body
from apps.dashboard.access import TenantRequest, can_manage, not_found, tenant_page
from apps.dashboard.forms.cameras import (
    BindKeyForm,
    CameraSettingsForm,
    ConnectForm,
    StillForm,
    add_camera_error,
    labels_of,
)
from apps.dashboard.once import issue_token, use_token
from apps.dashboard.pages import page
from apps.dashboard.views.alert_feedback import camera_feedback
from apps.tenants.models import ApiKey
from apps.tenants.services import TooManyKeys

MAX_STILL_BYTES = 10 * 1024 * 1024


def _camera(request: TenantRequest, camera_id: str) -> Camera | None:
    return (
        Camera.objects.filter(tenant=request.tenant, public_id=camera_id)
        .prefetch_related("key_bindings__api_key")
        .first()
    )


def _seen(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


@tenant_page()
def camera_list(request: TenantRequest) -> HttpResponse:
    cameras = list(
        Camera.objects.filter(tenant=request.tenant)
        .prefetch_related("key_bindings__api_key")
        .order_by("name")
    )
    seen = last_seen([c.public_id for c in cameras])
    rows = [
        {
            "camera": c,
            "keys": [b.api_key for b in c.key_bindings.all()],
            "seen_at": _seen(seen.get(c.public_id)),
        }
        for c in cameras
    ]
    return page(request, "dashboard/cameras/list.html", {"rows": rows})


def _connect_context(request: TenantRequest, camera: Camera, raw_key: str) -> dict:
    base = f"{request.scheme}://{request.get_host()}"
    service = camera.services[0] if camera.services else request.tenant.default_application_type
    return {
        "camera": camera,
        "raw_key": raw_key,
        "base_url": base,
        "host": request.get_host().rsplit(":", 1)[0],
        "port": request.get_port(),
        "service": service,
        "status_url": reverse(
            "dashboard:camera-status", args=[request.tenant.slug, camera.public_id]
        ),
    }


@never_cache
@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def camera_connect(request: TenantRequest) -> HttpResponse:
    """Create a camera and a key bound to it; the key is in this response only (no-store)."""
    enabled = enabled_services(request.tenant)
    form = ConnectForm(
        request.POST or None, enabled=enabled, initial={"form_token": issue_token(request.session)}
    )
    if request.method == "POST" and form.is_valid():
        if not use_token(request.session, form.cleaned_data["form_token"]):
            messages.info(request, "That form was sent already; the camera is in the list.")
            return redirect("dashboard:cameras", slug=request.tenant.slug)
        try:
            camera = create_camera(
                request.tenant,
                {"name": form.cleaned_data["name"], "services": form.cleaned_data["services"]},
            )
            _, raw = issue_camera_key(camera, created_by=request.user)
        except CameraInvalid as exc:
            add_camera_error(form, exc.field, exc.message)
        except TooManyKeys as exc:
            form.add_error(None, str(exc))
        else:
            return page(
                request, "dashboard/cameras/connect.html", _connect_context(request, camera, raw)
            )
    if form.is_bound:
        data = request.POST.copy()  # what the form is bound to
        data["form_token"] = issue_token(request.session)
        form.data = data
    return page(
        request, "dashboard/cameras/connect.html", {"form": form, "no_services": not enabled}
    )


@never_cache
@tenant_page(manage=True)
@require_POST
def camera_new_key(request: TenantRequest, camera_id: str) -> HttpResponse:
    """Connect an existing camera: a new key bound to it, and the same settings to copy."""
    camera = _camera(request, camera_id)
    if camera is None:
        return not_found(request)
    if not use_token(request.session, request.POST.get("form_token", "")):
        messages.info(request, "That form was sent already; the key is in the camera's list.")
        return redirect("dashboard:camera", slug=request.tenant.slug, camera_id=camera_id)
    try:
        _, raw = issue_camera_key(camera, created_by=request.user)
    except TooManyKeys as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:camera", slug=request.tenant.slug, camera_id=camera_id)
    return page(request, "dashboard/cameras/connect.html", _connect_context(request, camera, raw))


def _editor_data(request: TenantRequest, camera: Camera) -> dict:
    slug = request.tenant.slug
    return {
        "zones": camera.zones,
        "labels": labels_of(camera.services),
        "kinds": ZoneKind.values,
        "max_zones": MAX_ZONES,
        "max_points": MAX_ZONE_POINTS,
        "save_url": reverse("dashboard:camera-zones", args=[slug, camera.public_id]),
        "background_url": reverse("dashboard:camera-background", args=[slug, camera.public_id]),
        "camera": camera.public_id,
        "services": camera.services,
        "detect_url": reverse("dashboard:try-it-api", args=[slug, "SERVICE"]),
    }


@never_cache
@tenant_page()
@require_http_methods(["GET", "POST"])
def camera_detail(request: TenantRequest, camera_id: str) -> HttpResponse:
    camera = _camera(request, camera_id)
    if camera is None:
        return not_found(request)
    enabled = enabled_services(request.tenant)
    form = CameraSettingsForm(enabled=enabled, camera=camera)
    status = 200
    if request.method == "POST":
        if not can_manage(request.membership):
            return page(request, "dashboard/forbidden.html", status=403)
        form = CameraSettingsForm(request.POST, enabled=enabled)
        if form.is_valid():
            try:
                update_camera(camera, form.camera_settings())
            except CameraInvalid as exc:
                add_camera_error(form, exc.field, exc.message)
            else:
                messages.success(request, f"Saved the settings of {camera.name}.")
                return redirect("dashboard:camera", slug=request.tenant.slug, camera_id=camera_id)
        status = 400
    bound = [b.api_key for b in camera.key_bindings.all()]
    bound_ids = {k.pk for k in bound}
    free_keys = [
        (k.public_id, f"{k.prefix}… {k.name}")
        for k in ApiKey.objects.filter(tenant=request.tenant).usable()
        if k.pk not in bound_ids
    ]
    has_still = CameraStill.objects.filter(camera=camera).exists()
    frame = latest_frame(camera.public_id)
    return page(
        request,
        "dashboard/cameras/detail.html",
        {
            "camera": camera,
            "form": form,
            "bound_keys": bound,
            "bind_form": BindKeyForm(keys=free_keys) if free_keys else None,
            "still_form": StillForm(),
            "has_background": has_still or frame is not None,
            "seen_at": _seen(frame.seen_at if frame else None),
            "editor": _editor_data(request, camera),
            "form_token": issue_token(request.session),
            **camera_feedback(camera),  # health, learned areas, alert quality
        },
        status=status,
    )


@tenant_page(manage=True)
@require_POST
def camera_zones(request: TenantRequest, camera_id: str) -> HttpResponse:
    """The zone editor's save: `{"zones": [...]}` as JSON; errors in the API's shape."""
    camera = _camera(request, camera_id)
    if camera is None:
        return JsonResponse(error_body("camera_not_found", "No such camera."), status=404)
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or "zones" not in body:
        return JsonResponse(error_body("invalid_body", 'Send {"zones": [...]}.'), status=400)
    try:
        update_camera(camera, {"zones": body["zones"]})
    except CameraInvalid as exc:
        return JsonResponse(error_body("invalid_camera", str(exc)), status=400)
    return JsonResponse({"zones": camera.zones})


@tenant_page(manage=True)
@require_POST
def camera_still(request: TenantRequest, camera_id: str) -> HttpResponse:
    camera = _camera(request, camera_id)
    if camera is None:
        return not_found(request)
    form = StillForm(request.POST, request.FILES)
    if not form.is_valid() or form.cleaned_data["image"].size > MAX_STILL_BYTES:
        messages.error(request, "Choose a JPEG or PNG picture of at most 10 MB.")
    else:
        try:
            set_still(camera, form.cleaned_data["image"].read())
        except CameraInvalid as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The picture is the zone editor's background now.")
    return redirect("dashboard:camera", slug=request.tenant.slug, camera_id=camera_id)


@tenant_page(manage=True)
@require_POST
def camera_bind(request: TenantRequest, camera_id: str) -> HttpResponse:
    camera = _camera(request, camera_id)
    key = ApiKey.objects.filter(tenant=request.tenant, public_id=request.POST.get("key")).first()
    if camera is None or key is None:
        return not_found(request)
    try:
        bind_key(camera, key)
    except CameraInvalid as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{key.prefix}… now sends {camera.name}'s frames.")
    return redirect("dashboard:camera", slug=request.tenant.slug, camera_id=camera_id)


@tenant_page(manage=True)
@require_POST
def camera_unbind(request: TenantRequest, camera_id: str, key_id: str) -> HttpResponse:
    camera = _camera(request, camera_id)
    binding = camera.key_bindings.filter(api_key__public_id=key_id).first() if camera else None
    if camera is None or binding is None:
        return not_found(request)
    unbind_key(binding.api_key)
    messages.success(request, f"{binding.api_key.prefix}… is no longer bound to {camera.name}.")
    return redirect("dashboard:camera", slug=request.tenant.slug, camera_id=camera_id)


@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def camera_delete(request: TenantRequest, camera_id: str) -> HttpResponse:
    camera = _camera(request, camera_id)
    if camera is None:
        return not_found(request)
    if request.method == "POST":
        delete_camera(camera)
        messages.success(request, f"Deleted camera {camera.name}; its keys still work, unbound.")
        return redirect("dashboard:cameras", slug=request.tenant.slug)
    return page(request, "dashboard/cameras/delete.html", {"camera": camera})


def _image_response(data: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-cache"  # the latest frame changes
    return response


@tenant_page()
@require_GET
def camera_background(request: TenantRequest, camera_id: str) -> HttpResponse:
    """The zone editor's background: the uploaded still, else the latest frame."""
    camera = _camera(request, camera_id)
    if camera is None:
        return not_found(request)
    still = CameraStill.objects.filter(camera=camera).first()
    if still is not None and request.GET.get("source") != "frame":
        return _image_response(bytes(still.image), "image/jpeg")
    frame = latest_frame(camera.public_id)
    if frame is None:
        return not_found(request)
    return _image_response(frame.image, frame.content_type)


@tenant_page()
@require_GET
def camera_snapshot(request: TenantRequest, camera_id: str) -> HttpResponse:
    """The latest frame, small, with the boxes the camera kept."""
    camera = _camera(request, camera_id)
    frame = latest_frame(camera.public_id) if camera else None
    if frame is None:
        return not_found(request)
    return _image_response(thumbnail_with_boxes(frame.image, frame.detections), "image/jpeg")


@tenant_page()
@require_GET
def camera_status(request: TenantRequest, camera_id: str) -> HttpResponse:
    """What the connect page polls for: has the camera sent a frame yet, and what was in it."""
    camera = _camera(request, camera_id)
    if camera is None:
        return JsonResponse(error_body("camera_not_found", "No such camera."), status=404)
    frame = latest_frame(camera.public_id)
    if frame is None:
        return JsonResponse({"seen_at": None})
    return JsonResponse(
        {
            "seen_at": datetime.fromtimestamp(frame.seen_at, UTC).isoformat(),
            "width": frame.width,
            "height": frame.height,
            "detections": frame.detections,
            "frame_url": reverse(
                "dashboard:camera-background", args=[request.tenant.slug, camera.public_id]
            )
            + "?source=frame",
        }
    )
