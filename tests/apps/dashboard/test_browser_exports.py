"""Dataset exports in a real browser (Debian's Chromium through Playwright), against the portal
as deployed with Celery building the export: an owner exports the pets frames as Label Studio
tasks, watches the job finish and downloads the zip; the services page names the model."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from harness.portal import Portal
from tests.apps.dashboard import test_browser
from tests.apps.dashboard.test_browser import (
    PETS_JPG,
    USERS_SCRIPT,
    reload_until,
    screenshot,
    sign_in,
)
from tests.support.archiving import archiving_portal, wait_until_archived

pytestmark = pytest.mark.browser
browser, open_page = test_browser.browser, test_browser.open_page  # the shared fixtures


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("browser-exports")
    with archiving_portal(folder, worker_url) as portal:
        key = portal.create_tenant("alpha", ["persons-detection", "pets-detection"])
        portal.manage("shell", "-c", USERS_SCRIPT)
        portal.manage("archive_requests", "alpha", "--on")
        for _ in range(2):
            response = requests.post(
                f"{portal.base_url}/api/v1/detect/pets-detection",
                data=PETS_JPG.read_bytes(),
                headers={"x-api-key": key, "Content-Type": "image/jpeg"},
                timeout=30,
            )
            assert response.status_code == 200
        wait_until_archived(portal, key, 2)
        yield portal


def test_an_owner_exports_label_studio_tasks_and_downloads_the_zip(portal, open_page, tmp_path):
    page = open_page()
    sign_in(page, "alice")
    page.get_by_role("link", name="Services").click()
    expect(page.locator("#service-pets-detection [data-model]")).to_contain_text(
        "Model: deployment default"
    )
    page.get_by_role("link", name="Exports").click()
    page.get_by_label("Format").select_option("labelstudio")
    page.get_by_label("Service").select_option("pets-detection")
    page.get_by_label("Sample size").fill("5")
    page.get_by_role("button", name="Start export").click()
    reload_until(page, lambda: page.locator('tr[data-status="done"]').count() == 1, 60)
    row = page.locator('tr[data-status="done"]')
    expect(row).to_contain_text("Label Studio")
    expect(row).to_contain_text("pets-detection")
    screenshot(page, "20-exports")
    with page.expect_download() as download:
        row.get_by_role("link", name="zip").click()
    path = tmp_path / "export.zip"
    download.value.save_as(path)
    names = zipfile.ZipFile(path).namelist()
    assert "tasks.json" in names
    assert len([n for n in names if n.startswith("images/")]) == 2


def test_a_viewer_has_no_exports_tab(portal, open_page):
    page = open_page()
    sign_in(page, "bob")
    expect(page.get_by_role("link", name="Exports")).to_have_count(0)
    expect(page.get_by_role("link", name="Reports")).to_have_count(1)
