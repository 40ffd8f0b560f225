"""A user's verdict on a camera event, and the areas a false alarm taught its camera.

Registered with the alerts app by the import at the end of apps/alerts/models.py."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Verdict(models.TextChoices):
    FALSE_ALARM = "false_alarm", "False alarm"
    CONFIRMED = "confirmed", "Confirmed"


class EventVerdict(models.Model):
    """One verdict per event (a second one replaces it). Label, score and box size are copied
    from the event so precision and suggestions need no join and survive its retention."""

    event = models.OneToOneField(
        "alerts.CameraEvent", on_delete=models.CASCADE, related_name="verdict"
    )
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(
        "cameras.Camera", on_delete=models.CASCADE, related_name="event_verdicts"
    )
    label = models.CharField(max_length=32)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    note = models.CharField(max_length=500, blank=True)
    score = models.FloatField()
    area_fraction = models.FloatField(default=0.0)  # the event box's share of the frame
    given_by = models.CharField(max_length=150, blank=True)  # a user name or a key's public id
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["camera", "label"], name="verdict_camera_label")]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.event_id}"


class LearnedArea(models.Model):
    """Where a false alarm sat: boxes of its class at the same spot (IoU >= LEARNED_IOU)
    scoring no higher than it (plus a small margin) open no event on its camera."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(
        "cameras.Camera", on_delete=models.CASCADE, related_name="learned_areas"
    )
    label = models.CharField(max_length=32)
    box = models.JSONField()  # [x1, y1, x2, y2] in the event frame's pixels
    frame_width = models.PositiveIntegerField(default=0)
    frame_height = models.PositiveIntegerField(default=0)
    max_score = models.FloatField()
    event = models.OneToOneField(
        "alerts.CameraEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="learned_area",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["camera", "created_at"]

    def __str__(self) -> str:
        return f"{self.label} area {self.box} on camera {self.camera_id}"
