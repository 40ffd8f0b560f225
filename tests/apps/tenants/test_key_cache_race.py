"""The key cache cannot resurrect a revoked key, and says "revoked" only to the key's holder."""

from __future__ import annotations

import pytest

from apps.core.grants import KeyRejected
from apps.tenants import grants
from apps.tenants.grants import resolve_key
from apps.tenants.services import revoke_api_key

pytestmark = pytest.mark.django_db


def rejection(raw: str) -> str:
    with pytest.raises(KeyRejected) as caught:
        resolve_key(raw)
    return caught.value.code


def test_a_revocation_between_the_cache_miss_read_and_the_cache_write_leaves_the_key_refused(
    key_a, monkeypatch
):
    """The fill read the key while it was active; the revocation (and its cache drop) lands
    before the fill writes. Without the generation check the stale snapshot would be written
    and the key would keep working for the cache TTL."""
    load = grants._load_entry

    def read_then_revoke(public_id: str) -> dict:
        entry = load(public_id)  # the database says: active
        revoke_api_key(key_a.key)  # the owner revokes now: cache dropped
        return entry

    monkeypatch.setattr(grants, "_load_entry", read_then_revoke)
    # The request already under way still answers from what it read...
    assert resolve_key(key_a.raw).key_id == key_a.key.pk
    monkeypatch.setattr(grants, "_load_entry", load)
    # ...but nothing stale was cached: every later request is refused.
    assert rejection(key_a.raw) == "revoked_api_key"
    assert rejection(key_a.raw) == "revoked_api_key"


def test_a_fill_without_a_revocation_is_cached(key_a, monkeypatch):
    resolve_key(key_a.raw)

    def no_database(public_id: str) -> dict:
        raise AssertionError("the second resolve should be served from the cache")

    monkeypatch.setattr(grants, "_load_entry", no_database)
    assert resolve_key(key_a.raw).tenant_id == key_a.key.tenant_id


@pytest.mark.parametrize("cached_first", [False, True], ids=["cold", "cached"])
def test_revoked_is_told_only_to_whoever_has_the_secret(key_a, cached_first):
    revoke_api_key(key_a.key)
    wrong_secret = key_a.raw[:-6] + "AAAAAA"
    if cached_first:
        rejection(key_a.raw)
    assert rejection(wrong_secret) == "invalid_api_key"
    assert rejection(key_a.raw) == "revoked_api_key"


def test_a_blocked_caller_is_answered_from_the_cache_only(key_a):
    with pytest.raises(KeyRejected):
        resolve_key(key_a.raw, cached_only=True)
    resolve_key(key_a.raw)
    assert resolve_key(key_a.raw, cached_only=True).key_id == key_a.key.pk
