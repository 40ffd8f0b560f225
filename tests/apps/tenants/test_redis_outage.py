"""Keys, rate limits and the quota while Redis is down: checked against the database, counted
in this process, and caught up when Redis returns.

Redis is a private redis-server (tests/support/redis_outage.py) killed by pid.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.auth import api_key_failures
from apps.core.errors import ApiError
from apps.core.grants import KeyRejected
from apps.core.redis import redis_available
from apps.tenants.grants import resolve_key
from apps.tenants.limits import count_request, requests_this_month
from apps.tenants.models import ApiKey
from apps.tenants.services import revoke_api_key
from apps.usage.models import DailyUsage
from harness.polling import eventually
from harness.redis_server import RedisServer
from tests.support import redis_outage as outage

pytestmark = pytest.mark.django_db

FALLBACK_CACHE_S = 0.5


@pytest.fixture
def private_redis(settings, tmp_path) -> Iterator[RedisServer]:
    settings.IPCAI_KEY_FALLBACK_CACHE_S = FALLBACK_CACHE_S
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    yield from outage.private_redis(settings, tmp_path)


def refusal(grant) -> str | None:
    try:
        count_request(grant)
    except ApiError as exc:
        assert exc.status == 429 and int(exc.headers["Retry-After"]) > 0
        return exc.code
    return None


def test_a_valid_key_is_checked_against_the_database_once_per_interval(private_redis, key_a):
    outage.kill(private_redis)

    with CaptureQueriesContext(connection) as queries:
        grants = [resolve_key(key_a.raw) for _ in range(20)]
    assert {g.tenant_id for g in grants} == {key_a.key.tenant_id}
    assert len(queries) <= 2  # the key with its tenant, then its services: once for the burst
    with pytest.raises(KeyRejected) as refused:
        resolve_key(key_a.raw[:-4] + "AAAA")  # the right public id, a wrong secret
    assert refused.value.code == "invalid_api_key"


def test_a_key_revoked_elsewhere_during_the_outage_is_refused_within_the_bound(
    private_redis, key_a
):
    outage.kill(private_redis)
    resolve_key(key_a.raw)  # held in this process now
    # Revoked by another process (no signal reaches this one's cache): the database only.
    ApiKey.objects.filter(pk=key_a.key.pk).update(revoked_at=timezone.now())
    revoked = time.monotonic()

    def refused() -> bool:
        try:
            resolve_key(key_a.raw)
        except KeyRejected as exc:
            return exc.code == "revoked_api_key"
        return False

    eventually(refused, 5, "the revoked key to be refused")
    assert time.monotonic() - revoked <= FALLBACK_CACHE_S + 0.25


def test_a_key_revoked_during_the_outage_stays_refused_when_redis_returns(private_redis, key_a):
    resolve_key(key_a.raw)  # its snapshot is in Redis (five minutes' TTL)
    outage.kill(private_redis)
    revoke_api_key(key_a.key)  # the snapshot cannot be dropped now: the drop is spooled
    with pytest.raises(KeyRejected):
        resolve_key(key_a.raw)

    private_redis.start()  # same port, same append-only file: the old snapshot is back
    eventually(redis_available, 10, "the breaker to close")
    with pytest.raises(KeyRejected) as refused:
        resolve_key(key_a.raw)
    assert refused.value.code == "revoked_api_key"


def test_rate_limits_hold_per_process_while_redis_is_down(private_redis, settings, key_a):
    settings.IPCAI_RATE_LIMIT_REQUESTS = 5
    settings.IPCAI_RATE_LIMIT_WINDOW_S = 3600
    grant = resolve_key(key_a.raw)
    outage.kill(private_redis)

    assert [refusal(grant) for _ in range(6)] == [None] * 5 + ["rate_limited"]


def test_the_quota_counts_the_database_and_this_process_then_hands_the_count_to_redis(
    private_redis, tenant_a, key_a
):
    tenant_a.monthly_request_quota = 10
    tenant_a.save()
    grant = resolve_key(key_a.raw)
    DailyUsage.objects.create(
        tenant=tenant_a,
        application_type="persons-detection",
        day=datetime.now(UTC).date(),
        requests=7,
        calls=7,
    )
    outage.kill(private_redis)

    assert [refusal(grant) for _ in range(4)] == [None] * 3 + ["quota_exceeded"]
    assert requests_this_month(tenant_a.pk) == 10  # what the dashboard shows meanwhile

    private_redis.start()
    eventually(redis_available, 10, "the breaker to close")
    eventually(lambda: requests_this_month(tenant_a.pk) == 3, 5, "the month's count in Redis")


def test_failed_keys_are_limited_per_process_while_redis_is_down(private_redis, settings):
    settings.IPCAI_AUTH_FAILURE_LIMIT = 3
    outage.kill(private_redis)
    limit = api_key_failures()

    assert [limit.record_failure("198.51.100.7") for _ in range(3)][:2] == [None, None]
    assert limit.blocked_for("198.51.100.7")
    assert limit.blocked_for("198.51.100.8") is None
