"""`manage.py issue_api_key SLUG [--name N] [--expires-in-days D] [--scopes S,...]`: prints a
new key once (detect only unless --scopes says more)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.core.grants import SCOPE_DETECT, SCOPE_ORDER
from apps.tenants.models import Tenant
from apps.tenants.services import issue_api_key


class Command(BaseCommand):
    help = "Issue a new API key for an existing tenant and print it (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--expires-in-days", type=int, default=None)
        parser.add_argument(
            "--scopes",
            default=SCOPE_DETECT,
            help=f"Comma-separated scopes: {', '.join(SCOPE_ORDER)} (default: detect).",
        )

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['slug']!r}")
        days = options["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            _, raw_key = issue_api_key(
                tenant, name=options["name"], expires_at=expires_at, scopes=scopes
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"API key for {tenant.slug!r} (shown only once; store it now):")
        self.stdout.write(raw_key)
