"""Feedback in the dashboard: a verdict on an alert (the timeline's and the alert page's
buttons), a camera's learned areas (shown over its frame, removed one by one), its precision
and suggested settings (applied with one click), and its health. apps/alerts/feedback makes
the changes; owners and admins change, viewers see."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.alerts.feedback import learned_areas
from apps.alerts.feedback.models import EventVerdict, LearnedArea, Verdict
from apps.alerts.feedback.precision import camera_quality
from apps.alerts.feedback.services import (
    FeedbackInvalid,
    apply_suggestion,
    give_feedback,
    remove_area,
)
from apps.alerts.listing import tenant_camera_event
from apps.cameras.models import Camera
from apps.dashboard.access import TenantRequest, not_found, tenant_page


def _back(request: TenantRequest, fallback: str) -> HttpResponse:
    """Back where the button was (a same-site path only), else the fallback."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@tenant_page(manage=True)
@require_POST
def alert_feedback(request: TenantRequest, event_id: str) -> HttpResponse:
    event = tenant_camera_event(request.tenant.pk, event_id)
    if event is None:
        return not_found(request)
    try:
        row = give_feedback(
            event, request.POST.get("verdict"), request.POST.get("note", ""), request.user.username
        )
    except FeedbackInvalid as exc:
        messages.error(request, exc.message)
    else:
        if row.verdict == Verdict.FALSE_ALARM:
            messages.success(
                request,
                f"Marked a false alarm: {event.camera.name} now ignores {event.label} boxes at "
                "that spot scoring no higher (see its learned areas).",
            )
        else:
            messages.success(request, f"Confirmed this {event.label}.")
    return _back(request, reverse("dashboard:alert", args=[request.tenant.slug, event_id]))


def _camera(request: TenantRequest, camera_id: str) -> Camera | None:
    return Camera.objects.filter(tenant=request.tenant, public_id=camera_id).first()


def _camera_page(request: TenantRequest, camera_id: str) -> str:
    return reverse("dashboard:camera", args=[request.tenant.slug, camera_id]) + "#feedback"


@tenant_page(manage=True)
@require_POST
def learned_area_remove(request: TenantRequest, camera_id: str, area_id: int) -> HttpResponse:
    camera = _camera(request, camera_id)
    area = LearnedArea.objects.filter(camera=camera, pk=area_id).first() if camera else None
    if area is None:
        return not_found(request)
    remove_area(area)
    messages.success(request, f"Removed the learned {area.label} area: it alerts again.")
    return redirect(_camera_page(request, camera_id))


@tenant_page(manage=True)
@require_POST
def feedback_apply(request: TenantRequest, camera_id: str) -> HttpResponse:
    camera = _camera(request, camera_id)
    if camera is None:
        return not_found(request)
    setting, label = request.POST.get("setting"), request.POST.get("label")
    try:
        apply_suggestion(camera, setting, label)
    except FeedbackInvalid as exc:
        messages.error(request, exc.message)
    else:
        what = f"the {label} threshold" if setting == "threshold" else "the minimum box size"
        messages.success(request, f"Applied the suggested {what} to {camera.name}.")
    return redirect(_camera_page(request, camera_id))


def camera_feedback(camera: Camera) -> dict:
    """The camera page's feedback and health section: learned areas placed over the frame
    (percentages of it), what each held back, precision and suggestions."""
    counts = learned_areas.held_counts(camera.pk)
    areas = []
    for area in LearnedArea.objects.filter(camera=camera):
        width, height = area.frame_width or 1, area.frame_height or 1
        x1, y1, x2, y2 = area.box
        areas.append(
            {
                "area": area,
                "held_back": counts.get(area.pk, 0),
                "left": round(100 * x1 / width, 2),
                "top": round(100 * y1 / height, 2),
                "width": round(100 * (x2 - x1) / width, 2),
                "height": round(100 * (y2 - y1) / height, 2),
            }
        )
    return {
        "learned_areas": areas,
        "quality": camera_quality(camera.pk),
        "verdicts": EventVerdict.objects.filter(camera=camera).count(),
    }
