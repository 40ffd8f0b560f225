"""The one base view of every tenant-key API (keys, usage, cameras, camera events, webhooks,
the request archive, exports): the key resolves to its tenant once, the tenant must be active,
and the key must carry the view's scope.

Like healthchecks' `hc/api/decorators.py`, authentication and the scope check are written once;
each API view only names its scopes. Every query of a subclass filters on ``self.tenant_id``:
another tenant's object answers 404, exactly like an unknown one.
"""

from __future__ import annotations

from typing import ClassVar

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.views import APIView

from apps.core.auth import ActiveTenantKey, ApiKeyAuthentication, RequireScope
from apps.core.grants import SCOPE_MANAGE, KeyGrant


class TenantKeyView(APIView):
    # No class docstring: drf-spectacular would show it as every operation's description.
    # `scopes`: the key needs one of them for reading (GET, HEAD, OPTIONS); an empty tuple lets
    # any key of the tenant read. `write_scopes`: the same for changes, None meaning `scopes`.
    # `extra_permissions` run after the tenant check and before the scope check.

    authentication_classes = [ApiKeyAuthentication]
    scopes: ClassVar[tuple[str, ...]] = (SCOPE_MANAGE,)
    write_scopes: ClassVar[tuple[str, ...] | None] = None
    extra_permissions: ClassVar[tuple[type[BasePermission], ...]] = ()

    def get_permissions(self) -> list[BasePermission]:
        reading = self.request.method in SAFE_METHODS
        scopes = self.scopes if reading or self.write_scopes is None else self.write_scopes
        classes: list[type[BasePermission]] = [ActiveTenantKey, *self.extra_permissions]
        if scopes:
            classes.append(RequireScope(*scopes))
        return [permission() for permission in classes]

    @property
    def grant(self) -> KeyGrant:
        """The request's key grant (set by the authentication, checked by the permissions)."""
        grant = self.request.auth
        assert isinstance(grant, KeyGrant)  # ActiveTenantKey refused the request otherwise
        return grant

    @property
    def tenant_id(self) -> int:
        return self.grant.tenant_id
