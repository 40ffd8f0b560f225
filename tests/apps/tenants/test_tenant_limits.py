"""Rate limits hold per tenant, not only per key: more keys do not buy more rate. New tenants
get the deployment's default monthly quota."""

from __future__ import annotations

import pytest

from apps.core.errors import ApiError
from apps.tenants.grants import resolve_key
from apps.tenants.limits import count_request, requests_this_month
from apps.tenants.services import create_tenant, issue_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limits(settings) -> None:
    settings.IPCAI_RATE_LIMIT_REQUESTS = 5
    settings.IPCAI_TENANT_RATE_LIMIT_REQUESTS = 8
    settings.IPCAI_RATE_LIMIT_WINDOW_S = 3600  # one window for the whole test


def refusal(grant) -> str | None:
    try:
        count_request(grant)
    except ApiError as exc:
        assert exc.status == 429 and int(exc.headers["Retry-After"]) > 0
        return exc.code
    return None


def test_many_keys_share_one_tenant_bucket(tenant_a, tenant_b, key_b):
    grants = [resolve_key(issue_api_key(tenant_a, name=f"k{n}")[1]) for n in range(3)]
    first, second, third = grants

    assert [refusal(first) for _ in range(6)] == [None] * 5 + ["rate_limited"]
    assert [refusal(second) for _ in range(4)] == [None] * 3 + ["tenant_rate_limited"]
    assert refusal(third) == "tenant_rate_limited"
    # Refused requests used no quota, and another tenant is not affected.
    assert requests_this_month(tenant_a.pk) == 8
    assert refusal(resolve_key(key_b.raw)) is None


def test_new_tenants_get_the_default_monthly_quota(settings, alice):
    settings.IPCAI_DEFAULT_MONTHLY_QUOTA = 100_000
    assert create_tenant("quota-default").monthly_request_quota == 100_000
    assert create_tenant("quota-own", monthly_request_quota=5).monthly_request_quota == 5
    settings.IPCAI_DEFAULT_MONTHLY_QUOTA = None
    assert create_tenant("quota-none").monthly_request_quota is None
