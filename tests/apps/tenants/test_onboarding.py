"""The first way in: `add_member` for operators, `setup_demo` for `make run`'s first start.

Each signs in with what the command printed, through the real sign-in form, as a user would.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from apps.core.grants import ALL_SCOPES
from apps.tenants.grants import resolve_key
from apps.tenants.models import Membership, Tenant

PASSWORD = re.compile(r"\(shown only once\): (\S+)$", re.MULTILINE)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def signs_in(username: str, password: str) -> Client:
    browser = Client()
    response = browser.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, "sign-in refused"
    return browser


def test_add_member_makes_an_existing_user_owner_and_changes_a_role(tenant_a, charlie):
    assert "charlie is now owner of 'alpha'" in run(
        "add_member", "alpha", "charlie", "--role", "owner"
    )
    assert Membership.objects.get(tenant=tenant_a, user=charlie).role == "owner"

    run("add_member", "alpha", "charlie", "--role", "viewer")
    assert Membership.objects.get(tenant=tenant_a, user=charlie).role == "viewer"


def test_add_member_create_prints_a_password_that_signs_in_to_the_tenant(tenant_a):
    output = run("add_member", "alpha", "dora", "--role", "owner", "--create")

    (password,) = PASSWORD.findall(output)
    browser = signs_in("dora", password)
    assert browser.get("/t/alpha/").status_code == 200
    assert browser.get("/t/bravo/").status_code == 404  # a member of alpha only
    assert not get_user_model().objects.get(username="dora").is_staff


def test_add_member_refuses_unknown_tenants_users_and_roles(tenant_a):
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        run("add_member", "nope", "alice")
    with pytest.raises(CommandError, match="add --create"):
        run("add_member", "alpha", "nobody")
    with pytest.raises(CommandError, match="invalid choice"):
        run("add_member", "alpha", "alice", "--role", "king")


def test_setup_demo_once_gives_a_key_and_an_owner_who_is_also_the_operator(db):
    output = run("setup_demo")

    fields = dict(line.split(" ", 1) for line in output.splitlines())
    assert fields["username"] == "demo"
    grant = resolve_key(fields["api_key"])
    assert grant.tenant_slug == "demo"
    assert grant.scopes == ALL_SCOPES  # the newcomer's CLI reads keys, usage and events with it
    assert sorted(grant.enabled_services()) == [
        "persons-detection",
        "pets-detection",
        "vehicles-detection",
    ]
    browser = signs_in("demo", fields["password"])
    assert browser.get("/t/demo/").status_code == 200
    assert browser.get("/admin/").status_code == 200  # staff: the operator of this install

    # A second start changes nothing and shows no secret again.
    again = run("setup_demo")
    assert "exists" in again and fields["password"] not in again
    assert Tenant.objects.filter(slug="demo").count() == 1
    assert get_user_model().objects.filter(username="demo").count() == 1
