"""The client keeps the key off the network where it can (security review, issue 31, Low): a
warning when it would travel over plain http:// to another host, and a relay that listens on
this machine only unless told a host."""

from __future__ import annotations

import warnings

import pytest
from ipcai.client import Client, InsecureKeyWarning
from ipcai.relay import parse_listen

KEY = "ipcai_000000000000_k"


@pytest.mark.parametrize("url", ["http://portal.example.com", "http://192.168.1.20:8000"])
def test_a_key_over_plain_http_to_another_host_warns(url):
    with pytest.warns(InsecureKeyWarning, match="unencrypted"):
        Client(KEY, url).close()


@pytest.mark.parametrize(
    "url", ["https://portal.example.com", "http://127.0.0.1:8000", "http://localhost:8000"]
)
def test_https_or_this_machine_does_not_warn(url):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsecureKeyWarning)
        Client(KEY, url).close()


@pytest.mark.parametrize(
    ("listen", "bound"),
    [
        ("5000", ("127.0.0.1", 5000)),
        (":5000", ("127.0.0.1", 5000)),
        ("0.0.0.0:5000", ("0.0.0.0", 5000)),
        ("[::1]:5001", ("::1", 5001)),
    ],
)
def test_the_relay_listens_on_this_machine_unless_given_a_host(listen, bound):
    assert parse_listen(listen) == bound
