"""Where a webhook may point (security review, issue 31, Low): cloud metadata addresses are
refused even where private destinations are allowed, ports outside the allow-list are refused,
and a refusal never tells the tenant which private address a host resolved to."""

from __future__ import annotations

import ipaddress

import pytest

from apps.alerts.webhooks import outbound
from apps.alerts.webhooks.endpoints import EndpointError, create_endpoint


@pytest.mark.parametrize(
    "address", ["fd00:ec2::254", "100.100.100.200", "192.0.0.192", "168.63.129.16"]
)
def test_cloud_metadata_addresses_are_refused_even_with_private_allowed(address):
    assert outbound.address_refusal(ipaddress.ip_address(address), True) is not None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.example.com/x", True),
        ("http://hooks.example.com/x", True),
        ("https://hooks.example.com:8443/x", True),
        ("https://hooks.example.com:6379/x", False),
        ("http://hooks.example.com:22/x", False),
        ("http://hooks.example.com:9000/x", False),
    ],
)
def test_only_allowed_ports_may_be_named(url, allowed):
    if allowed:
        outbound.check_url(url, outbound.DEFAULT_PORTS)
    else:
        with pytest.raises(outbound.UnsafeUrl, match="port"):
            outbound.check_url(url, outbound.DEFAULT_PORTS)


def test_the_port_allow_list_is_a_setting(tenant_a, settings):
    settings.IPCAI_WEBHOOK_PORTS = "443"
    with pytest.raises(EndpointError, match="port 80 is not allowed"):
        create_endpoint(tenant_a, "http://127.0.0.1/hook")


def test_a_refusal_does_not_show_the_resolved_address(tenant_a, settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(EndpointError) as refused:
        create_endpoint(tenant_a, "http://localhost:8080/hook")
    assert "127.0.0.1" not in str(refused.value) and "::1" not in str(refused.value)
    assert "not allowed" in str(refused.value)
