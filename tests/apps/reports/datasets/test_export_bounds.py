"""Dataset exports are bounded per tenant (security review, issue 31, Medium 5): one queued or
running at a time, a rate per hour, and each zip deleted after a retention the tenant sees
(`expires_at` in the API, "kept until" on the dashboard). Without them a key with
`events:read` could queue exports in a loop, each up to 2 GiB, kept forever."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.reports.models import DatasetExport
from tests.apps.archive.conftest import archived
from tests.apps.dashboard.conftest import signed_in


@pytest.fixture
def frames_a(archive, archiving_a) -> list[str]:
    return [archived(archiving_a, archive), archived(archiving_a, archive)]


def post(client, key, **body):
    return client.post("/api/v1/exports", body, content_type="application/json", **key.headers)


def run(client, key, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        return post(client, key, **body)


def test_a_tenant_runs_one_export_at_a_time(client, key_a, key_b, frames_a):
    # Not committed here (no on-commit callbacks run): the first stays queued.
    assert post(client, key_a, format="coco").status_code == 202
    second = post(client, key_a, format="yolo")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "export_in_progress"
    assert DatasetExport.objects.filter(tenant=key_a.key.tenant).count() == 1
    assert post(client, key_b, format="coco").status_code == 202  # another tenant's own


def test_exports_are_rate_limited_per_tenant(
    client, key_a, frames_a, settings, django_capture_on_commit_callbacks
):
    settings.IPCAI_EXPORTS_PER_HOUR = 2
    for _ in range(2):
        started = run(client, key_a, django_capture_on_commit_callbacks, format="coco")
        assert started.status_code == 202
    refused = run(client, key_a, django_capture_on_commit_callbacks, format="coco")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_exports"
    assert 0 < int(refused["Retry-After"]) <= 3600


def test_a_finished_export_shows_its_expiry_and_is_deleted_after_it(
    client, key_a, frames_a, archive, settings, django_capture_on_commit_callbacks
):
    from apps.reports.datasets.retention import purge_expired_exports

    settings.IPCAI_EXPORT_RETENTION_DAYS = 3
    started = run(client, key_a, django_capture_on_commit_callbacks, format="coco")
    job = client.get(started["Location"], **key_a.headers).json()
    export = DatasetExport.objects.get()
    assert job["status"] == "done" and archive.exists(export.storage_key)
    assert job["expires_at"] is not None
    assert export.expires_at == export.finished_at + timedelta(days=3)

    assert purge_expired_exports(now=export.finished_at + timedelta(days=2)) == 0
    assert purge_expired_exports(now=export.finished_at + timedelta(days=3, seconds=1)) == 1
    assert not archive.exists(export.storage_key)
    assert client.get(started["Location"], **key_a.headers).status_code == 404


def test_the_dashboard_shows_how_long_an_export_is_kept(
    alice, tenant_a, frames_a, settings, django_capture_on_commit_callbacks
):
    settings.IPCAI_EXPORT_RETENTION_DAYS = 3
    owner = signed_in(alice)
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(f"/t/{tenant_a.slug}/exports/", {"format": "coco"})
    page = owner.get(f"/t/{tenant_a.slug}/exports/").content.decode()
    export = DatasetExport.objects.get()
    assert f"kept until {export.expires_at:%Y-%m-%d}" in page
    assert "deleted 3 days after" in page
