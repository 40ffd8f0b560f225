"""`ipcai export` against a real portal with Celery: the job is built on the service, its
progress shown, the zip streamed to a file; the service's refusals come back as messages."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator

import pytest
import requests

from harness.images import seed_image
from harness.portal import Portal
from tests.client.running_cli import json_lines, run_cli
from tests.support.archiving import archiving_portal, wait_until_archived


@pytest.fixture(scope="module")
def exporter_portal(tmp_path_factory, live_worker_url) -> Iterator[tuple[Portal, str]]:
    folder = tmp_path_factory.mktemp("export-portal")
    with archiving_portal(folder, live_worker_url) as portal:
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

        wait_until_archived(portal, key, 2)
        yield portal, key


def test_export_shows_progress_and_writes_the_zip(exporter_portal, tmp_path):
    portal, key = exporter_portal
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


def test_a_refused_export_says_why(exporter_portal, tmp_path):
    portal, key = exporter_portal
    run = run_cli(
        ["export", "--service", "pets-detection", "--classes", "person", "-o", str(tmp_path / "x")],
        portal.base_url,
        key,
    )
    assert run.returncode == 1
    assert "not returned by pets-detection" in run.stderr
    assert not (tmp_path / "x").exists()


def test_an_export_with_archiving_off_says_so_and_how_to_turn_it_on(exporter_portal, tmp_path):
    portal, _ = exporter_portal
    key = portal.create_tenant("not-archiving", ["persons-detection"])
    run = run_cli(["export", "-o", str(tmp_path / "empty.zip")], portal.base_url, key)
    assert run.returncode == 1
    assert run.stderr.startswith("ipcai: archiving is off"), run.stderr
    assert "Save requests (image and response)" in run.stderr
    # Nothing written: no zip, no "0 frames ... written", no JSON line.
    assert "written" not in run.stderr and run.stdout == ""
    assert list(tmp_path.iterdir()) == []
