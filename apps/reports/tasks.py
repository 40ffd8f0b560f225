"""The monthly report task, scheduled by Celery beat on the first of each month."""

from __future__ import annotations

from celery import shared_task

from apps.reports.monthly import build_monthly_reports
from apps.reports.usage import parse_month, previous_month, utc_today


@shared_task(name="reports.build_monthly_usage_reports", ignore_result=True)
def build_monthly_usage_reports(month: str | None = None) -> int:
    """Build every tenant's report for `month` (YYYY-MM), by default the month that just ended.

    Beat runs it at 00:15 UTC on the 1st: the usage drain moves events into the roll-ups every
    few seconds, so by then the closed month is complete. Re-running replaces the reports.
    """
    return build_monthly_reports(parse_month(month) if month else previous_month(utc_today()))


@shared_task(name="reports.build_dataset_export", ignore_result=True, acks_late=True)
def build_dataset_export(export_id: str) -> None:
    """Build one dataset export (apps/reports/datasets/jobs.py); a duplicate delivery of a job
    already claimed does nothing."""
    from apps.reports.datasets.jobs import run_export  # jobs.start_export imports this module

    run_export(export_id)
