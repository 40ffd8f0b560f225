"""Usage events (one per API request) and their daily roll-ups per tenant and service.

Rows are written in batches by the usage drain (apps/usage/metering.py), never on the
request path.
"""

from __future__ import annotations

from django.db import models

from apps.tenants.models import ApiKey, Tenant


class UsageEvent(models.Model):
    class Endpoint(models.TextChoices):
        SEED = "seed", "POST /inference"
        NATIVE = "native", "POST /api/v1/detect/{application_type}"
        DEEPSTACK = "deepstack", "POST /v1/vision/detection"

    created_at = models.DateTimeField(db_index=True)
    # Unique: each request is stored once, even by two drains at the same moment (two beats
    # during a deploy) holding two copies of one event (metering.py, `store_events`).
    request_id = models.CharField(max_length=32, unique=True)
    # Null for requests that presented no valid key: they belong to no tenant.
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="usage_events"
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage_events"
    )
    # Comma-separated: a DeepStack call runs every enabled service in one inference (all three
    # are 51 characters; PostgreSQL refuses what SQLite would silently keep).
    application_type = models.CharField(max_length=128, blank=True)
    endpoint = models.CharField(max_length=16, choices=Endpoint.choices)
    status_code = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=64, blank=True)
    latency_ms = models.FloatField()
    objects_found = models.PositiveIntegerField(default=0)
    image_bytes = models.PositiveIntegerField(default=0)
    # The worker model(s) that answered, comma-separated like application_type.
    model = models.CharField(max_length=128, blank=True)
    # The public id of the request's camera (apps/cameras), kept as text like api_key_id in the
    # archive: a deleted camera's usage stays in its history.
    camera = models.CharField(max_length=32, blank=True)

    class Meta:
        db_table = "detection_usageevent"  # kept from apps/detection: no table renamed
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.tenant_id} {self.status_code}"


class DailyUsage(models.Model):
    """Per tenant, service and UTC day: the numbers reports and quotas are read from.

    `requests` counts the requests that ran this service: a DeepStack call runs every enabled
    service and so counts under each. `calls` counts each API call once, booked on its first
    service, so a tenant's calls summed over its services are its requests as the quota and
    billing count them (one call, one request).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="daily_usage")
    application_type = models.CharField(max_length=32, blank=True)
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    objects_found = models.PositiveBigIntegerField(default=0)
    image_bytes = models.PositiveBigIntegerField(default=0)
    latency_ms_total = models.FloatField(default=0.0)
    calls = models.PositiveIntegerField(default=0)
    failed_calls = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "detection_dailyusage"  # kept from apps/detection: no table renamed
        ordering = ["-day", "tenant", "application_type"]
        verbose_name_plural = "daily usage"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "application_type", "day"], name="unique_daily_usage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.application_type} {self.day}: {self.requests}"

    @property
    def mean_latency_ms(self) -> float:
        return self.latency_ms_total / self.requests if self.requests else 0.0


class DailyVideoUsage(models.Model):
    """Video seconds analysed by stored-video jobs, per tenant, service and UTC day: a unit of
    its own beside requests (a two-hour clip is not one request), read by reports and the
    tenant's monthly video quota. Written once per finished job, not per frame."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="daily_video_usage")
    application_type = models.CharField(max_length=32, blank=True)
    day = models.DateField()
    jobs = models.PositiveIntegerField(default=0)
    video_seconds = models.FloatField(default=0.0)
    frames = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "tenant", "application_type"]
        verbose_name_plural = "daily video usage"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "application_type", "day"], name="unique_daily_video_usage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.application_type} {self.day}: {self.video_seconds:.0f} s"
