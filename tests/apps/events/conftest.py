"""Fixtures for the events app: a private archive folder and spool per test, tenants with keys,
and archived events made through the real archive path (store_event)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.events import layout
from apps.events.archive import store_event
from apps.events.records import RequestEvent
from apps.events.storage import LocalFolderStorage
from apps.tenants.application_types import ApplicationType
from apps.tenants.models import ApiKey, Tenant
from apps.tenants.services import create_tenant, enable_service, issue_api_key
from tests.support.processes import shared_dir

PERSONS_JPEG = (shared_dir() / "images" / "persons.jpg").read_bytes()
SEED_RESPONSE = {
    "width": 546,
    "height": 819,
    "channels": 3,
    "bbox_coords": [[10.0, 20.0, 110.0, 320.0], [200.0, 40.0, 260.0, 300.0]],
    "bbox_scores": [[0.91], [0.77]],
    "class_names": [["person"], ["person"]],
    "model": "yolox_nano",
    "timings_ms": {"infer": 12.5, "total": 15.0},
}


@dataclass
class TenantWithKey:
    tenant: Tenant
    key: ApiKey
    raw_key: str

    def headers(self) -> dict[str, str]:
        return {"HTTP_X_API_KEY": self.raw_key}


@pytest.fixture
def archive(settings, tmp_path) -> LocalFolderStorage:
    """The archive (a folder) and the spool the app under test writes to, private per test."""
    settings.IPCAI_ARCHIVE_URL = f"file://{tmp_path / 'archive'}"
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    return LocalFolderStorage(tmp_path / "archive")


def make_tenant(slug: str, *services: str, save_events: bool = True) -> TenantWithKey:
    services = services or (ApplicationType.PERSONS,)
    tenant = create_tenant(slug, services=services)
    for service in services:
        enable_service(tenant, service, save_request_events=save_events)
    key, raw_key = issue_api_key(tenant, name="camera")
    return TenantWithKey(tenant, key, raw_key)


@pytest.fixture
def alice(db) -> TenantWithKey:
    return make_tenant("alice", ApplicationType.PERSONS, ApplicationType.PETS)


@pytest.fixture
def charlie(db) -> TenantWithKey:
    """An outsider: must never see anything of Alice's."""
    return make_tenant("charlie", ApplicationType.PERSONS)


def event_message(
    owner: TenantWithKey,
    *,
    application_type: str = ApplicationType.PERSONS,
    received_at: datetime | None = None,
    image: bytes | None = PERSONS_JPEG,
    request_id: str = "1242322",
    response: dict | None = None,
) -> dict:
    image_type = layout.sniff_image_type(image) if image else None
    return RequestEvent(
        event_id=layout.new_event_id(),
        tenant_id=owner.tenant.pk,
        tenant_slug=owner.tenant.slug,
        application_type=application_type,
        received_at=received_at or datetime.now(UTC),
        response=response or SEED_RESPONSE,
        request_id=request_id,
        portal_request_id="p" * 32,
        api_key_id=owner.key.pk,
        model="yolox_nano",
        timings={"infer": 12.5},
        image=image if image_type else None,
        image_type=image_type,
        image_size=len(image) if image_type else 0,
    ).to_message()


def archived(owner: TenantWithKey, storage: LocalFolderStorage, **kwargs) -> str:
    """An event archived through the real path; returns its id."""
    message = event_message(owner, **kwargs)
    store_event(message, storage)
    return message["event_id"]


def archive_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
