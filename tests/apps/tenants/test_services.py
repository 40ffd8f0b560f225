"""Tenant, key and service state changes (apps/tenants/services.py)."""

import pytest

from apps.tenants.application_types import ApplicationType
from apps.tenants.models import ApiKey, Membership, TenantService
from apps.tenants.services import (
    create_tenant,
    disable_service,
    enable_service,
    issue_api_key,
    revoke_api_key,
)


def test_create_tenant_enables_the_services_and_makes_the_first_the_default(db, alice):
    tenant = create_tenant(
        "acme", services=[ApplicationType.PETS, ApplicationType.PERSONS], owner=alice
    )
    assert tenant.default_application_type == ApplicationType.PETS
    assert set(tenant.services.filter(enabled=True).values_list("application_type", flat=True)) == {
        ApplicationType.PETS,
        ApplicationType.PERSONS,
    }
    assert Membership.objects.get(tenant=tenant, user=alice).role == Membership.Role.OWNER


@pytest.mark.parametrize(
    ("slug", "services"),
    [("acme", ["faces-detection"]), ("Not A Slug", [ApplicationType.PERSONS]), ("", [])],
)
def test_create_tenant_refuses_unknown_services_and_bad_slugs(db, slug, services):
    with pytest.raises(ValueError):
        create_tenant(slug, services=services)


def test_issued_key_is_stored_only_as_a_hash(tenant_a):
    key, raw = issue_api_key(tenant_a, name="door")
    row = ApiKey.objects.filter(pk=key.pk).values().get()
    secret = raw.rsplit("_", 1)[-1]
    assert all(secret not in str(value) for value in row.values())
    assert raw.startswith(key.prefix)


def test_revoking_stamps_the_key_once(key_a):
    revoke_api_key(key_a.key)
    first = ApiKey.objects.get(pk=key_a.key.pk).revoked_at
    revoke_api_key(ApiKey.objects.get(pk=key_a.key.pk))
    assert first is not None
    assert ApiKey.objects.get(pk=key_a.key.pk).revoked_at == first
    assert not ApiKey.objects.usable().filter(pk=key_a.key.pk).exists()


def test_enable_then_disable_a_service_keeps_its_settings(tenant_a):
    enable_service(tenant_a, ApplicationType.VEHICLES, min_confidence=0.6, save_request_events=True)
    disable_service(tenant_a, ApplicationType.VEHICLES)
    service = TenantService.objects.get(tenant=tenant_a, application_type=ApplicationType.VEHICLES)
    assert (service.enabled, service.min_confidence, service.save_request_events) == (
        False,
        0.6,
        True,
    )
    enable_service(tenant_a, ApplicationType.VEHICLES)
    service.refresh_from_db()
    assert service.enabled and service.min_confidence == 0.6


def test_min_confidence_outside_0_to_1_is_refused(tenant_a):
    with pytest.raises(ValueError):
        enable_service(tenant_a, ApplicationType.PETS, min_confidence=1.5)


def test_changing_one_tenant_leaves_the_other_alone(tenant_a, tenant_b):
    disable_service(tenant_a, ApplicationType.PERSONS)
    assert tenant_b.services.get(application_type=ApplicationType.PERSONS).enabled


def test_only_services_the_deployment_offers_can_be_enabled(tenant_a, settings):
    settings.IPCAI_OFFERED_SERVICES = ["persons-detection"]
    with pytest.raises(ValueError, match="not offered"):
        enable_service(tenant_a, ApplicationType.VEHICLES)


def test_new_services_follow_the_deployments_archiving_default(tenant_a, settings):
    settings.IPCAI_DEFAULT_SAVE_REQUEST_EVENTS = True
    assert enable_service(tenant_a, ApplicationType.VEHICLES).save_request_events is True
