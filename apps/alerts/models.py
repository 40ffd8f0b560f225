"""Camera events (one row per visit of an object), their webhook endpoints and deliveries.

Imported by apps/archive/models.py so Django registers them with the events app. The database is
the source of truth for delivery: a delivery row is written in the same transaction as the event
change it announces, and a periodic sweep re-enqueues every due row, so neither a Redis outage
nor a receiver outage loses a webhook.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone

WEBHOOK_ID_PREFIX = "whk_"
EVENT_TYPES = (
    "event.started",
    "event.ended",
    "video_job.completed",
    "video_job.failed",
    "camera.health",  # apps/alerts/health.py: offline, online, tampered, recovered
    "plate.matched",  # apps/alerts/watchlists.py: an event's plate is on a tenant's watchlist
)


def new_endpoint_id() -> str:
    return WEBHOOK_ID_PREFIX + secrets.token_hex(8)


def new_message_id() -> str:
    """The Standard Webhooks `webhook-id`: stable across every retry of one delivery."""
    return "msg_" + uuid.uuid4().hex


def zone_index(zones: list[str]) -> str:
    return f",{','.join(sorted(zones))}," if zones else ""


MAX_CONFIRM_WINDOW = 20  # frames a track is confirmed over: 2 s at 10 fps, 10 s at 2 fps


class CameraAlerting(models.Model):
    """A camera's event settings; a camera without a row uses the defaults (events on)."""

    camera = models.OneToOneField(
        "cameras.Camera", on_delete=models.CASCADE, related_name="alerting"
    )
    enabled = models.BooleanField(default=True)
    labels = models.JSONField(default=list, blank=True)  # empty: every class the camera keeps
    timeout_s = models.FloatField(default=3.0)
    cooldown_s = models.FloatField(default=0.0)
    stationary_after_s = models.FloatField(default=30.0)
    # A track is confirmed (opens an event) once seen in `confirm_hits` of the camera's last
    # `confirm_window` frames: 1 of 1 opens at the first sighting, 3 of 5 ignores a lone box.
    confirm_hits = models.PositiveSmallIntegerField(default=3)
    confirm_window = models.PositiveSmallIntegerField(default=5)

    def __str__(self) -> str:
        return f"alerting of camera {self.camera_id}"

    class Meta:
        db_table = "events_cameraalerting"  # the table it had before the move: none renamed


class CameraEvent(models.Model):
    """One visit of one object to one camera: opened when its track is confirmed, closed when
    it has not been seen for the camera's timeout (or stood still long enough)."""

    class CloseReason(models.TextChoices):
        TIMEOUT = "timeout", "Not seen for the timeout"
        STATIONARY = "stationary", "Stopped moving"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="camera_events"
    )
    camera = models.ForeignKey("cameras.Camera", on_delete=models.CASCADE, related_name="events")
    label = models.CharField(max_length=32)
    zones = models.JSONField(default=list, blank=True)
    # ",porch,drive,": the zone filter as a plain substring match on every database (SQLite
    # has no JSON containment lookup). Kept in step with `zones` by set_zones().
    zone_index = models.CharField(max_length=600, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    max_score = models.FloatField(default=0.0)
    # The best frame (highest score): its time, the object's box in it, every kept box of it.
    box = models.JSONField(default=list, blank=True)
    best_at = models.DateTimeField(null=True, blank=True)
    frame_boxes = models.JSONField(default=list, blank=True)
    frame_width = models.PositiveIntegerField(default=0)
    frame_height = models.PositiveIntegerField(default=0)
    snapshot_key = models.CharField(max_length=512, blank=True)
    snapshot_content_type = models.CharField(max_length=32, blank=True)
    # License plates (apps/alerts/plates.py): the reads of the event's frames voted by text,
    # {text: [reads, best score]}; the winner and its agreement-boosted score.
    plate_text = models.CharField(max_length=16, blank=True, db_index=True)
    plate_score = models.FloatField(default=0.0)
    plate_reads = models.JSONField(default=dict, blank=True)
    # Names of the tenant's plate watchlists the plate matched (apps/alerts/watchlists.py).
    watchlists = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "events_cameraevent"  # the table it had before the move: none renamed
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-started_at"], name="camevent_tenant_time"),
            models.Index(fields=["camera", "-started_at"], name="camevent_camera_time"),
            models.Index(fields=["started_at"], name="camevent_started"),
        ]

    def __str__(self) -> str:
        return f"{self.label} on camera {self.camera_id} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    def set_zones(self, zones: list[str]) -> None:
        self.zones = sorted(zones)
        self.zone_index = zone_index(self.zones)

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class PlateWatchlist(models.Model):
    """A tenant's named list of plates ("residents", "banned"): a match marks the event and
    sends one ``plate.matched`` webhook per event and list."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="plate_watchlists"
    )
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="watchlist_tenant_name")
        ]

    def __str__(self) -> str:
        return f"watchlist {self.name} of tenant {self.tenant_id}"


class PlateWatchlistEntry(models.Model):
    """One plate on a watchlist: exact, or fuzzy (a read one character off matches too)."""

    watchlist = models.ForeignKey(PlateWatchlist, on_delete=models.CASCADE, related_name="entries")
    plate = models.CharField(max_length=16)  # normalised: upper case letters and digits
    fuzzy = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["watchlist", "plate"]
        constraints = [
            models.UniqueConstraint(fields=["watchlist", "plate"], name="watchlist_entry_plate")
        ]

    def __str__(self) -> str:
        return f"{self.plate} on {self.watchlist_id}"


class WebhookEndpoint(models.Model):
    """Where a tenant wants its camera events POSTed, signed the Standard Webhooks way."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    public_id = models.CharField(
        max_length=32, unique=True, default=new_endpoint_id, editable=False
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Kept readable: every delivery is signed with it. Shown to the user once, at creation.
    secret = models.CharField(max_length=64)
    # Filters; an empty list means "all".
    cameras = models.JSONField(default=list, blank=True)  # camera public ids
    labels = models.JSONField(default=list, blank=True)
    zones = models.JSONField(default=list, blank=True)
    event_types = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "events_webhookendpoint"  # the table it had before the move: none renamed
        ordering = ["tenant", "created_at"]

    def __str__(self) -> str:
        return f"{self.public_id} -> {self.url}"


class WebhookDelivery(models.Model):
    """One message for one endpoint, retried until it is accepted or gives up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    id = models.CharField(max_length=40, primary_key=True, default=new_message_id)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        CameraEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    event_type = models.CharField(max_length=32)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker holds the row while it sends, so the sweep and a queued task never both send.
    locked_until = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "events_webhookdelivery"  # the table it had before the move: none renamed
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.event_type}, {self.status})"


class DeliveryAttempt(models.Model):
    """The delivery log: one row per HTTP attempt."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    latency_ms = models.FloatField(default=0.0)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "events_deliveryattempt"  # the table it had before the move: none renamed
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"


# Video jobs and feedback keep their models in their packages (apps/alerts/video_jobs/models.py,
# apps/alerts/feedback/models.py); importing them here registers them with this app.
from apps.alerts.feedback.models import EventVerdict, LearnedArea  # noqa: E402,F401
from apps.alerts.video_jobs.models import (  # noqa: E402,F401
    VideoJob,
    VideoJobChunk,
    VideoJobEvent,
    VideoLimits,
)
