"""`ipcai export` against a real portal with Celery: the job is built on the service, its
progress shown, the zip streamed to a file; the service's refusals come back as messages."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator

import pytest
import requests

from tests.client.running_cli import json_lines, run_cli
from tests.support.images import seed_image
from tests.support.polling import eventually
from tests.support.portal import Portal, running_portal
from tests.support.redis_server import running_redis


@pytest.fixture(scope="module")
def archiving_portal(tmp_path_factory, live_worker_url) -> Iterator[tuple[Portal, str]]:
    folder = tmp_path_factory.mktemp("export-portal")
    with (
        running_redis(folder / "broker") as broker,  # no other suite's Celery takes its tasks
        running_portal(
            folder,
            live_worker_url,
            celery=True,
            CELERY_BROKER_URL=broker.url,
            IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
            IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
        ) as portal,
    ):
        key = portal.create_tenant("exporter", ["persons-detection", "pets-detection"])
        portal.manage("archive_requests", "exporter", "--on")
        for name in ("pets", "persons"):
            response = requests.post(
                f"{portal.base_url}/api/v1/detect/{name}-detection",
                data=seed_image(name),
                headers={"x-api-key": key, "Content-Type": "image/jpeg"},
                timeout=60,
            )
            assert response.status_code == 200

        def listed() -> bool:
            events = requests.get(
                f"{portal.base_url}/api/v1/events", headers={"x-api-key": key}, timeout=30
            ).json()["results"]
            return len(events) == 2

        eventually(listed, 60, "both frames archived")
        yield portal, key


def test_export_shows_progress_and_writes_the_zip(archiving_portal, tmp_path):
    portal, key = archiving_portal
    out = tmp_path / "pets.zip"
    args = ["export", "--format", "coco", "--service", "pets-detection", "-o", str(out)]
    run = run_cli([*args, "--progress"], portal.base_url, key)
    assert run.returncode == 0, run.stderr
    [record] = json_lines(run.stdout)
    assert record["path"] == str(out) and record["images"] == 1
    assert "building" in run.stderr and "downloading" in run.stderr
    assert "1 frame, 3 pre-labels written to" in run.stderr
    document = json.loads(zipfile.ZipFile(out).read("annotations.json"))
    assert [c["name"] for c in document["categories"]] == ["cat", "dog"]
    assert len(document["annotations"]) == 3
    assert not list(tmp_path.glob("*.part"))


def test_a_refused_export_says_why(archiving_portal, tmp_path):
    portal, key = archiving_portal
    run = run_cli(
        ["export", "--service", "pets-detection", "--classes", "person", "-o", str(tmp_path / "x")],
        portal.base_url,
        key,
    )
    assert run.returncode == 1
    assert "not returned by pets-detection" in run.stderr
    assert not (tmp_path / "x").exists()
