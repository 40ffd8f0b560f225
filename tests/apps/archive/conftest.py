"""Fixtures for the request archive: the shared trio's tenants with archiving on, and archived
events made through the real archive path (the private archive folder is tests/apps/conftest.py's
`archive` fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.archive import layout
from apps.archive.records import RequestEvent
from apps.archive.store import store_event
from apps.core.storage import LocalFolderStorage
from apps.tenants.application_types import ApplicationType
from apps.tenants.models import ApiKey, Tenant
from apps.tenants.services import update_service
from harness.processes import shared_dir
from tests.apps.conftest import IssuedKey

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


def with_archiving(tenant: Tenant, issued: IssuedKey, *, on: bool = True) -> TenantWithKey:
    for service in tenant.services.all():
        update_service(service, save_request_events=on)
    return TenantWithKey(tenant, issued.key, issued.raw)


@pytest.fixture
def archiving_a(tenant_a, key_a) -> TenantWithKey:
    """The shared trio's tenant A ("alpha": persons + pets) with archiving on."""
    return with_archiving(tenant_a, key_a)


@pytest.fixture
def archiving_b(tenant_b, key_b) -> TenantWithKey:
    """Tenant B ("bravo"), archiving too: it must never see anything of A's."""
    return with_archiving(tenant_b, key_b)


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
