"""Tenant isolation at the API: a key of tenant A never sees or affects tenant B."""

from apps.tenants.limits import requests_this_month
from apps.tenants.services import revoke_api_key, set_monthly_quota, set_tenant_active
from apps.usage.metering import drain_usage
from apps.usage.models import DailyUsage, UsageEvent
from tests.apps.detection.conftest import SEED_BODY


def test_a_key_only_gets_its_own_tenants_services(inference, post_native, key_a, key_b, pets_jpg):
    assert post_native("pets-detection", pets_jpg, key_a.raw).status_code == 200
    # Bravo has no pets service: Alpha having it changes nothing for Bravo's key.
    assert post_native("pets-detection", pets_jpg, key_b.raw).status_code == 403


def test_usage_and_quota_counters_stay_with_the_tenant(
    inference, post_seed, key_a, key_b, tenant_a, tenant_b
):
    for _ in range(3):
        post_seed(SEED_BODY, key_a.raw)
    assert requests_this_month(tenant_a.pk) == 3
    assert requests_this_month(tenant_b.pk) == 0
    drain_usage()
    assert UsageEvent.objects.filter(tenant=tenant_b).count() == 0
    assert not DailyUsage.objects.filter(tenant=tenant_b).exists()


def test_one_tenant_over_quota_does_not_limit_another(inference, post_seed, key_a, key_b, tenant_a):
    set_monthly_quota(tenant_a, 1)
    post_seed(SEED_BODY, key_a.raw)
    assert post_seed(SEED_BODY, key_a.raw).status_code == 429
    assert post_seed(SEED_BODY, key_b.raw).status_code == 200


def test_revoking_or_deactivating_a_leaves_b_working(inference, post_seed, key_a, key_b, tenant_a):
    revoke_api_key(key_a.key)
    set_tenant_active(tenant_a, False)
    assert post_seed(SEED_BODY, key_a.raw).status_code == 401
    assert post_seed(SEED_BODY, key_b.raw).status_code == 200


def test_the_per_key_rate_limit_is_per_key(inference, post_seed, key_a, key_b, settings):
    settings.IPCAI_RATE_LIMIT_REQUESTS = 1
    settings.IPCAI_RATE_LIMIT_WINDOW_S = 3600
    assert post_seed(SEED_BODY, key_a.raw).status_code == 200
    assert post_seed(SEED_BODY, key_a.raw).status_code == 429
    assert post_seed(SEED_BODY, key_b.raw).status_code == 200
