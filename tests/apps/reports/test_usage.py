"""Usage totals and latency percentiles per tenant and service, from the real roll-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from apps.reports.usage import (
    next_month,
    parse_month,
    previous_month,
    service_totals,
)
from tests.apps.reports.conftest import drain_usage, metered

MARCH = date(2026, 3, 1)
IN_MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_totals_and_nearest_rank_percentiles_of_successful_requests(tenant_a):
    for latency in range(1, 101):  # 1..100 ms
        metered(tenant_a, "persons-detection", IN_MARCH, latency_ms=latency, objects=2)
    for _ in range(10):  # slow failures count as errors, not in the latency percentiles
        metered(tenant_a, "persons-detection", IN_MARCH, latency_ms=5000, status_code=400)
    drain_usage()
    (persons,) = service_totals(MARCH, next_month(MARCH))
    assert (persons.tenant, persons.application_type) == ("alpha", "persons-detection")
    assert (persons.requests, persons.successes, persons.errors) == (110, 100, 10)
    assert persons.objects == 200
    assert (persons.p50_latency_ms, persons.p95_latency_ms) == (50.0, 95.0)


def test_the_month_is_a_utc_calendar_month(tenant_a):
    metered(tenant_a, "pets-detection", datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC))
    metered(tenant_a, "pets-detection", datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC), latency_ms=7)
    metered(tenant_a, "pets-detection", datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC), latency_ms=9)
    metered(tenant_a, "pets-detection", datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC))
    drain_usage()
    (pets,) = service_totals(MARCH, next_month(MARCH))
    assert pets.requests == 2
    assert (pets.p50_latency_ms, pets.p95_latency_ms) == (7.0, 9.0)


def test_a_deepstack_request_counts_for_each_service_it_ran(tenant_a):
    metered(tenant_a, "persons-detection,pets-detection", IN_MARCH, latency_ms=30, objects=1)
    drain_usage()
    totals = {t.application_type: t for t in service_totals(MARCH, next_month(MARCH))}
    assert set(totals) == {"persons-detection", "pets-detection"}
    assert all(t.requests == 1 and t.objects == 1 for t in totals.values())
    assert all(t.p50_latency_ms == 30.0 for t in totals.values())


def test_tenants_are_reported_apart(tenant_a, tenant_b):
    metered(tenant_a, "persons-detection", IN_MARCH, latency_ms=10)
    metered(tenant_b, "persons-detection", IN_MARCH, latency_ms=90)
    metered(tenant_b, "persons-detection", IN_MARCH, latency_ms=90)
    drain_usage()
    only_b = service_totals(MARCH, next_month(MARCH), [tenant_b.pk])
    assert [(t.tenant, t.requests, t.p50_latency_ms) for t in only_b] == [("bravo", 2, 90.0)]
    both = service_totals(MARCH, next_month(MARCH))
    assert [(t.tenant, t.requests) for t in both] == [("alpha", 1), ("bravo", 2)]


def test_a_service_with_only_errors_has_no_percentiles(tenant_a):
    metered(tenant_a, "pets-detection", IN_MARCH, status_code=413)
    drain_usage()
    (pets,) = service_totals(MARCH, next_month(MARCH))
    assert (pets.requests, pets.errors, pets.p50_latency_ms, pets.success_rate) == (1, 1, None, 0.0)


def test_months_parse_and_step():
    assert parse_month("2026-12") == date(2026, 12, 1)
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert previous_month(date(2026, 1, 15)) == date(2025, 12, 1)
    for bad in ["2026-13", "2026", "March", "", "2026-03-01"]:
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)
