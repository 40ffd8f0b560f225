"""`manage.py archive_requests SLUG --services persons-detection --on --retention-days 30`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tenants.models import Tenant, TenantService
from apps.tenants.services import update_service


class Command(BaseCommand):
    help = "Switch request-event archiving on or off for a tenant's services, set retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--services", default="", help="Comma-separated application types (default: all)."
        )
        switch = parser.add_mutually_exclusive_group()
        switch.add_argument("--on", dest="save", action="store_true", default=None)
        switch.add_argument("--off", dest="save", action="store_false")
        parser.add_argument("--retention-days", type=int, default=None)

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['slug']!r}")
        wanted = [s.strip() for s in options["services"].split(",") if s.strip()]
        services = TenantService.objects.filter(tenant=tenant)
        if wanted:
            services = services.filter(application_type__in=wanted)
            missing = set(wanted) - set(services.values_list("application_type", flat=True))
            if missing:
                raise CommandError(f"{tenant.slug} has no service {', '.join(sorted(missing))}")
        if options["retention_days"] is not None and options["retention_days"] < 0:
            raise CommandError("--retention-days must be 0 (keep) or more")
        for service in services:
            update_service(
                service,
                save_request_events=options["save"],
                retention_days=options["retention_days"],
            )
            state = "on" if service.save_request_events else "off"
            self.stdout.write(
                f"{tenant.slug} {service.application_type}: archiving {state}, "
                f"retention {service.retention_days} days"
            )
