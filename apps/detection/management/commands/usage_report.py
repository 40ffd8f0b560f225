"""`manage.py usage_report [--tenant SLUG] [--days N]`: daily usage per tenant and service,
one JSON object per line (for operators' scripts; the dashboard reads the same rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from django.core.management.base import BaseCommand, CommandParser

from apps.detection.models import DailyUsage


class Command(BaseCommand):
    help = "Print daily usage per tenant and service as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="Only this tenant's slug.")
        parser.add_argument("--days", type=int, default=31, help="How many days back (UTC).")

    def handle(self, *args, **options) -> None:
        since = datetime.now(UTC).date() - timedelta(days=options["days"] - 1)
        rows = DailyUsage.objects.filter(day__gte=since).select_related("tenant")
        if options["tenant"]:
            rows = rows.filter(tenant__slug=options["tenant"])
        for row in rows.order_by("day", "tenant__slug", "application_type"):
            line = {
                "day": row.day.isoformat(),
                "tenant": row.tenant.slug,
                "application_type": row.application_type,
                "requests": row.requests,
                "errors": row.errors,
                "objects_found": row.objects_found,
                "image_bytes": row.image_bytes,
                "mean_latency_ms": round(row.mean_latency_ms, 2),
            }
            self.stdout.write(orjson.dumps(line).decode())
