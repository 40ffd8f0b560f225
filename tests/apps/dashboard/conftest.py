"""Dashboard fixtures on top of the trio (tests/apps/conftest.py): signed-in clients, a private
archive folder, and request events archived through the real path (a Try it request with
event saving on, run by the real worker; Celery runs eagerly in the test settings)."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.archive.listing import tenant_events
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import enable_service
from harness.images import seed_image


def signed_in(user, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


@pytest.fixture
def archive(settings, tmp_path) -> None:
    """Archive and spool folders private to the test."""
    settings.IPCAI_ARCHIVE_URL = f"file://{tmp_path / 'archive'}"
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"


def try_it(client: Client, slug: str, service: str, image: bytes, **extra):
    """POST the image the way the Try it page's script does (raw body, session)."""
    return client.post(
        f"/t/{slug}/api/detect/{service}",
        data=image,
        content_type="image/jpeg",
        **extra,
    )


def archived_event(user, tenant, service: str, image_name: str) -> str:
    """Archive one request event of `tenant` through Try it; returns the event id (hex)."""
    enable_service(tenant, service, save_request_events=True)
    response = try_it(signed_in(user), tenant.slug, service, seed_image(image_name))
    assert response.status_code == 200, response.content
    return tenant_events(tenant.pk).get().id.hex


@pytest.fixture
def bravo_event(inference, archive, charlie, tenant_b) -> str:
    return archived_event(charlie, tenant_b, ApplicationType.PERSONS, "persons")


@pytest.fixture
def alpha_event(inference, archive, alice, tenant_a) -> str:
    return archived_event(alice, tenant_a, ApplicationType.PETS, "pets")
