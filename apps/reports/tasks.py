"""Celery tasks of the reports app: the monthly reports (beat, on the 1st of each month), and
the dataset export job (apps/reports/datasets/export_task.py, imported here so Celery's
autodiscovery registers it)."""

from __future__ import annotations

from celery import shared_task

from apps.reports.datasets import retention
from apps.reports.datasets.export_task import build_dataset_export
from apps.reports.monthly import build_monthly_reports
from apps.reports.usage import parse_month, previous_month, utc_today

__all__ = ["build_dataset_export", "build_monthly_usage_reports", "purge_expired_exports"]


@shared_task(name="reports.purge_expired_exports", ignore_result=True, acks_late=True)
def purge_expired_exports() -> int:
    """Exports past their retention: zip and row deleted (beat, hourly)."""
    return retention.purge_expired_exports()


@shared_task(name="reports.build_monthly_usage_reports", ignore_result=True)
def build_monthly_usage_reports(month: str | None = None) -> int:
    """Build every tenant's report for `month` (YYYY-MM), by default the month that just ended.

    Beat runs it at 00:15 UTC on the 1st: the usage drain moves events into the roll-ups every
    few seconds, so by then the closed month is complete. Re-running replaces the reports.
    """
    return build_monthly_reports(parse_month(month) if month else previous_month(utc_today()))
