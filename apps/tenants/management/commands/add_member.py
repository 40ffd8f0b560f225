"""`manage.py add_member TENANT USER --role owner`: let a user into a tenant's dashboard."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tenants.models import Membership, Tenant
from apps.tenants.onboarding import create_user_with_password
from apps.tenants.services import add_member


class Command(BaseCommand):
    help = (
        "Make USER a member of TENANT with a role (owner and admin change settings and keys, "
        "viewer only looks). An existing membership gets the new role."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("user", help="username")
        parser.add_argument(
            "--role", choices=Membership.Role.values, default=Membership.Role.VIEWER
        )
        parser.add_argument(
            "--create",
            action="store_true",
            help="create the user when missing, with a generated password printed once",
        )
        parser.add_argument("--email", default="", help="with --create: the user's email")

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(
                f"no tenant {options['tenant']!r} (manage.py create_tenant makes one)"
            )
        username = options["user"]
        user = get_user_model().objects.filter(username=username).first()
        password = None
        if user is None:
            if not options["create"]:
                raise CommandError(
                    f"no user {username!r}: add --create to make one with a generated password"
                )
            user, password = create_user_with_password(username, email=options["email"])
        membership = add_member(tenant, user, options["role"])
        self.stdout.write(f"{username} is now {membership.role} of {tenant.slug!r}.")
        if password is not None:
            self.stdout.write(f"Password for {username} (shown only once): {password}")
