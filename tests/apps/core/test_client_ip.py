"""Which address the per-IP limits and the admin allow-list see: X-Forwarded-For counts only
when the direct peer is a trusted proxy, and then only the hops our proxies appended."""

from __future__ import annotations

import pytest

from apps.core.client_ip import client_ip


@pytest.fixture
def behind_load_balancer(settings) -> None:
    settings.IPCAI_TRUSTED_PROXIES = ["10.0.0.0/16", "fd00::/8"]


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.IPCAI_TRUSTED_PROXIES = []
    meta = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client_ip(meta) == "203.0.113.9"


def test_a_client_cannot_pick_its_address_by_sending_the_header(behind_load_balancer):
    # The client wrote "1.2.3.4"; the load balancer appended the address it saw.
    meta = {"REMOTE_ADDR": "10.0.3.7", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.23"}
    assert client_ip(meta) == "198.51.100.23"


def test_a_direct_caller_outside_the_proxies_is_taken_at_its_word_never_its_header(
    behind_load_balancer,
):
    meta = {"REMOTE_ADDR": "198.51.100.23", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}
    assert client_ip(meta) == "198.51.100.23"


def test_several_trusted_hops_are_skipped(behind_load_balancer):
    meta = {
        "REMOTE_ADDR": "10.0.3.7",
        "HTTP_X_FORWARDED_FOR": "2001:db8::5, 10.0.9.9, fd00::1",
    }
    assert client_ip(meta) == "2001:db8::5"


def test_garbage_in_the_header_falls_back_to_the_peer(behind_load_balancer):
    meta = {"REMOTE_ADDR": "10.0.3.7", "HTTP_X_FORWARDED_FOR": "not-an-ip"}
    assert client_ip(meta) == "10.0.3.7"
    assert client_ip({"REMOTE_ADDR": "10.0.3.7"}) == "10.0.3.7"
