"""`manage.py redaction TENANT --faces --plates [--require]`: what a tenant's stored images
have blurred (docs/PRIVACY.md). Without --require it is the owner's choice (refused when it
would turn off what the operator requires); with it, the operator's requirement."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tenants.models import Tenant
from apps.tenants.redaction import RedactionRequired, set_owner_redaction, set_required_redaction


class Command(BaseCommand):
    help = "Set which kinds (faces, plates) are blurred in a tenant's stored images."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("--faces", action="store_true", help="blur faces")
        parser.add_argument("--plates", action="store_true", help="blur licence plates")
        parser.add_argument(
            "--require", action="store_true", help="the operator's requirement (owners keep it)"
        )

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['tenant']!r}")
        setter = set_required_redaction if options["require"] else set_owner_redaction
        try:
            kinds = setter(tenant, faces=options["faces"], plates=options["plates"])
        except RedactionRequired as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{tenant.slug}: stored images blur {', '.join(sorted(kinds)) or 'nothing'}"
        )
