"""Monthly usage reports, built once a month by Celery beat and kept for download.

A stored report is a snapshot of a closed month: the dashboard and the operator hand out the
same numbers every time, even after usage events age out or a late drain adds a straggler.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

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
        return sum(row["requests"] for row in self.rows)

    @property
    def errors(self) -> int:
        return sum(row["errors"] for row in self.rows)
