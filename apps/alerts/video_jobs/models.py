"""Video jobs, their chunks and their events: rows of their own, so a job's events never show in
a camera's live event listings, webhooks or retention of live events."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class VideoJob(models.Model):
    """One stored clip analysed once, with the options it was asked with."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="video_jobs"
    )
    camera = models.ForeignKey(
        "cameras.Camera",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="video_jobs",
    )
    services = models.JSONField(default=list)
    sample_fps = models.FloatField(default=2.0)
    min_confidence = models.FloatField(null=True, blank=True)
    # Where the clip is; `stored_by_job`: we wrote it (an upload), so cancel and retention
    # delete it; a key the tenant named is theirs and stays.
    source_key = models.CharField(max_length=512)
    stored_by_job = models.BooleanField(default=False)
    file_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    # What the probe found.
    codec = models.CharField(max_length=32, blank=True)
    duration_s = models.FloatField(default=0.0)
    clip_fps = models.FloatField(default=0.0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    # Media seconds analysed: the sum of finished chunks, so it only grows.
    media_done_s = models.FloatField(default=0.0)
    # Media time where a truncated clip stopped decoding; null when it decoded to its end.
    cut_at_s = models.FloatField(null=True, blank=True)
    video_seconds = models.FloatField(default=0.0)  # metered on success
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="videojob_tenant_time")]

    def __str__(self) -> str:
        return f"video job {self.id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> float:
        if self.status == self.Status.SUCCEEDED:
            return 100.0
        if not self.duration_s:
            return 0.0
        return round(min(100.0, 100.0 * self.media_done_s / self.duration_s), 1)


class VideoJobChunk(models.Model):
    """A stretch of the clip one Celery task analyses: sampled frames `first_sample` up to (not
    including) `end_sample`. A worker holds it until `held_until` (renewed per batch); the sweep
    hands an expired one to another worker, so a killed worker loses only its chunk."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_sample = models.PositiveIntegerField()
    end_sample = models.PositiveIntegerField()
    start_s = models.FloatField()
    end_s = models.FloatField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    held_until = models.DateTimeField(default=timezone.now)
    # Per analysed frame: {"t": media s, "detections": [{"label", "score", "box", "zones"}]}.
    frames = models.JSONField(default=list, blank=True)
    # Decoding stopped early here (a truncated clip); null: the chunk decoded whole.
    cut_at_s = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="unique_video_job_chunk")
        ]

    def __str__(self) -> str:
        return f"chunk {self.index} of {self.job_id}"


class VideoJobEvent(models.Model):
    """One visit of one object in a clip, on media time (seconds from the clip's start)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="events")
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="video_job_events"
    )
    label = models.CharField(max_length=32)
    start_s = models.FloatField()
    end_s = models.FloatField()
    max_score = models.FloatField(default=0.0)
    zones = models.JSONField(default=list, blank=True)
    box = models.JSONField(default=list, blank=True)
    best_s = models.FloatField(default=0.0)
    plate = models.CharField(max_length=32, blank=True)
    snapshot_key = models.CharField(max_length=512, blank=True)

    class Meta:
        ordering = ["job", "start_s", "id"]

    def __str__(self) -> str:
        return f"{self.label} {self.start_s:.1f}-{self.end_s:.1f}s of {self.job_id}"


class VideoLimits(models.Model):
    """A tenant's own video limits; a missing row or empty field means the setting's default
    (IPCAI_VIDEO_MAX_CONCURRENT_JOBS, IPCAI_VIDEO_MAX_DURATION_S,
    IPCAI_VIDEO_MONTHLY_SECONDS)."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="video_limits"
    )
    max_concurrent_jobs = models.PositiveIntegerField(null=True, blank=True)
    max_duration_s = models.FloatField(null=True, blank=True)
    monthly_video_seconds = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"video limits of {self.tenant_id}"
