"""What an API key grants, resolved once per request from a Redis-cached snapshot.

The hot path never writes to the database and reads it only on a cache miss. Every change to
a key, its tenant or the tenant's services deletes the affected snapshots (apps/tenants/signals.py),
so revocation and service changes take effect on the very next request.

A fill that read the key before a revocation must not write its stale snapshot after the
revocation dropped the cached one (the key would work for the cache TTL). So every drop also
bumps the key's generation, and a fill writes only if the generation is still the one it saw
before reading the database (one Lua script: compare and set).

While Redis is down (apps/core/breaker.py) keys are checked against the database: the same
entry, from the same query, held in this process for IPCAI_KEY_FALLBACK_CACHE_S (5 s) so a
camera burst costs one query per key per interval. That interval is the bound within which a
key revoked (or a tenant suspended, a service disabled) during an outage is refused; an
expired key is refused at once (its expiry travels with the entry). Revocations made while
Redis was down cannot drop the Redis snapshot: signals.py retries that when Redis is back.
"""

from __future__ import annotations

import threading
import time
from functools import cache

import orjson
from django.conf import settings
from redis.commands.core import Script
from redis.exceptions import RedisError

from apps.core.forgetting import forget
from apps.core.grants import ALL_SCOPES, NOT_CACHED, KeyGrant, KeyRejected, ServiceGrant
from apps.core.redis import get_redis, redis_breaker, redis_key, reply_text
from apps.tenants.keys import key_matches, public_id_of
from apps.tenants.models import ApiKey

# Unknown public ids are remembered briefly so a flood of bad keys does not hit the database.
NEGATIVE_TTL_S = 60
# Generations outlive any cache fill by far; they expire so revoked keys leave nothing behind.
GENERATION_TTL_S = 30 * 86400

