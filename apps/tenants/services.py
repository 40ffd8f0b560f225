"""Every state change of tenants, keys and services, as plain functions.

The management commands, the admin and the dashboard call these; each runs in one transaction
and leaves the API-key cache coherent (see signals.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.core.grants import ALL_SCOPES, SCOPE_ORDER
from apps.tenants.application_types import ApplicationType, is_application_type, valid_types_text
from apps.tenants.keys import generate_key, hash_key
from apps.tenants.models import ApiKey, Membership, Tenant, TenantService, default_key_scopes

# Bounds what a leaked key (or a careless script) can do: keys cannot be minted without limit.
MAX_ACTIVE_KEYS_PER_TENANT = 100


class TooManyKeys(ValueError):
    """The tenant already has MAX_ACTIVE_KEYS_PER_TENANT usable keys."""


class KeyNotAllowed(ValueError):
    """A key asked for a key it may not make (`code` says why, for the API's error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def checked_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes in documented order; ValueError for none or an unknown one."""
    wanted = set(scopes)
    unknown = wanted - ALL_SCOPES
    if unknown:
        raise ValueError(f"unknown scope {sorted(unknown)[0]!r}; valid: {', '.join(SCOPE_ORDER)}")
    if not wanted:
        raise ValueError(f"a key needs at least one scope: {', '.join(SCOPE_ORDER)}")
    return [scope for scope in SCOPE_ORDER if scope in wanted]


@transaction.atomic
def create_tenant(
    slug: str,
    *,
    name: str = "",
    services: Iterable[str] = (ApplicationType.PERSONS,),
    default_application_type: str | None = None,
    monthly_request_quota: int | None = None,
    owner: User | None = None,
) -> Tenant:
    """A new active tenant with the given services enabled (the first is the default). Without
    a quota it gets the deployment's IPCAI_DEFAULT_MONTHLY_QUOTA (none: unlimited)."""
    if monthly_request_quota is None:
        monthly_request_quota = settings.IPCAI_DEFAULT_MONTHLY_QUOTA
    services = list(dict.fromkeys(services))
    _check_types(services)
    if slugify(slug) != slug or not slug:
        raise ValueError(f"invalid slug {slug!r}: use lowercase letters, digits and hyphens")
    default = default_application_type or (services[0] if services else ApplicationType.PERSONS)
    _check_types([default])
    tenant = Tenant.objects.create(
        slug=slug,
        name=name or slug,
        default_application_type=default,
        monthly_request_quota=monthly_request_quota,
    )
    for application_type in services:
        enable_service(tenant, application_type)
    if owner is not None:
        add_member(tenant, owner, Membership.Role.OWNER)
    return tenant


def add_member(tenant: Tenant, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    return membership


def issue_api_key(
    tenant: Tenant,
    *,
    name: str = "",
    created_by: User | None = None,
    expires_at: datetime | None = None,
    scopes: Iterable[str] | None = None,
) -> tuple[ApiKey, str]:
    """A new key for the tenant, and the full key string: show it once, it is not stored.

    `scopes` default to detect only (models.default_key_scopes). Raises TooManyKeys at the
    active-key cap, whoever asks (API, dashboard, admin, command), ValueError for bad scopes."""
    scopes = checked_scopes(default_key_scopes() if scopes is None else scopes)
    if tenant.api_keys.usable().count() >= MAX_ACTIVE_KEYS_PER_TENANT:
        raise TooManyKeys(
            f"A tenant may have at most {MAX_ACTIVE_KEYS_PER_TENANT} active keys; "
            "revoke unused ones first."
        )
    public_id, raw_key = generate_key()
    key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        public_id=public_id,
        secret_hash=hash_key(raw_key),
        created_by=created_by,
        expires_at=expires_at,
        scopes=scopes,
    )
    return key, raw_key


def issue_api_key_for_key(
    tenant: Tenant,
    *,
    own_scopes: frozenset[str],
    own_expires_at: datetime | None,
    name: str = "",
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A key minted by another key (the keys API): never broader, never longer-lived.

    Its scopes must be a subset of the minting key's; its expiry no later than the minting
    key's, which it inherits when none is asked for. Otherwise a leaked key could mint an
    immortal full-access one and outlive its own revocation plans."""
    wanted = checked_scopes(default_key_scopes() if scopes is None else scopes)
    broader = [scope for scope in wanted if scope not in own_scopes]
    if broader:
        raise KeyNotAllowed(
            "scope_not_allowed",
            f"This key cannot grant {', '.join(broader)}: a key can only create keys with "
            f"scopes it has itself ({', '.join(s for s in SCOPE_ORDER if s in own_scopes)}).",
        )
    if own_expires_at is not None:
        if expires_at is None:
            expires_at = own_expires_at
        elif expires_at > own_expires_at:
            raise KeyNotAllowed(
                "expiry_not_allowed",
                f"This key expires at {own_expires_at.isoformat()}; it cannot create a key "
                "that lives longer.",
            )
    return issue_api_key(tenant, name=name, expires_at=expires_at, scopes=wanted)


def set_key_scopes(key: ApiKey, scopes: Iterable[str]) -> ApiKey:
    """Change what a key may do (the dashboard's narrowing); its next request sees it."""
    key.scopes = checked_scopes(scopes)
    key.save(update_fields=["scopes"])
    return key


def revoke_api_key(key: ApiKey) -> ApiKey:
    """Revoke a key; its next request gets 401 (the cached grant is dropped on save)."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


@transaction.atomic
def enable_service(
    tenant: Tenant,
    application_type: str,
    *,
    min_confidence: float | None = None,
    save_request_events: bool | None = None,
    retention_days: int | None = None,
) -> TenantService:
    """Enable (or re-enable) a service, optionally changing its settings. New services archive
    request events per IPCAI_DEFAULT_SAVE_REQUEST_EVENTS; only IPCAI_OFFERED_SERVICES exist."""
    check_service_offered(application_type)
    service, _ = TenantService.objects.get_or_create(
        tenant=tenant,
        application_type=application_type,
        defaults={"save_request_events": settings.IPCAI_DEFAULT_SAVE_REQUEST_EVENTS},
    )
    service.enabled = True
    return update_service(
        service,
        min_confidence=min_confidence,
        save_request_events=save_request_events,
        retention_days=retention_days,
    )


def disable_service(tenant: Tenant, application_type: str) -> None:
    for service in TenantService.objects.filter(tenant=tenant, application_type=application_type):
        service.enabled = False
        service.save(update_fields=["enabled"])


def update_service(
    service: TenantService,
    *,
    min_confidence: float | None = None,
    save_request_events: bool | None = None,
    retention_days: int | None = None,
) -> TenantService:
    if min_confidence is not None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        service.min_confidence = min_confidence
    if save_request_events is not None:
        service.save_request_events = save_request_events
    if retention_days is not None:
        service.retention_days = retention_days
    service.full_clean()
    service.save()
    return service


def set_tenant_active(tenant: Tenant, active: bool) -> Tenant:
    tenant.active = active
    tenant.save(update_fields=["active"])
    return tenant


def set_monthly_quota(tenant: Tenant, quota: int | None) -> Tenant:
    tenant.monthly_request_quota = quota
    tenant.save(update_fields=["monthly_request_quota"])
    return tenant


def set_default_application_type(tenant: Tenant, application_type: str) -> Tenant:
    _check_types([application_type])
    tenant.default_application_type = application_type
    tenant.save(update_fields=["default_application_type"])
    return tenant


def record_keys_last_used(last_used: dict[int, datetime]) -> int:
    """Store when keys were last used (batched by the usage drain, never per request)."""
    updated = 0
    for key_id, when in last_used.items():
        # A plain update: no save() signal, so the cached grant stays warm.
        updated += ApiKey.objects.filter(pk=key_id).update(last_used_at=when)
    return updated


def check_service_offered(application_type: str) -> None:
    """Only the services this deployment offers (IPCAI_OFFERED_SERVICES) can be enabled."""
    _check_types([application_type])
    if application_type not in settings.IPCAI_OFFERED_SERVICES:
        raise ValueError(f"{application_type} is not offered by this deployment")


def _check_types(application_types: Iterable[str]) -> None:
    for application_type in application_types:
        if not is_application_type(application_type):
            raise ValueError(
                f"unknown application type {application_type!r}; valid: {valid_types_text()}"
            )
