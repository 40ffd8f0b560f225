"""Who may see and change which tenant in the dashboard.

Every dashboard URL names its tenant (`/t/<slug>/...`), and every view resolves it through the
signed-in user's membership: a tenant the user is not a member of answers 404 exactly like one
that does not exist, so slugs reveal nothing. Changing things (keys, services, Try it) needs
the owner or admin role; viewers only look.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.tenants.models import Membership

MANAGING_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


def membership_of(user, slug: str) -> Membership | None:
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
            membership = membership_of(request.user, slug)
            if membership is None:
                return not_found(request)
            if manage and not can_manage(membership):
                return render(
                    request,
                    "dashboard/forbidden.html",
                    {"membership": membership, "tenant": membership.tenant},
                    status=403,
                )
            request.membership = membership
            request.tenant = membership.tenant
            request.session["tenant"] = slug  # where "/" takes this user next time
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