# KEYS[1] snapshot, KEYS[2] generation; ARGV[1] snapshot, ARGV[2] ttl, ARGV[3] the generation
# seen before the database read. Writes only if no invalidation happened since.
_FILL = """
local generation = redis.call('GET', KEYS[2]) or '0'
if generation ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


@cache
def _fill_script() -> Script:
    return get_redis().register_script(_FILL)


def cache_key(public_id: str) -> str:
    return redis_key("apikey", public_id)


def generation_key(public_id: str) -> str:
    return redis_key("apikey-gen", public_id)


def resolve_key(raw_key: str, *, cached_only: bool = False) -> KeyGrant:
    """The grant of a presented key, or KeyRejected (malformed, unknown, revoked, expired).

    With `cached_only` (the client IP is past its failure limit) a key whose snapshot is not
    cached is rejected without reading the database. Revoked is said only to a caller that
    presents the right secret: a stranger cannot learn which public ids were revoked."""
    public_id = public_id_of(raw_key)
    if public_id is None:
        raise KeyRejected("invalid_api_key", "The API key is not valid.")
    try:
        entry = _entry_from_redis(public_id, cached_only)
    except RedisError:
        entry = _entry_without_redis(public_id, cached_only)
    return _grant(raw_key, public_id, entry)


def _entry_from_redis(public_id: str, cached_only: bool) -> dict:
    r = get_redis()
    cached = r.get(cache_key(public_id))
    if cached is not None:
        return orjson.loads(cached)
    if cached_only:
        raise KeyRejected(NOT_CACHED, "The API key was not checked.")
    generation = reply_text(r.get(generation_key(public_id)) or b"0")
    entry = _load_entry(public_id)
    _fill_script()(
        keys=[cache_key(public_id), generation_key(public_id)],
        args=[orjson.dumps(entry), _ttl(entry), generation],
        client=r,
    )
    return entry


_fallback_entries: dict[str, tuple[dict, float]] = {}  # public id -> (entry, read at)
_fallback_lock = threading.Lock()
FALLBACK_MAX_KEYS = 10_000  # past this, expired entries go, then all (a flood of made-up ids)


def _entry_without_redis(public_id: str, cached_only: bool) -> dict:
    """The key's entry from this process's short cache, else from the database."""
    now = time.monotonic()
    held = _fallback_entries.get(public_id)
    if held is not None and now - held[1] < settings.IPCAI_KEY_FALLBACK_CACHE_S:
        redis_breaker().record_fallback("api_key")
        return held[0]
    if cached_only and held is None:
        # A key this process has read before is read again even for a blocked IP, as a key
        # cached in Redis would be: a valid camera behind a guesser's NAT is not locked out.
        raise KeyRejected(NOT_CACHED, "The API key was not checked.")
    redis_breaker().record_fallback("api_key")
    entry = _load_entry(public_id)
    with _fallback_lock:
        if len(_fallback_entries) >= FALLBACK_MAX_KEYS:
            ttl = settings.IPCAI_KEY_FALLBACK_CACHE_S
            for stale in [p for p, (_, at) in _fallback_entries.items() if now - at >= ttl]:
                del _fallback_entries[stale]
            if len(_fallback_entries) >= FALLBACK_MAX_KEYS:
                _fallback_entries.clear()
        _fallback_entries[public_id] = (entry, now)
    return entry


def _grant(raw_key: str, public_id: str, entry: dict) -> KeyGrant:
    state = entry["state"]
    if state not in ("active", "revoked") or not key_matches(raw_key, entry["secret_hash"]):
        raise KeyRejected("invalid_api_key", "The API key is not valid.")
    if state == "revoked":
        raise KeyRejected("revoked_api_key", "The API key was revoked.")
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
        # Snapshots cached before scopes existed belong to keys migrated to all scopes.
        scopes=frozenset(entry.get("scopes", ALL_SCOPES)),
        redact=frozenset(entry.get("redact", ())),
    )


def _ttl(entry: dict) -> int:
    return settings.IPCAI_KEY_CACHE_TTL_S if entry["state"] == "active" else NEGATIVE_TTL_S


def _load_entry(public_id: str) -> dict:
    key = ApiKey.objects.select_related("tenant").filter(public_id=public_id).first()
    if key is None:
        return {"state": "unknown"}
    if key.revoked_at is not None:
        return {"state": "revoked", "secret_hash": key.secret_hash}
    tenant = key.tenant
    return {
        "state": "active",
        "key_id": key.pk,
        "secret_hash": key.secret_hash,
        "expires_at": key.expires_at.timestamp() if key.expires_at else None,
        "scopes": list(key.scopes),
        "tenant_id": tenant.pk,
        "tenant_slug": tenant.slug,
        "tenant_active": tenant.active,
        "default_application_type": tenant.default_application_type,
        "monthly_request_quota": tenant.monthly_request_quota,
        "redact": sorted(tenant.redaction()),
        "services": [
            {
                "application_type": s.application_type,
                "enabled": s.enabled,
                "min_confidence": s.min_confidence,
                "save_request_events": s.save_request_events,
                "retention_days": s.retention_days,
                "tier": s.tier,
                "model": s.model.name if s.model is not None else "",
            }
            for s in tenant.services.select_related("model")
        ],
    }


def forget_keys(public_ids: list[str]) -> None:
    """Drop cached snapshots so the next request reads the database again, and bump their
    generations so a fill already under way cannot write its older snapshot back."""
    if not public_ids:
        return
    with _fallback_lock:  # this process's outage cache too: the change applies here at once
        for public_id in public_ids:
            _fallback_entries.pop(public_id, None)
    forget(
        delete=[cache_key(p) for p in public_ids],
        bump=[generation_key(p) for p in public_ids],
        bump_ttl_s=GENERATION_TTL_S,
    )


def forget_tenant(tenant_id: int) -> None:
    forget_keys(
        list(ApiKey.objects.filter(tenant_id=tenant_id).values_list("public_id", flat=True))
    )
