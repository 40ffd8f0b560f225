"""The guards every route shares: bodies bounded before parsing, /admin/ only from configured
networks, a Content-Security-Policy without inline script on every page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from harness.processes import REPO_ROOT

pytestmark = pytest.mark.django_db

ROUTES = ["/inference", "/v1/vision/detection", "/api/v1/keys", "/accounts/login/", "/nowhere"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_body_declared_over_the_limit_is_refused_on_every_route(client: Client, path):
    response = client.post(
        path, b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(2**30)
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_within_the_limit_reaches_the_view(client: Client, settings, key_a):
    settings.IPCAI_MAX_REQUEST_BODY_BYTES = 1000
    small = client.post("/api/v1/keys", {"name": "x"}, content_type="application/json")
    assert small.status_code == 401  # the view answered: no key
    large = client.post(
        "/api/v1/keys", {"name": "x" * 2000}, content_type="application/json", **key_a.headers
    )
    assert large.status_code == 413


def test_a_bad_content_length_is_a_400(client: Client):
    response = client.post(
        "/api/v1/keys", b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_content_length"


@pytest.fixture
def admin_from_office(settings) -> None:
    settings.IPCAI_ADMIN_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    settings.IPCAI_TRUSTED_PROXIES = ["10.0.0.0/8"]


def test_admin_answers_only_the_configured_networks(client: Client, admin_from_office):
    assert client.get("/admin/login/", REMOTE_ADDR="192.0.2.44").status_code == 200
    assert client.get("/admin/login/", REMOTE_ADDR="198.51.100.7").status_code == 404
    # Behind the load balancer the client is the hop it appended, and a forged one is ignored.
    via_proxy = {"REMOTE_ADDR": "10.1.2.3"}
    assert (
        client.get("/admin/login/", HTTP_X_FORWARDED_FOR="192.0.2.44", **via_proxy).status_code
        == 200
    )
    assert (
        client.get(
            "/admin/login/", HTTP_X_FORWARDED_FOR="192.0.2.44, 198.51.100.7", **via_proxy
        ).status_code
        == 404
    )
    # The rest of the portal stays reachable from anywhere.
    assert client.get("/accounts/login/", REMOTE_ADDR="198.51.100.7").status_code == 200


def test_admin_is_open_when_no_network_is_configured(client: Client, settings):
    settings.IPCAI_ADMIN_ALLOWED_NETWORKS = []
    assert client.get("/admin/login/", REMOTE_ADDR="198.51.100.7").status_code == 200


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/t/alpha/keys/", "/api/v1/keys", "/admin/login/"]
)
def test_every_response_carries_a_policy_that_forbids_inline_script(
    client: Client, alice, tenant_a, path
):
    client.force_login(alice)
    policy = _directives(client.get(path)["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_dashboard_templates_have_no_inline_script():
    """What the policy would block: <script> bodies (json_script's application/json data
    is not script) and on*= handler attributes."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>\s*\S")
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("templates", "apps")
        for path in (REPO_ROOT / folder).rglob("*.html")
        if inline_script.search(path.read_text()) or handler.search(path.read_text())
    ]
    assert offenders == []
