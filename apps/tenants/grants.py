"""What an API key grants, resolved once per request from a Redis-cached snapshot.

The hot path never writes to the database and reads it only on a cache miss. Every change to
a key, its tenant or the tenant's services deletes the affected snapshots (apps/tenants/signals.py),
so revocation and service changes take effect on the very next request.
"""

from __future__ import annotations

import time

import orjson
from django.conf import settings

from apps.core.grants import KeyGrant, KeyRejected, ServiceGrant
from apps.core.redis import get_redis, redis_key
from apps.tenants.keys import key_matches, public_id_of
from apps.tenants.models import ApiKey

# Unknown public ids are remembered briefly so a flood of bad keys does not hit the database.
NEGATIVE_TTL_S = 60


def cache_key(public_id: str) -> str:
    return redis_key("apikey", public_id)


def resolve_key(raw_key: str) -> KeyGrant:
    """The grant of a presented key, or KeyRejected (malformed, unknown, revoked, expired)."""
    public_id = public_id_of(raw_key)
    if public_id is None:
        raise KeyRejected("invalid_api_key", "The API key is not valid.")
    r = get_redis()
    cached = r.get(cache_key(public_id))
    if cached is None:
        entry = _load_entry(public_id)
        r.set(cache_key(public_id), orjson.dumps(entry), ex=_ttl(entry))
    else:
        entry = orjson.loads(cached)
    state = entry["state"]
    if state == "revoked":
        raise KeyRejected("revoked_api_key", "The API key was revoked.")
    if state != "active" or not key_matches(raw_key, entry["secret_hash"]):
        raise KeyRejected("invalid_api_key", "The API key is not valid.")
    expires_at = entry["expires_at"]
    if expires_at is not None and expires_at <= time.time():
        raise KeyRejected("expired_api_key", "The API key has expired; create a new one.")
    return KeyGrant(
        key_id=entry["key_id"],
        public_id=public_id,
        tenant_id=entry["tenant_id"],
        tenant_slug=entry["tenant_slug"],
        tenant_active=entry["tenant_active"],
        default_application_type=entry["default_application_type"],
        monthly_request_quota=entry["monthly_request_quota"],
        expires_at=expires_at,
        services={s["application_type"]: ServiceGrant(**s) for s in entry["services"]},
    )


def _ttl(entry: dict) -> int:
    return settings.IPCAI_KEY_CACHE_TTL_S if entry["state"] == "active" else NEGATIVE_TTL_S


def _load_entry(public_id: str) -> dict:
    key = ApiKey.objects.select_related("tenant").filter(public_id=public_id).first()
    if key is None:
        return {"state": "unknown"}
    if key.revoked_at is not None:
        return {"state": "revoked"}
    tenant = key.tenant
    return {
        "state": "active",
        "key_id": key.pk,
        "secret_hash": key.secret_hash,
        "expires_at": key.expires_at.timestamp() if key.expires_at else None,
        "tenant_id": tenant.pk,
        "tenant_slug": tenant.slug,
        "tenant_active": tenant.active,
        "default_application_type": tenant.default_application_type,
        "monthly_request_quota": tenant.monthly_request_quota,
        "services": [
            {
                "application_type": s.application_type,
                "enabled": s.enabled,
                "min_confidence": s.min_confidence,
                "save_request_events": s.save_request_events,
                "retention_days": s.retention_days,
                "tier": s.tier,
                "model": s.model.name if s.model_id else "",
            }
            for s in tenant.services.select_related("model")
        ],
    }


def forget_keys(public_ids: list[str]) -> None:
    """Drop cached snapshots so the next request reads the database again."""
    if public_ids:
        get_redis().delete(*(cache_key(p) for p in public_ids))


def forget_tenant(tenant_id: int) -> None:
    forget_keys(
        list(ApiKey.objects.filter(tenant_id=tenant_id).values_list("public_id", flat=True))
    )
