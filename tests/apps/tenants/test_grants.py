"""Resolving a key to its grant through the Redis cache, and keeping that cache coherent."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.grants import KeyRejected
from apps.tenants.application_types import ApplicationType
from apps.tenants.grants import resolve_key
from apps.tenants.services import (
    disable_service,
    enable_service,
    issue_api_key,
    revoke_api_key,
    set_tenant_active,
)


def test_a_key_resolves_to_its_own_tenant_and_services(key_a, key_b, tenant_a, tenant_b):
    grant_a, grant_b = resolve_key(key_a.raw), resolve_key(key_b.raw)
    assert (grant_a.tenant_id, grant_a.key_id) == (tenant_a.pk, key_a.key.pk)
    assert (grant_b.tenant_id, grant_b.key_id) == (tenant_b.pk, key_b.key.pk)
    assert sorted(grant_a.enabled_services()) == ["persons-detection", "pets-detection"]
    assert grant_b.enabled_services() == ["persons-detection"]


def test_a_cached_grant_needs_no_database_query(key_a):
    resolve_key(key_a.raw)
    with CaptureQueriesContext(connection) as queries:
        resolve_key(key_a.raw)
    assert len(queries) == 0


def test_revocation_takes_effect_on_the_next_lookup(key_a):
    resolve_key(key_a.raw)  # cached
    revoke_api_key(key_a.key)
    with pytest.raises(KeyRejected) as rejected:
        resolve_key(key_a.raw)
    assert rejected.value.code == "revoked_api_key"


def test_an_expired_key_is_rejected(tenant_a):
    _, raw = issue_api_key(tenant_a, expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(KeyRejected) as rejected:
        resolve_key(raw)
    assert rejected.value.code == "expired_api_key"


@pytest.mark.parametrize("mangle", [lambda k: k[:-2] + "xx", lambda k: "ipcai_000000000000_nope"])
def test_wrong_or_unknown_keys_are_rejected(key_a, mangle):
    resolve_key(key_a.raw)
    with pytest.raises(KeyRejected) as rejected:
        resolve_key(mangle(key_a.raw))
    assert rejected.value.code == "invalid_api_key"


def test_service_and_tenant_changes_reach_a_cached_grant(key_a, tenant_a):
    assert resolve_key(key_a.raw).service(ApplicationType.VEHICLES) is None
    enable_service(tenant_a, ApplicationType.VEHICLES, min_confidence=0.7)
    assert resolve_key(key_a.raw).service(ApplicationType.VEHICLES).min_confidence == 0.7
    disable_service(tenant_a, ApplicationType.PETS)
    assert resolve_key(key_a.raw).service(ApplicationType.PETS) is None
    set_tenant_active(tenant_a, False)
    assert resolve_key(key_a.raw).tenant_active is False


def test_changes_to_tenant_a_do_not_touch_tenant_b_grants(key_a, key_b, tenant_a):
    before = resolve_key(key_b.raw)
    set_tenant_active(tenant_a, False)
    disable_service(tenant_a, ApplicationType.PERSONS)
    assert resolve_key(key_b.raw) == before
