"""Cameras of a tenant, the API keys bound to them, and an uploaded still for the zone editor.

State changes go through apps/cameras/services.py (validation, key binding, cache invalidation);
the request path reads a camera only through apps/cameras/config.py's Redis-cached snapshot.
Zones are a JSON list on the camera rather than rows: a camera's zones are always read, written
and validated together (the editor saves them as one list), and the snapshot is one read.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

CAMERA_ID_PREFIX = "cam_"
CAMERA_ID_HEX = 16  # 64 random bits: ids are unguessable across tenants and name nothing


def new_camera_id() -> str:
    return CAMERA_ID_PREFIX + secrets.token_hex(CAMERA_ID_HEX // 2)


class Anchor(models.TextChoices):
    """The point of a box tested against zones. Bottom centre by default, as Frigate does:
    where a person's feet or a car's wheels touch the ground, so a person standing in front
    of the porch is not "on the porch" because their head overlaps it."""

    BOTTOM_CENTER = "bottom_center", "Bottom centre (where the object touches the ground)"
    CENTER = "center", "Centre of the box"


class ZoneKind(models.TextChoices):
    INCLUDE = "include", "Include (only detections anchored here count)"
    MASK = "mask", "Mask (detections anchored here are dropped)"


class Slicing(models.TextChoices):
    """Sliced inference for the camera's frames (gpu_worker/slicing.py): the whole frame plus
    overlapping slices, so distant people and cars are found by the same model, at several
    times the inference cost. A camera with include zones has only its zones sliced."""

    TIER = "tier", "As the service's tier says (the accurate tier slices)"
    ON = "on", "On: look closer (the include zones' area, or the whole frame)"
    OFF = "off", "Off: the whole frame only"


class Health(models.TextChoices):
    """What the camera's frames say about the camera itself (apps/alerts/health.py decides;
    kept here so the cameras API shows it without importing alerts)."""

    UNKNOWN = "", "No frames yet"
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline (no frames)"
    TAMPERED = "tampered", "Tampered (covered, blurred or moved)"


DEFAULT_OFFLINE_AFTER_S = 600  # 10 minutes without a frame


class Camera(models.Model):
    """One camera of a tenant and its filter settings; see apps/cameras/filtering.py."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="cameras")
    public_id = models.CharField(max_length=32, unique=True, default=new_camera_id, editable=False)
    name = models.CharField(max_length=100)
    # A subset of the tenant's application types; the request path also intersects it with
    # what the tenant has enabled right now, so disabling a service needs no camera edit.
    services = models.JSONField(default=list, blank=True)
    # {"dog": 0.45, ...}: a class listed here uses this score threshold instead of its
    # service's (or the request's min_confidence).
    class_thresholds = models.JSONField(default=dict, blank=True)
    # Boxes smaller than this fraction of the frame area are dropped (0 or null: no limit).
    min_box_area = models.FloatField(null=True, blank=True)
    # ... or smaller than this many pixels of area (width x height in the sent image).
    min_box_pixels = models.PositiveIntegerField(null=True, blank=True)
    anchor = models.CharField(max_length=16, choices=Anchor.choices, default=Anchor.BOTTOM_CENTER)
    slicing = models.CharField(max_length=8, choices=Slicing.choices, default=Slicing.TIER)
    # [{"name", "kind": "include"|"mask", "points": [[x, y], ...] in 0..1, "classes": [...]}]
    zones = models.JSONField(default=list, blank=True)
    # Offline after this many seconds without a frame (only cameras seen in the last day).
    offline_after_s = models.PositiveIntegerField(default=DEFAULT_OFFLINE_AFTER_S)
    # Written only through services.set_health: state, its reason (tampered: covered, blurred,
    # moved) and since when.
    health_state = models.CharField(max_length=16, choices=Health.choices, blank=True)
    health_reason = models.CharField(max_length=16, blank=True)
    health_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="unique_camera_name"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.name} ({self.public_id})"


class CameraKey(models.Model):
    """An API key bound to one camera: its requests are that camera's frames, with or without
    a camera id (DeepStack clients such as Blue Iris or Frigate send none). A key binds to at
    most one camera; a camera may have several keys (rotation, two recorders)."""

    api_key = models.OneToOneField(
        "tenants.ApiKey", on_delete=models.CASCADE, related_name="camera_binding"
    )
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="key_bindings")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "camera key binding"

    def __str__(self) -> str:
        return f"key {self.api_key_id} -> camera {self.camera_id}"


class CameraStill(models.Model):
    """A still uploaded as the zone editor's background (downscaled JPEG, at most a few hundred
    KB), for cameras that have not sent a frame yet or whose latest frame is a bad one."""

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, related_name="still")
    image = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"still of camera {self.camera_id} ({self.width}x{self.height})"
