"""Usage metering: every request becomes a usage event without a database write on the request
path; the drain stores them in bulk and rolls them up per tenant, service and day."""

from datetime import UTC, datetime
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.redis import get_redis
from apps.core.spool import get_spool
from apps.core.spool_replay import replay_spool
from apps.tenants.models import ApiKey
from apps.tenants.services import set_tenant_active
from apps.usage.anonymous import anonymous_failures
from apps.usage.metering import drain_usage, queue_key
from apps.usage.models import DailyUsage, UsageEvent
from harness.polling import eventually
from harness.processes import free_port
from tests.apps.detection.conftest import SEED_BODY


def test_a_detection_request_writes_nothing_to_the_database(inference, post_seed, key_a):
    post_seed(SEED_BODY, key_a.raw)  # warms the key cache, as every request after the first
    with CaptureQueriesContext(connection) as queries:
        assert post_seed(SEED_BODY, key_a.raw).status_code == 200
    assert [q["sql"] for q in queries if not q["sql"].startswith("SELECT")] == []
    assert UsageEvent.objects.count() == 0  # queued in Redis until the drain runs


def test_successes_and_failures_become_usage_events(inference, post_seed, key_a, tenant_a):
    ok = post_seed(SEED_BODY, key_a.raw)
    post_seed(b"{broken", key_a.raw)
    post_seed(SEED_BODY, None)
    assert drain_usage() == 2  # the keyless request is counted, not stored
    success = UsageEvent.objects.get(status_code=200)
    assert success.tenant == tenant_a and success.api_key == key_a.key
    assert success.request_id == ok.json()["request_id"]
    assert (success.endpoint, success.application_type) == ("seed", "persons-detection")
    assert success.objects_found == 5
    assert success.image_bytes > 100_000 and success.latency_ms > 0
    failure = UsageEvent.objects.get(status_code=400)
    assert (failure.tenant, failure.error_code) == (tenant_a, "invalid_json")
    assert not UsageEvent.objects.filter(tenant=None).exists()
    assert anonymous_failures() == {"seed:401:missing_api_key": 1}


def test_daily_rollups_add_up_per_tenant_and_service(
    inference, post_seed, post_native, key_a, key_b, tenant_a, tenant_b, pets_jpg
):
    for _ in range(2):
        post_seed(SEED_BODY, key_a.raw)
    post_native("pets-detection", pets_jpg, key_a.raw)
    post_native("pets-detection", b"not an image", key_a.raw)
    post_seed(SEED_BODY, key_b.raw)
    drain_usage()
    post_seed(SEED_BODY, key_a.raw)  # a second drain adds to the same day's row
    drain_usage()
    today = datetime.now(UTC).date()
    rows = {
        (r.tenant.slug, r.application_type): r
        for r in DailyUsage.objects.filter(day=today).select_related("tenant")
    }
    assert set(rows) == {
        ("alpha", "persons-detection"),
        ("alpha", "pets-detection"),
        ("bravo", "persons-detection"),
    }
    persons_a = rows[("alpha", "persons-detection")]
    assert (persons_a.requests, persons_a.errors, persons_a.objects_found) == (3, 0, 15)
    pets_a = rows[("alpha", "pets-detection")]
    assert (pets_a.requests, pets_a.errors, pets_a.objects_found) == (2, 1, 3)
    assert rows[("bravo", "persons-detection")].requests == 1
    assert persons_a.mean_latency_ms > 0


def test_last_used_is_stored_by_the_drain_not_by_the_request(inference, post_seed, key_a, key_b):
    post_seed(SEED_BODY, key_a.raw)
    assert ApiKey.objects.get(pk=key_a.key.pk).last_used_at is None
    drain_usage()
    assert ApiKey.objects.get(pk=key_a.key.pk).last_used_at is not None
    assert ApiKey.objects.get(pk=key_b.key.pk).last_used_at is None


def test_events_of_a_deleted_tenant_are_dropped_not_retried_forever(
    inference, post_seed, key_a, key_b, tenant_a
):
    post_seed(SEED_BODY, key_a.raw)
    post_seed(SEED_BODY, key_b.raw)
    tenant_a.delete()
    assert drain_usage() == 1
    assert drain_usage() == 0
    assert UsageEvent.objects.get().tenant.slug == "bravo"


