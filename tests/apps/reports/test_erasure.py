"""Erasure: every stored copy of a camera's range goes, nothing else is touched, on a folder and
on S3 (moto's server mode, a versioned bucket: old versions go too). The API route with the
tenant trio: the owner's key erases and reads its reports, a key without `manage` is refused,
another tenant gets 404 for the reports and the camera."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from apps.alerts.models import CameraEvent
from apps.alerts.video_jobs.models import VideoJob, VideoJobEvent
from apps.archive import layout
from apps.archive.models import ArchivedEvent
from apps.archive.records import RequestEvent
from apps.archive.store import store_event
from apps.cameras.services import create_camera
from apps.core.grants import SCOPE_DETECT
from apps.core.storage import ArchiveStorage, LocalFolderStorage, get_storage
from apps.reports.erasure import do_erase
from apps.reports.models import DatasetExport, ErasureRequest
from apps.tenants.services import issue_api_key
from apps.usage.models import UsageEvent
from harness.moto import MotoServer
from harness.processes import shared_dir
from tests.apps.conftest import IssuedKey

pytestmark = pytest.mark.django_db

JPEG = (shared_dir() / "images" / "persons.jpg").read_bytes()
T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
SINCE, UNTIL = T0, T0 + timedelta(hours=1)
INSIDE, BEFORE, AFTER = T0 + timedelta(minutes=10), T0 - timedelta(minutes=5), UNTIL


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    yield server
    server.stop()


@pytest.fixture(params=["folder", "s3"])
def storage(request, settings, tmp_path, monkeypatch) -> ArchiveStorage:
    """The archive the portal is configured with: a folder, or a versioned moto bucket."""
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    if request.param == "folder":
        settings.IPCAI_ARCHIVE_URL = f"file://{tmp_path / 'archive'}"
    else:
        moto = request.getfixturevalue("moto")
        for name, value in moto.env().items():
            monkeypatch.setenv(name, value)
        bucket = f"erasure-{uuid.uuid4().hex[:12]}"
        moto.create_bucket(bucket, versioned=True)
        settings.IPCAI_ARCHIVE_URL = f"s3://{bucket}/archive"
        settings.AWS_ENDPOINT_URL = moto.endpoint_url
    return get_storage()


def listing(storage: ArchiveStorage) -> set[str]:
    """Every object (and, on S3, every object version) in the store."""
    if isinstance(storage, LocalFolderStorage):
        return {str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file()}
    pages = storage.client.get_paginator("list_object_versions").paginate(Bucket=storage.bucket)
    return {
        f"{item['Key']}@{item['VersionId']}"
        for page in pages
        for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
    }


def archived_request(tenant, key, storage, at: datetime, camera: str) -> ArchivedEvent:
    request_id = uuid.uuid4().hex
    event = RequestEvent(
        event_id=layout.new_event_id(),
        tenant_id=tenant.pk,
        tenant_slug=tenant.slug,
        application_type="persons-detection",
        received_at=at,
        response={
            "bbox_coords": [[10, 20, 110, 320]],
            "bbox_scores": [[0.9]],
            "class_names": [["person"]],
            "width": 819,
            "height": 546,
        },
        portal_request_id=request_id,
        api_key_id=key.key.pk,
        image=JPEG,
        image_type=layout.sniff_image_type(JPEG),
        image_size=len(JPEG),
    )
    store_event(event.to_message(), storage)
    UsageEvent.objects.create(
        created_at=at, request_id=request_id, tenant=tenant, api_key=key.key,
        application_type="persons-detection", endpoint="native", status_code=200,
        latency_ms=10.0, camera=camera,
    )  # fmt: skip
    return ArchivedEvent.objects.get(pk=event.event_id)


def camera_event(tenant, camera, storage, at: datetime) -> CameraEvent:
    event = CameraEvent.objects.create(tenant=tenant, camera=camera, label="person", started_at=at)
    key = f"camera-events/{tenant.pk}/{at:%Y/%m/%d}/{event.id}.jpg"
    storage.put_once(key, JPEG, "image/jpeg")
    storage.put_once(key[:-4] + ".json", b"{}", "application/json")
    CameraEvent.objects.filter(pk=event.pk).update(snapshot_key=key)
    return event


def video_job(tenant, camera, storage, at: datetime) -> VideoJob:
    job = VideoJob.objects.create(
        tenant=tenant, camera=camera, source_key="", stored_by_job=True, created_at=at
    )
    job.source_key = f"video-jobs/{tenant.pk}/{job.id}/clip-door.mp4"
    job.save(update_fields=["source_key"])
    storage.put_once(job.source_key, b"mp4 bytes", "video/mp4")
    event = VideoJobEvent.objects.create(job=job, tenant=tenant, label="person", start_s=0, end_s=1)
    event.snapshot_key = f"video-jobs/{tenant.pk}/{job.id}/events/{event.id}.jpg"
    event.save(update_fields=["snapshot_key"])
    storage.put_once(event.snapshot_key, JPEG, "image/jpeg")
    return job


def export_holding(tenant, storage, events: list[ArchivedEvent]) -> DatasetExport:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for event in events:
            archive.writestr(f"images/{event.id.hex}.jpg", JPEG)
        archive.writestr("annotations.json", "{}")
    export = DatasetExport.objects.create(tenant=tenant, format="coco")
    export.storage_key = f"exports/{tenant.pk}/{export.id}.zip"
    export.save(update_fields=["storage_key"])
    storage.put_once(export.storage_key, buffer.getvalue(), "application/zip")
    return export


def test_erasing_a_cameras_range_removes_every_copy_and_touches_nothing_else(
    storage, tenant_a, tenant_b, key_a, key_b
):
    door = create_camera(tenant_a, {"name": "door"})
    yard = create_camera(tenant_a, {"name": "yard"})
    b_cam = create_camera(tenant_b, {"name": "b door"})
    erased_requests = [archived_request(tenant_a, key_a, storage, INSIDE, door.public_id)]
    kept_requests = [
        archived_request(tenant_a, key_a, storage, BEFORE, door.public_id),
        archived_request(tenant_a, key_a, storage, AFTER, door.public_id),
        archived_request(tenant_a, key_a, storage, INSIDE, yard.public_id),
        archived_request(tenant_b, key_b, storage, INSIDE, b_cam.public_id),
    ]
    erased_event = camera_event(tenant_a, door, storage, INSIDE)
    kept_events = [camera_event(tenant_a, yard, storage, INSIDE),
                   camera_event(tenant_a, door, storage, AFTER)]  # fmt: skip
    erased_job = video_job(tenant_a, door, storage, INSIDE)
    kept_job = video_job(tenant_a, door, storage, BEFORE)
    holding = export_holding(tenant_a, storage, [erased_requests[0], kept_requests[0]])
    clean = export_holding(tenant_a, storage, kept_requests[:2])
    snapshot = CameraEvent.objects.get(pk=erased_event.pk).snapshot_key
    job_snapshots = list(
        VideoJobEvent.objects.filter(job_id=erased_job.pk).values_list("snapshot_key", flat=True)
    )
    before = listing(storage)

    erasure = do_erase(
        tenant_a, since=SINCE, until=UNTIL, camera=door.public_id, requested_by="user alice"
    )

    after = listing(storage)
    gone = before - after
    assert after <= before  # nothing added (no delete markers left behind either)
    expected = {
        erased_requests[0].image_key,
        erased_requests[0].record_key,
        erased_requests[0].record_key[: -len(".json")] + ".thumb.jpg",
        snapshot,
        snapshot[: -len(".jpg")] + ".json",
        erased_job.source_key,
        *job_snapshots,
        holding.storage_key,
    }
    assert {name.split("@")[0].removeprefix("archive/") for name in gone} == expected
    assert erasure.removed == {
        "archived_requests": 1, "thumbnails": 1, "camera_events": 1, "snapshots": 1,
        "video_jobs": 1, "video_job_snapshots": 1, "video_clips": 1, "dataset_exports": 1,
    }  # fmt: skip
    assert erasure.not_removed == []
    assert not ArchivedEvent.objects.filter(pk=erased_requests[0].pk).exists()
    assert ArchivedEvent.objects.filter(pk__in=[e.pk for e in kept_requests]).count() == 4
    assert not CameraEvent.objects.filter(pk=erased_event.pk).exists()
    assert CameraEvent.objects.filter(pk__in=[e.pk for e in kept_events]).count() == 2
    assert not VideoJob.objects.filter(pk=erased_job.pk).exists()
    assert VideoJob.objects.filter(pk=kept_job.pk).exists()
    assert list(DatasetExport.objects.filter(tenant=tenant_a)) == [clean]
    assert ErasureRequest.objects.get(pk=erasure.pk).requested_by == "user alice"


URL = "/api/v1/erasure-requests"
RANGE = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


@pytest.fixture
def detect_only_a(tenant_a, alice) -> IssuedKey:
    """A member's camera key of tenant A: detection only, no `manage`."""
    return IssuedKey(*issue_api_key(tenant_a, name="cam", created_by=alice, scopes=[SCOPE_DETECT]))


