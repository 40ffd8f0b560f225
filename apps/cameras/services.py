"""Every state change of cameras, their zones and their key bindings, as plain functions.

The API, the dashboard and the tests call these; each validates with apps/cameras/validation.py
(errors name the field) and leaves the config cache coherent (apps/cameras/signals.py).
"""

from __future__ import annotations

import io
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.cameras import validation
from apps.cameras.frames import forget_frame
from apps.cameras.models import Camera, CameraKey, CameraStill, Health
from apps.cameras.validation import CameraInvalid
from apps.core.grants import SCOPE_DETECT
from apps.tenants.models import ApiKey, Tenant
from apps.tenants.services import issue_api_key

# The settings a camera body may carry, each with its validator; `services` is checked against
# the tenant's enabled services, so it is handled apart.
SETTINGS = {
    "class_thresholds": validation.class_thresholds,
    "min_box_area": validation.min_box_area,
    "min_box_pixels": validation.min_box_pixels,
    "anchor": validation.anchor,
    "slicing": validation.slicing,
    "zones": validation.zones,
    "offline_after_s": validation.offline_after_s,
}
STILL_MAX_SIDE = 1280  # the editor draws at most ~1000 px wide; more is bytes for nothing
STILL_MAX_PIXELS = 40_000_000


def enabled_services(tenant: Tenant) -> list[str]:
    return list(
        tenant.services.filter(enabled=True)
        .order_by("application_type")
        .values_list("application_type", flat=True)
    )


def _apply(camera: Camera, changes: dict) -> None:
    unknown = set(changes) - set(SETTINGS) - {"name", "services"}
    if unknown:
        raise CameraInvalid(sorted(unknown)[0], "not a camera setting")
    if "name" in changes:
        camera.name = validation.name(changes["name"])
    if "services" in changes:
        camera.services = validation.services(changes["services"], enabled_services(camera.tenant))
    for field, check in SETTINGS.items():
        if field in changes:
            setattr(camera, field, check(changes[field]))


def _save(camera: Camera) -> Camera:
    try:
        with transaction.atomic():
            camera.save()
    except IntegrityError:
        raise CameraInvalid(
            "name", f"the tenant already has a camera named {camera.name!r}"
        ) from None
    return camera


def create_camera(tenant: Tenant, settings: dict) -> Camera:
    """A new camera; `services` defaults to the tenant's enabled ones."""
    camera = Camera(tenant=tenant)
    if "name" not in settings:
        raise CameraInvalid("name", "a camera needs a name")
    _apply(camera, settings)
    if "services" not in settings:
        camera.services = enabled_services(tenant)
        if not camera.services:
            raise CameraInvalid("services", "the tenant has no enabled service")
    return _save(camera)


def update_camera(camera: Camera, changes: dict) -> Camera:
    """Change the given settings only (a PATCH); zones are replaced as a whole list."""
    _apply(camera, changes)
    return _save(camera)


def delete_camera(camera: Camera) -> None:
    """Delete the camera; its bound keys stay (they become ordinary keys) and keep working."""
    camera_id = camera.public_id
    camera.delete()
    forget_frame(camera_id)


def bind_key(camera: Camera, api_key: ApiKey) -> CameraKey:
    """Bind the key to this camera (moving it from another camera of the tenant if bound)."""
    if api_key.tenant_id != camera.tenant_id:
        raise CameraInvalid("key", "no such API key in this tenant")
    if api_key.is_revoked:
        raise CameraInvalid("key", "the key is revoked")
    binding, _ = CameraKey.objects.update_or_create(api_key=api_key, defaults={"camera": camera})
    return binding


def unbind_key(api_key: ApiKey) -> None:
    for binding in CameraKey.objects.filter(api_key=api_key):
        binding.delete()


@transaction.atomic
def issue_camera_key(
    camera: Camera,
    *,
    name: str = "",
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key bound to the camera, and its secret (shown once): the connect-a-camera flow.
    Minted by a key (the cameras API), it expires no later than that key (`expires_at`)."""
    # A camera's credential sends frames and nothing else (the cameras API refuses it too).
    key, raw = issue_api_key(
        camera.tenant,
        name=name or camera.name,
        created_by=created_by,
        scopes=[SCOPE_DETECT],
        expires_at=expires_at,
    )
    bind_key(camera, key)
    return key, raw


def set_still(camera: Camera, data: bytes) -> CameraStill:
    """Store an uploaded picture as the zone editor's background, as a JPEG at most
    STILL_MAX_SIDE pixels on its longer side."""
    try:
        # JPEG or PNG only (not every format Pillow can parse); a decompression bomb is a
        # refusal like any picture with too many pixels.
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as opened:
            if opened.width * opened.height > STILL_MAX_PIXELS:
                raise CameraInvalid("image", "the picture has too many pixels")
            opened.draft("RGB", (STILL_MAX_SIDE, STILL_MAX_SIDE))  # JPEG: decode at 1/2..1/8
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except Image.DecompressionBombError:
        raise CameraInvalid("image", "the picture has too many pixels") from None
    except (UnidentifiedImageError, OSError):
        raise CameraInvalid("image", "not a JPEG or PNG picture") from None
    picture.thumbnail((STILL_MAX_SIDE, STILL_MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    still, _ = CameraStill.objects.update_or_create(
        camera=camera,
        defaults={
            "image": out.getvalue(),
            "width": picture.width,
            "height": picture.height,
            "uploaded_at": timezone.now(),
        },
    )
    return still


def set_health(camera_pk: int, state: str, reason: str = "", since: datetime | None = None) -> bool:
    """Record the camera's health (apps/alerts/health.py decides it); True when it changed.
    A conditional UPDATE, so of two processes seeing the same change only one gets True (and
    sends its webhook); no save(), so the camera's settings cache is left alone."""
    if state not in Health.values:
        raise ValueError(f"unknown health state {state!r}")
    changed = (
        Camera.objects.filter(pk=camera_pk)
        .exclude(health_state=state, health_reason=reason)
        .update(health_state=state, health_reason=reason, health_since=since or timezone.now())
    )
    return bool(changed)