def test_an_event_queued_twice_is_stored_and_rolled_up_once(inference, post_seed, key_a):
    # Redis took the RPUSH and died before answering: the spool's replay queues it again.
    post_seed(SEED_BODY, key_a.raw)
    r = get_redis()
    (queued,) = r.lrange(queue_key(), 0, -1)
    r.rpush(queue_key(), queued)
    assert drain_usage() == 1
    r.rpush(queue_key(), queued)  # a copy that arrives after the first was stored
    assert drain_usage() == 0
    assert UsageEvent.objects.count() == 1
    assert DailyUsage.objects.get().requests == 1


def test_the_drain_command_reports_what_it_stored(inference, post_seed, key_a):
    post_seed(SEED_BODY, key_a.raw)
    out = StringIO()
    call_command("drain_usage", stdout=out)
    assert "stored 1 usage event" in out.getvalue()


def test_the_drain_works_in_batches(inference, post_seed, key_a):
    for _ in range(5):
        post_seed(b"{}", key_a.raw)
    assert drain_usage(batch_size=2) == 5
    assert UsageEvent.objects.count() == 5


def test_a_deepstack_request_rolls_up_into_each_service_it_ran(inference, client, key_a, pets_jpg):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        "/v1/vision/detection", {"image": SimpleUploadedFile("f.jpg", pets_jpg)}, **key_a.headers
    )
    drain_usage()
    event = UsageEvent.objects.get()
    assert (event.endpoint, event.objects_found) == ("deepstack", 3)
    found = dict(DailyUsage.objects.values_list("application_type", "objects_found"))
    assert found == {"persons-detection": 0, "pets-detection": 3}


# Redis down: every answer the cameras got is still metered, once, to the right tenant.


def test_with_redis_down_answers_are_spooled_then_metered_once_to_the_tenant(
    inference, post_seed, key_a, tenant_a, settings, tmp_path
):
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    redis_url = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    wrong_secret = key_a.raw[: key_a.raw.rindex("_") + 1] + "x" * 43
    # The key is checked against the database (apps/tenants/grants.py): answered, not refused.
    answers = [post_seed(SEED_BODY, key_a.raw), post_seed(SEED_BODY, wrong_secret)]
    assert [a.status_code for a in answers] == [200, 401]
    # Written by the spool's writer thread; the 401 has no tenant: only counted.
    eventually(lambda: get_spool().stats().by_kind == {"usage": 1}, 10, "the event spooled")

    settings.REDIS_URL = redis_url  # Redis is back
    eventually(lambda: replay_spool().remaining == 0, 30, "the spool replayed")
    assert not get_spool().has_pending()
    assert drain_usage() == 1

    mine = UsageEvent.objects.get(request_id=answers[0]["X-Request-Id"])
    assert (mine.tenant, mine.api_key, mine.status_code) == (tenant_a, key_a.key, 200)
    assert not UsageEvent.objects.filter(request_id=answers[1]["X-Request-Id"]).exists()
    today = DailyUsage.objects.get(tenant=tenant_a, day=datetime.now(UTC).date())
    assert (today.requests, today.errors) == (1, 0)


def test_a_request_refused_before_it_chose_a_service_counts_against_the_default_one(
    post_seed, key_a, tenant_a
):
    """A suspended tenant's call never reaches its service: the report books the error under
    the tenant's default service, so the per-service rows add up to the calls."""
    set_tenant_active(tenant_a, False)
    assert post_seed(SEED_BODY, key_a.raw).status_code == 403
    drain_usage()
    refused = UsageEvent.objects.get(tenant=tenant_a)
    assert (refused.application_type, refused.status_code) == (
        tenant_a.default_application_type,
        403,
    )
    daily = DailyUsage.objects.get(tenant=tenant_a)
    assert (daily.application_type, daily.requests, daily.errors) == (
        tenant_a.default_application_type,
        1,
        1,
    )