def test_the_api_erases_reports_and_lists_with_the_tenant_trio(
    client, storage, tenant_a, key_a, key_b, detect_only_a
):
    door = create_camera(tenant_a, {"name": "door"})
    archived_request(tenant_a, key_a, storage, INSIDE, door.public_id)

    created = client.post(
        URL, {**RANGE, "camera": door.public_id}, content_type="application/json", **key_a.headers
    )
    assert created.status_code == 201, created.content
    report = created.json()
    assert report["removed"]["archived_requests"] == 1
    assert report["requested_by"] == f"key {key_a.key.public_id}"
    detail = f"{URL}/{report['id']}"
    assert client.get(detail, **key_a.headers).json() == report
    assert [r["id"] for r in client.get(URL, **key_a.headers).json()] == [report["id"]]

    # A key without `manage` (a member's camera key) is refused; another tenant sees nothing.
    assert client.post(URL, RANGE, content_type="application/json",
                       **detect_only_a.headers).status_code == 403  # fmt: skip
    assert client.get(detail, **key_b.headers).status_code == 404
    assert client.get(URL, **key_b.headers).json() == []
    foreign = client.post(
        URL, {**RANGE, "camera": door.public_id}, content_type="application/json", **key_b.headers
    )
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "camera_not_found"


@pytest.mark.parametrize(
    "body",
    [{}, {"since": "yesterday", "until": "2026-11-03T13:00:00Z"},
     {"since": "2026-11-03T13:00:00Z", "until": "2026-11-03T12:00:00Z"}],
)  # fmt: skip
def test_bad_erasure_requests_get_a_clear_400(client, key_a, body):
    answer = client.post(URL, body, content_type="application/json", **key_a.headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_erasure"
    assert client.get(f"{URL}/not-a-uuid", **key_a.headers).status_code == 404
