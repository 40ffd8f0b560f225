"""What an API key grants, as plain values: the shape every floor reads from `request.auth`.

The tenants app fills these from its models (apps/tenants/grants.py); everything above only
reads them, so nothing needs the tenants app's models to decide what a request may do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCOPE_DETECT = "detect"
SCOPE_EVENTS_READ = "events:read"
SCOPE_MANAGE = "manage"
ALL_SCOPES: frozenset[str] = frozenset({SCOPE_DETECT, SCOPE_EVENTS_READ, SCOPE_MANAGE})
SCOPE_ORDER = (SCOPE_DETECT, SCOPE_EVENTS_READ, SCOPE_MANAGE)  # how lists show them


# KeyRejected's code when a resolver asked for cached grants only had none cached for the key.
NOT_CACHED = "not_cached"


class KeyRejected(Exception):
    """The presented key does not authenticate; `code` says why (shown to the client)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ServiceGrant:
    application_type: str
    enabled: bool
    min_confidence: float
    save_request_events: bool
    retention_days: int
    tier: str = ""  # accuracy tier; apps/tenants/model_tiers.py maps it to a model
    model: str = ""  # a specific (tenant) model's name, winning over the tier


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """A key's tenant and services as of the last cache fill; rides on `request.auth`.

    `key_id` is None only for callers without a key of their own (the dashboard's Try it,
    signed in by session), which never reach the key-management API."""

    key_id: int | None
    public_id: str
    tenant_id: int
    tenant_slug: str
    tenant_active: bool
    default_application_type: str
    monthly_request_quota: int | None
    expires_at: float | None
    services: dict[str, ServiceGrant]
    scopes: frozenset[str] = field(default=ALL_SCOPES)
    # What the tenant blurs in stored images ("faces", "plates"; docs/PRIVACY.md).
    redact: frozenset[str] = frozenset()

    def enabled_services(self) -> list[str]:
        return [name for name, svc in self.services.items() if svc.enabled]

    def service(self, application_type: str) -> ServiceGrant | None:
        svc = self.services.get(application_type)
        return svc if svc and svc.enabled else None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
