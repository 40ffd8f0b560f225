"""Shared fixtures for every portal app's tests (healthchecks-style trio, a real worker).

- Alice owns tenant A ("alpha": persons + pets detection), Bob is a viewer member of A,
  Charlie owns tenant B ("bravo": persons detection only). Each tenant has one API key, with
  every scope (tests of narrower keys issue their own).
  Every API and view test can then check the owner path *and* that the other tenant's
  key or user sees and changes nothing.
- `worker_url`: one real gpu_worker (yolox_nano, ONNX Runtime) for the whole session.
- `inference`: points the portal at that worker for one test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings

from apps.core.grants import ALL_SCOPES
from apps.core.storage import LocalFolderStorage
from apps.tenants.application_types import ApplicationType
from apps.tenants.models import ApiKey, Membership, Tenant
from apps.tenants.services import add_member, create_tenant, issue_api_key
from harness.portal import forget_redis_prefix
from harness.worker import running_worker
from tests.apps.factories import UserFactory


@dataclass
class IssuedKey:
    key: ApiKey
    raw: str

    @property
    def headers(self) -> dict[str, str]:
        """Django test-client kwargs sending this key the seed's way."""
        return {"HTTP_X_API_KEY": self.raw}


@pytest.fixture(scope="session", autouse=True)
def _forget_test_redis_keys() -> Iterator[None]:
    """Counters, caches and queues of this run live under a unique prefix; drop them at the end."""
    yield
    forget_redis_prefix(django_settings.IPCAI_REDIS_PREFIX)


@pytest.fixture(autouse=True)
def _fresh_redis_namespace(settings) -> None:
    """Each test counts, caches and queues in its own Redis namespace: rolled-back test
    databases reuse primary keys, and a tenant's quota counter must not outlive its test."""
    settings.IPCAI_REDIS_PREFIX = f"{django_settings.IPCAI_REDIS_PREFIX}{uuid.uuid4().hex[:8]}:"


@pytest.fixture(scope="session")
def worker_url(tmp_path_factory) -> Iterator[str]:
    with running_worker(tmp_path_factory.mktemp("worker")) as (_, base_url):
        yield base_url


@pytest.fixture
def inference(settings, worker_url) -> str:
    """Send this test's inference to the session's real worker."""
    settings.IPCAI_INFERENCE_CLIENT = "http"
    settings.IPCAI_WORKER_URL = worker_url
    return worker_url


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie")


@pytest.fixture
def tenant_a(alice, bob) -> Tenant:
    tenant = create_tenant(
        "alpha",
        name="Alpha",
        services=[ApplicationType.PERSONS, ApplicationType.PETS],
        owner=alice,
    )
    add_member(tenant, bob, Membership.Role.VIEWER)
    return tenant


@pytest.fixture
def tenant_b(charlie) -> Tenant:
    return create_tenant("bravo", name="Bravo", services=[ApplicationType.PERSONS], owner=charlie)


@pytest.fixture
def key_a(tenant_a, alice) -> IssuedKey:
    return IssuedKey(
        *issue_api_key(tenant_a, name="alpha camera", created_by=alice, scopes=ALL_SCOPES)
    )


@pytest.fixture
def key_b(tenant_b, charlie) -> IssuedKey:
    return IssuedKey(
        *issue_api_key(tenant_b, name="bravo camera", created_by=charlie, scopes=ALL_SCOPES)
    )


@pytest.fixture
def archive(settings, tmp_path) -> LocalFolderStorage:
    """The archive (a folder) and the spool the app under test writes to, private per test."""
    settings.IPCAI_ARCHIVE_URL = f"file://{tmp_path / 'archive'}"
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    return LocalFolderStorage(tmp_path / "archive")
