"""`manage.py create_tenant SLUG --services persons-detection,pets-detection`: prints a key once.

The tenant's first key has every scope by default: it is the one its owner creates the
others with (narrower camera keys, through the keys API or `ipcai keys create`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from apps.core.grants import SCOPE_ORDER
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import create_tenant, issue_api_key


class Command(BaseCommand):
    help = "Create a tenant with the given services and print a new API key (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--services",
            default=ApplicationType.PERSONS.value,
            help="Comma-separated application types; the first is the default service.",
        )
        parser.add_argument(
            "--quota",
            type=int,
            default=None,
            help="Monthly request quota (default: IPCAI_DEFAULT_MONTHLY_QUOTA).",
        )
        parser.add_argument("--key-name", default="default")
        parser.add_argument(
            "--scopes",
            default=",".join(SCOPE_ORDER),
            help="Comma-separated scopes of the first key (default: all).",
        )

    def handle(self, *args, **options) -> None:
        services = [s.strip() for s in options["services"].split(",") if s.strip()]
        try:
            tenant = create_tenant(
                options["slug"],
                name=options["name"],
                services=services,
                monthly_request_quota=options["quota"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except IntegrityError:
            raise CommandError(f"tenant {options['slug']!r} already exists") from None
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            _, raw_key = issue_api_key(tenant, name=options["key_name"], scopes=scopes)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created tenant {tenant.slug!r} with services: {', '.join(services)}\n"
            "API key (shown only once; store it now):"
        )
        self.stdout.write(raw_key)
