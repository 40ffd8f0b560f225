"""Who may see and change which tenant in the dashboard.

Every dashboard URL names its tenant (`/t/<slug>/...`), and every view resolves it through the
signed-in user's membership: a tenant the user is not a member of answers 404 exactly like one
that does not exist, so slugs reveal nothing. Changing things (keys, services, Try it) needs
the owner or admin role; viewers only look.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.tenants.models import Membership, Tenant

MANAGING_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


class SignedInRequest(HttpRequest):
    """A `login_required` view's request, for its annotations: the user is signed in."""

    user: User


class TenantRequest(SignedInRequest):
    """What a `tenant_page` view is handed, for its annotations: the same HttpRequest, signed
    in, with the membership and tenant the decorator set."""

    membership: Membership
    tenant: Tenant


def membership_of(user: User, slug: str) -> Membership | None:
    return Membership.objects.select_related("tenant").filter(user=user, tenant__slug=slug).first()


def can_manage(membership: Membership) -> bool:
    return membership.role in MANAGING_ROLES


def not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/not_found.html", status=404)


def tenant_page(manage: bool = False) -> Callable:
    """Sign-in required; the view gets `request.membership` and `request.tenant`.

    Non-members get 404; with `manage=True`, viewers get 403.
    """

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
            # Signed in (login_required); membership and tenant are set below.
            tenant_request = cast(TenantRequest, request)
            membership = membership_of(tenant_request.user, slug)
            if membership is None:
                return not_found(request)
            if manage and not can_manage(membership):
                return render(
                    request,
                    "dashboard/forbidden.html",
                    {"membership": membership, "tenant": membership.tenant},
                    status=403,
                )
            tenant_request.membership = membership
            tenant_request.tenant = membership.tenant
            request.session["tenant"] = slug  # where "/" takes this user next time
            return view(tenant_request, *args, **kwargs)

        return wrapped

    return decorator
