"""The export API and dashboard pages in process: who may start, see and download an export,
its bounds and errors. Events are archived through the real archive path; Celery runs eagerly
(test settings), started when the job row commits."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml

from apps.reports.models import DatasetExport
from apps.tenants.application_types import ApplicationType
from tests.apps.archive.conftest import SEED_RESPONSE, archived
from tests.apps.dashboard.conftest import signed_in

PETS_RESPONSE = {
    **SEED_RESPONSE,
    "bbox_coords": [[5.0, 6.0, 105.0, 206.0]],
    "bbox_scores": [[0.42]],
    "class_names": [["dog"]],
}


@pytest.fixture
def frames_a(archive, archiving_a) -> list[str]:
    return [
        archived(archiving_a, archive),
        archived(archiving_a, archive),
        archived(
            archiving_a, archive, application_type=ApplicationType.PETS, response=PETS_RESPONSE
        ),
    ]


def start(client, key, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports", body, content_type="application/json", **key.headers
        )
    return response


def test_an_export_is_built_and_streamed_to_its_owner_only(
    client, key_a, key_b, frames_a, django_capture_on_commit_callbacks
):
    response = start(client, key_a, django_capture_on_commit_callbacks, format="yolo")
    assert response.status_code == 202
    url = response["Location"]
    job = client.get(url, **key_a.headers).json()
    assert (job["status"], job["images"], job["progress"]) == ("done", 3, 1.0)
    download = client.get(job["download_url"], **key_a.headers)
    assert download.status_code == 200 and download.streaming
    archive_zip = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert len(archive_zip.namelist()) == 3 * 2 + 1  # image + label each, data.yaml
    assert yaml.safe_load(archive_zip.read("data.yaml"))["names"][0] == "person"
    # Another tenant's key: the export does not exist.
    assert client.get(url, **key_b.headers).status_code == 404
    assert client.get(job["download_url"], **key_b.headers).json()["error"]["code"] == (
        "export_not_found"
    )
    assert client.get("/api/v1/exports", **key_b.headers).json() == []
    assert client.get(url).status_code == 401
    # A class of a service tenant A does not have.
    refused = start(
        client, key_a, django_capture_on_commit_callbacks, format="coco", classes=["car"]
    )
    assert refused.status_code == 400
    assert "car" in refused.json()["error"]["message"]


def test_filters_reach_the_archive_and_the_other_tenant_sees_nothing(
    client,
    key_a,
    key_b,
    frames_a,
    archiving_b,
    archive,
    django_capture_on_commit_callbacks,
):
    archived(archiving_b, archive)
    band = start(
        client, key_a, django_capture_on_commit_callbacks,
        format="coco", score_min=0.3, score_max=0.6,
    ).json()  # fmt: skip
    assert client.get(band["url"], **key_a.headers).json()["images"] == 1  # the 0.42 dog
    other = start(client, key_b, django_capture_on_commit_callbacks, format="coco").json()
    assert client.get(other["url"], **key_b.headers).json()["images"] == 1


def test_an_export_past_its_bound_fails_with_a_clear_error(
    client, key_a, frames_a, settings, django_capture_on_commit_callbacks
):
    settings.IPCAI_EXPORT_MAX_BYTES = 150_000  # persons.jpg is ~100 KB: room for one frame
    job = start(client, key_a, django_capture_on_commit_callbacks, format="coco").json()
    job = client.get(job["url"], **key_a.headers).json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "export_too_large"
    assert "narrow the date range" in job["error"]["message"]
    download = client.get(job["url"] + "/download", **key_a.headers)
    assert download.status_code == 409
    assert download.json()["error"]["code"] == "export_not_ready"


def test_the_dashboard_export_page_is_for_owners_and_admins(
    alice, bob, charlie, tenant_a, frames_a, django_capture_on_commit_callbacks
):
    owner = signed_in(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            "/t/alpha/exports/", {"format": "labelstudio", "service": ApplicationType.PETS}
        )
    assert response.status_code == 302
    export = DatasetExport.objects.get(tenant=tenant_a)
    page = owner.get("/t/alpha/exports/").content.decode()
    assert f'data-export="{export.pk.hex}" data-status="done"' in page
    download = owner.get(f"/t/alpha/exports/{export.pk.hex}.zip")
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert "tasks.json" in names and len([n for n in names if n.startswith("images/")]) == 1
    bad = owner.post("/t/alpha/exports/", {"format": "coco", "service": ApplicationType.PETS,
                                           "classes": "person"})  # fmt: skip
    assert bad.status_code == 400 and "not returned by pets-detection" in bad.content.decode()
    viewer = signed_in(bob)
    assert viewer.get("/t/alpha/exports/").status_code == 403
    assert viewer.get(f"/t/alpha/exports/{export.pk.hex}.zip").status_code == 403
    outsider = signed_in(charlie)
    assert outsider.get("/t/alpha/exports/").status_code == 404
    assert outsider.get(f"/t/alpha/exports/{export.pk.hex}.zip").status_code == 404
    assert signed_in(charlie).get(f"/t/bravo/exports/{export.pk.hex}.zip").status_code == 404
