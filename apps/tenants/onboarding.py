"""The first way in: users with a generated password, and the demo tenant of `make run`.

A fresh install has no user who may open the dashboard; without these the operator had to
create a superuser and then add themself to a tenant through the admin, with nothing saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.crypto import get_random_string

from apps.core.grants import ALL_SCOPES
from apps.tenants.application_types import ApplicationType
from apps.tenants.models import Membership, Tenant
from apps.tenants.services import add_member, create_tenant, issue_api_key

DEMO_SLUG = "demo"
DEMO_USERNAME = "demo"
DEMO_SERVICES = (ApplicationType.PERSONS, ApplicationType.PETS, ApplicationType.VEHICLES)
# Letters and digits only: read off a terminal and typed into a sign-in form.
PASSWORD_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 16


def generate_password() -> str:
    return get_random_string(PASSWORD_LENGTH, PASSWORD_CHARS)


def create_user_with_password(
    username: str, *, email: str = "", staff: bool = False
) -> tuple[User, str]:
    """A new user and their generated password: show it once, only its hash is stored.
    `staff` makes an operator (admin site, every tenant), as createsuperuser would."""
    password = generate_password()
    user_model = get_user_model()
    if staff:
        user = user_model.objects.create_superuser(username, email, password)
    else:
        user = user_model.objects.create_user(username, email, password)
    return user, password


@dataclass(frozen=True)
class DemoSetup:
    """What the first `make run` prints, once: nothing of it can be shown again."""

    tenant: Tenant
    api_key: str
    username: str
    password: str | None  # None: the user existed before and keeps their password


@transaction.atomic
def set_up_demo() -> DemoSetup | None:
    """On a fresh database: the demo tenant (all three services), one API key, and its owner
    `demo`, who is also the local operator (staff) so the admin is one click away. None when
    the demo tenant exists already: a second run changes nothing."""
    if Tenant.objects.filter(slug=DEMO_SLUG).exists():
        return None
    tenant = create_tenant(DEMO_SLUG, name="Demo", services=DEMO_SERVICES)
    # All scopes, like create_tenant's first key: the newcomer tries `ipcai keys`, `usage` and
    # `events` with it, not only detection.
    _, api_key = issue_api_key(tenant, name="demo", scopes=sorted(ALL_SCOPES))
    user = get_user_model().objects.filter(username=DEMO_USERNAME).first()
    password = None
    if user is None:
        user, password = create_user_with_password(DEMO_USERNAME, staff=True)
    add_member(tenant, user, Membership.Role.OWNER)
    return DemoSetup(tenant=tenant, api_key=api_key, username=DEMO_USERNAME, password=password)
