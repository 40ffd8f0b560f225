"""`manage.py usage_report --month YYYY-MM [--tenant SLUG] --format csv|json`.

Per tenant and service: requests, successes, errors, objects found and p50 / p95 latency of
the month (UTC), then the tenant's `all` row counting each API call once (a DeepStack call
runs, and shows under, every enabled service). Computed live from the usage tables (the
dashboard's stored monthly reports are the same numbers, frozen when the month closed).
`json` prints one object per line (JSON Lines) so scripts can stream it; `csv` prints a header
and one row per line.
"""

from __future__ import annotations

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.reports.usage import parse_month, report_csv, report_rows_by_tenant, utc_today
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Usage per tenant and service for one month (UTC), as CSV or JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: the current month, so far).")
        parser.add_argument("--tenant", help="Only this tenant's slug.")
        parser.add_argument("--format", choices=["csv", "json"], default="json")

    def handle(self, *args, **options) -> None:
        try:
            month = parse_month(options["month"]) if options["month"] else utc_today()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        month = month.replace(day=1)
        tenant_ids = None
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"no tenant {options['tenant']!r}")
            tenant_ids = [tenant.pk]
        rows = [row for rows in report_rows_by_tenant(month, tenant_ids).values() for row in rows]
        if options["format"] == "csv":
            self.stdout.write(report_csv(rows), ending="")
        else:
            for row in rows:
                self.stdout.write(orjson.dumps(row).decode())
