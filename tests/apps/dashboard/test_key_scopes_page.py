"""The keys page shows every key's scopes, creates keys with the scopes ticked, and lets an
owner narrow a key (keys from before scopes have all three and say so)."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from apps.tenants.models import ApiKey
from tests.apps.dashboard.conftest import signed_in

pytestmark = pytest.mark.django_db


def row_of(html: str, public_id: str) -> str:
    match = re.search(rf'<tr data-key="{public_id}">(.*?)</tr>', html, re.S)
    assert match, public_id
    return match.group(1)


def test_each_key_shows_its_scopes_and_an_all_scope_key_asks_to_be_narrowed(alice, key_a):
    page = signed_in(alice).get("/t/alpha/keys/").content.decode()
    row = row_of(page, key_a.key.public_id)
    assert re.findall(r'<span class="badge scope">([^<]+)</span>', row) == [
        "detect",
        "events:read",
        "manage",
    ]
    assert "every scope: narrow it" in row


def test_a_key_is_created_with_the_scopes_ticked(alice, tenant_a):
    client = signed_in(alice)
    page = client.get("/t/alpha/keys/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/t/alpha/keys/",
        {"form_token": token, "name": "nvr", "scopes": ["detect", "events:read"]},
    )
    assert response.status_code == 200
    assert "It may: detect, events:read." in response.content.decode()
    assert ApiKey.objects.get(name="nvr").scopes == ["detect", "events:read"]


def test_an_owner_narrows_a_key_and_its_next_request_obeys(alice, key_a):
    api = APIClient()
    assert api.get("/api/v1/keys", **key_a.headers).status_code == 200
    response = signed_in(alice).post(
        f"/t/alpha/keys/{key_a.key.public_id}/scopes/", {"scopes": ["detect"]}, follow=True
    )
    assert "may now: detect." in response.content.decode()
    assert api.get("/api/v1/keys", **key_a.headers).status_code == 403


def test_no_scope_at_all_is_refused(alice, key_a):
    response = signed_in(alice).post(
        f"/t/alpha/keys/{key_a.key.public_id}/scopes/", {}, follow=True
    )
    assert "Pick at least one scope." in response.content.decode()
    key_a.key.refresh_from_db()
    assert len(key_a.key.scopes) == 3


def test_a_viewer_cannot_change_scopes_and_an_outsider_sees_nothing(bob, charlie, key_a, tenant_b):
    url = f"/t/alpha/keys/{key_a.key.public_id}/scopes/"
    assert signed_in(bob).post(url, {"scopes": ["detect"]}).status_code == 403
    assert signed_in(charlie).post(url, {"scopes": ["detect"]}).status_code == 404
    viewer_page = signed_in(bob).get("/t/alpha/keys/").content.decode()
    assert "Change scopes" not in viewer_page
    key_a.key.refresh_from_db()
    assert len(key_a.key.scopes) == 3
