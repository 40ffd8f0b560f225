"""Monthly usage reports, dataset export jobs, evaluation sets and model evaluations.

A stored report is a snapshot of a closed month: the dashboard and the operator hand out the
same numbers every time, even after usage events age out or a late drain adds a straggler.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.reports.datasets.formats import FORMAT_LABELS
from apps.reports.usage import ALL_SERVICES
from apps.tenants.models import Tenant


class MonthlyUsageReport(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="monthly_reports")
    month = models.DateField(help_text="First day of the reported calendar month (UTC).")
    generated_at = models.DateTimeField(default=timezone.now)
    # One dict per service, the fields of apps.reports.usage.REPORT_FIELDS.
    rows = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-month", "tenant"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"], name="unique_monthly_report"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.month:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def requests(self) -> int:
        return self._all_services("requests")

    @property
    def errors(self) -> int:
        return self._all_services("errors")

    def _all_services(self, field: str) -> int:
        """The `all` row's count (each API call once); reports built before it existed sum
        their service rows."""
        for row in self.rows:
            if row["application_type"] == ALL_SERVICES:
                return row[field]
        return sum(row[field] for row in self.rows)


class DatasetExport(models.Model):
    """A dataset export job of archived frames (apps/reports/datasets): its filters, progress,
    and, once built, the zip's key in the archive storage."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="dataset_exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    format = models.CharField(max_length=16)
    spec = models.JSONField(default=dict, help_text="The filters (ExportSpec.to_json).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    images = models.PositiveIntegerField(default=0)
    annotations = models.PositiveIntegerField(default=0)
    scanned = models.PositiveIntegerField(default=0)
    candidates = models.PositiveIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0)
    storage_key = models.CharField(max_length=512, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tenant} {self.format} export ({self.status})"

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS.get(self.format, self.format)

    @property
    def expires_at(self) -> datetime | None:
        """When the finished export (its zip and this row) is deleted; None while it runs."""
        if self.finished_at is None:
            return None
        return self.finished_at + timedelta(days=settings.IPCAI_EXPORT_RETENTION_DAYS)

    @property
    def progress(self) -> float:
        """0..1: frames scanned of the candidates, or frames written of the sample size."""
        if self.status == self.Status.DONE:
            return 1.0
        fractions = [self.scanned / self.candidates] if self.candidates else [0.0]
        sample_size = (self.spec or {}).get("sample_size")
        if sample_size:
            fractions.append(self.images / sample_size)
        return round(min(1.0, max(fractions)), 3)


class EvaluationSet(models.Model):
    """Reviewed ground truth (COCO) and its images, in the archive storage under
    `evaluation/<tenant>/<name>/`: a tenant's own frames to score models on."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="evaluation_sets")
    name = models.SlugField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    images = models.PositiveIntegerField(default=0)
    annotations = models.PositiveIntegerField(default=0)
    categories = models.JSONField(default=list)

    class Meta:
        ordering = ["tenant", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="unique_evaluation_set"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant}/{self.name}"

    @property
    def storage_prefix(self) -> str:
        return f"evaluation/{self.tenant.slug}/{self.name}"


class ModelEvaluation(models.Model):
    """One model's scores on one evaluation set, per service (apps/reports/evaluation)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="model_evaluations")
    evaluation_set = models.ForeignKey(
        EvaluationSet, on_delete=models.CASCADE, related_name="evaluations"
    )
    model = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    images = models.PositiveIntegerField(default=0)
    cpu_ms_per_image = models.FloatField(default=0.0)
    # One dict per service: metrics.ServiceScore.as_dict().
    services = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.model} on {self.evaluation_set}"

    def as_dict(self) -> dict:
        return {
            "tenant": self.evaluation_set.tenant.slug,
            "set": self.evaluation_set.name,
            "model": self.model,
            "images": self.images,
            "cpu_ms_per_image": self.cpu_ms_per_image,
            "created_at": self.created_at.isoformat(),
            "services": self.services,
        }


class ErasureRequest(models.Model):
    """One erasure (docs/PRIVACY.md): what was asked, by whom, and what was removed. The row is
    the audit log's entry and is never deleted with the data it erased."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="erasure_requests")
    camera = models.CharField(max_length=32, blank=True, help_text="Camera public id; empty: all.")
    since = models.DateTimeField()
    until = models.DateTimeField()
    # Who asked: "key <public id>" for the API, "user <username>" for the dashboard.
    requested_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    removed = models.JSONField(default=dict, blank=True)  # counts per kind
    not_removed = models.JSONField(default=list, blank=True)  # [{kind, id, reason}]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tenant} erasure {self.since:%Y-%m-%d %H:%M}..{self.until:%H:%M}"
