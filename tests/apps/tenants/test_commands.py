"""Operator commands: create_tenant and issue_api_key print a working key once."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.tenants.grants import resolve_key
from apps.tenants.models import ApiKey, Tenant

KEY = re.compile(r"^ipcai_[0-9a-f]{12}_\S+$", re.MULTILINE)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_tenant_prints_one_working_key(db):
    output = run("create_tenant", "acme", "--services", "persons-detection,pets-detection")
    keys = KEY.findall(output)
    assert len(keys) == 1
    grant = resolve_key(keys[0])
    assert grant.tenant_slug == "acme"
    assert sorted(grant.enabled_services()) == ["persons-detection", "pets-detection"]
    assert grant.default_application_type == "persons-detection"


def test_create_tenant_with_a_quota(db):
    run("create_tenant", "acme", "--quota", "500")
    assert Tenant.objects.get(slug="acme").monthly_request_quota == 500


def test_create_tenant_refuses_duplicates_and_unknown_services(db):
    run("create_tenant", "acme")
    with pytest.raises(CommandError, match="already exists"):
        run("create_tenant", "acme")
    with pytest.raises(CommandError, match="unknown application type"):
        run("create_tenant", "other", "--services", "faces-detection")


def test_issue_api_key_adds_a_second_key(tenant_a, key_a):
    output = run("issue_api_key", "alpha", "--name", "garage", "--expires-in-days", "30")
    raw = KEY.findall(output)[0]
    assert raw != key_a.raw
    assert resolve_key(raw).tenant_id == tenant_a.pk
    assert ApiKey.objects.get(name="garage").expires_at is not None
