"""Each event of a video job carries a signed snapshot link, as live camera events do: it opens
the best frame without a key, only for its own event of its own job, until it expires or the
tenant is suspended; with a key instead, the tenant's owner and members get the image and
another tenant 404. A real job (the clip's first visit, Celery eager, the real worker)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.alerts.video_jobs import links
from apps.core.grants import SCOPE_EVENTS_READ
from apps.tenants.services import issue_api_key
from tests.apps.alerts.video_jobs.clips import excerpt
from tests.apps.conftest import IssuedKey


@pytest.fixture(scope="module")
def first_visit(tmp_path_factory) -> bytes:
    return excerpt(tmp_path_factory.mktemp("clip") / "first-visit.avi").read_bytes()


@pytest.fixture
def job(client, key_a, inference, archive, settings, tmp_path, first_visit,
        django_capture_on_commit_callbacks) -> dict:  # fmt: skip
    settings.IPCAI_VIDEO_WORK_DIR = tmp_path / "work"
    settings.IPCAI_PUBLIC_URL = "https://portal.example"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/video-jobs",
            {"file": SimpleUploadedFile("first-visit.avi", first_visit), "fps": "2"},
            **key_a.headers,
        )
    assert response.status_code == 202, response.content
    done = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers).json()
    assert done["status"] == "succeeded" and len(done["events"]) == 1, done
    return done


@pytest.fixture
def member_key(tenant_a, bob) -> IssuedKey:
    """A read-only key of the tenant's member (a viewer)."""
    return IssuedKey(
        *issue_api_key(tenant_a, name="viewer", created_by=bob, scopes=[SCOPE_EVENTS_READ])
    )


def link_of(job: dict) -> str:
    url = job["events"][0]["snapshot_url"]
    assert url.startswith("https://portal.example/api/v1/video-jobs/")
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def plain_path(job: dict) -> str:
    return f"/api/v1/video-jobs/{job['id']}/events/{job['events'][0]['id']}/snapshot"


def test_the_link_opens_the_best_frame_without_a_key(client, job, archive):
    opened = client.get(link_of(job))
    assert opened.status_code == 200, opened.content
    assert opened["Content-Type"] == "image/jpeg" and opened.content[:2] == b"\xff\xd8"
    (stored,) = archive.root.rglob(f"{job['events'][0]['id']}.jpg")
    assert opened.content == stored.read_bytes()


def test_owner_and_member_keys_get_the_image_another_tenant_404(
    client, job, key_a, member_key, key_b
):
    for key in (key_a, member_key):
        got = client.get(plain_path(job), **key.headers)
        assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"
    outsider = client.get(plain_path(job), **key_b.headers)
    assert outsider.status_code == 404
    assert outsider.json()["error"]["code"] == "video_job_not_found"
    assert client.get(plain_path(job)).status_code == 401  # neither key nor link


def test_a_link_opens_only_its_own_event_until_it_expires(client, job, key_b, tenant_a):
    token = link_of(job).split("?token=")[1]
    event_id = job["events"][0]["id"]
    elsewhere = [
        f"/api/v1/video-jobs/{uuid.uuid4()}/events/{event_id}/snapshot?token={token}",
        f"/api/v1/video-jobs/{job['id']}/events/{uuid.uuid4()}/snapshot?token={token}",
        f"{plain_path(job)}?token={token[:-4]}abcd",  # forged
        links.signed_path(job["id"], event_id, ttl_s=-1),  # expired
    ]
    for url in elsewhere:
        refused = client.get(url, **key_b.headers)
        assert refused.status_code == 404, url
    assert client.get(link_of(job)).status_code == 200
    tenant_a.active = False
    tenant_a.save(update_fields=["active"])
    assert client.get(link_of(job)).status_code == 404  # suspended: links stop with its keys
