"""Video jobs on S3 archive storage: moto's server mode as a real HTTP endpoint, which boto3
talks to exactly as to AWS (as the archive's S3 tests do). An uploaded clip goes to the bucket
and the job reads it back from there; a clip the tenant already keeps in its bucket is analysed
and left in place; snapshots are written to the bucket and served from it; deleting a job
removes what it stored, and nothing stays in the Celery host's work folder. The clip's first
visit (Celery eager, the real worker and model)."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.storage import S3Storage, get_storage
from harness.moto import MotoServer
from tests.apps.alerts.video_jobs.clips import excerpt


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def first_visit(tmp_path_factory) -> Path:
    return excerpt(tmp_path_factory.mktemp("clip") / "first-visit.avi")


@pytest.fixture
def bucket(settings, moto, monkeypatch, tmp_path) -> S3Storage:
    """The portal's archive storage: a fresh bucket under the `archive` prefix."""
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    name = f"video-{uuid.uuid4().hex[:12]}"
    moto.create_bucket(name, versioned=False)
    settings.IPCAI_ARCHIVE_URL = f"s3://{name}/archive"
    settings.AWS_ENDPOINT_URL = moto.endpoint_url
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    settings.IPCAI_VIDEO_WORK_DIR = tmp_path / "work"
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    return storage


def objects(storage: S3Storage) -> list[str]:
    pages = storage.client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def run_job(client, key, captured, **fields) -> dict:
    with captured(execute=True):
        response = client.post("/api/v1/video-jobs", {"fps": "2", **fields}, **key.headers)
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key.headers).json()
    assert job["status"] == "succeeded", job
    assert [e["label"] for e in job["events"]] == ["person"]
    return job


def test_an_uploaded_clip_is_stored_in_s3_and_analysed_from_there(
    client, key_a, inference, bucket, first_visit, settings, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("first-visit.avi", first_visit.read_bytes())
    job = run_job(client, key_a, django_capture_on_commit_callbacks, file=upload)
    tenant, event = key_a.key.tenant_id, job["events"][0]
    folder = f"archive/video-jobs/{tenant}/{job['id']}"
    assert objects(bucket) == [
        f"{folder}/clip-first-visit.avi",
        f"{folder}/events/{event['id']}.jpg",
    ]
    clip = bucket.client.get_object(Bucket=bucket.bucket, Key=f"{folder}/clip-first-visit.avi")
    assert clip["Body"].read() == first_visit.read_bytes()

    link = urlsplit(event["snapshot_url"])
    snapshot = client.get(f"{link.path}?{link.query}")  # the signed link, no key
    stored = bucket.client.get_object(
        Bucket=bucket.bucket, Key=f"{folder}/events/{event['id']}.jpg"
    )
    assert snapshot.status_code == 200 and snapshot.content == stored["Body"].read()
    assert snapshot.content[:2] == b"\xff\xd8"

    assert client.delete(f"/api/v1/video-jobs/{job['id']}", **key_a.headers).status_code == 204
    assert objects(bucket) == []
    assert not any(Path(settings.IPCAI_VIDEO_WORK_DIR).rglob("*"))


def test_a_clip_already_in_the_tenants_bucket_is_analysed_and_left_in_place(
    client, key_a, inference, bucket, first_visit, django_capture_on_commit_callbacks
):
    key = f"video-uploads/{key_a.key.tenant_id}/recorder/first-visit.avi"
    bucket.put_file(key, first_visit, "video/x-msvideo")
    job = run_job(client, key_a, django_capture_on_commit_callbacks, source_key=key)
    assert job["clip"]["duration_s"] == pytest.approx(20.0, abs=0.6)
    assert len(objects(bucket)) == 2  # the tenant's clip and the event's snapshot
    assert client.delete(f"/api/v1/video-jobs/{job['id']}", **key_a.headers).status_code == 204
    assert objects(bucket) == [f"archive/{key}"]
