"""The access layer against the portal as deployed (gunicorn, real Redis, a fresh database, the
real worker), driven over raw sockets and plain HTTP the way an attacker would: scoped keys,
bounded bodies, the per-IP limit on failed authentication."""

from __future__ import annotations

import os
import secrets
import select
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
import requests

from harness.portal import Portal, running_portal
from tests.apps.detection.conftest import SEED_BODY

GIB = 1024**3
# The kernel's socket buffers take a few MB before a server reads anything; a portal that read
# the body would make the client send all of it.
SENT_BEFORE_ANSWER_MAX = 64 * 1024**2
AUTH_FAILURE_LIMIT = 50


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Portal:
    uploads = tmp_path_factory.mktemp("upload-tmp")
    with running_portal(
        tmp_path_factory.mktemp("portal"),
        worker_url,
        TMPDIR=str(uploads),  # where Django would spool a large upload
        IPCAI_AUTH_FAILURE_LIMIT=str(AUTH_FAILURE_LIMIT),
    ) as portal:
        portal.env["_UPLOAD_TMP"] = str(uploads)
        yield portal


@pytest.fixture(scope="module")
def key(portal) -> str:
    return portal.create_tenant("alpha", ["persons-detection"])


def _address(portal: Portal) -> tuple[str, int]:
    host, port = portal.base_url.removeprefix("http://").split(":")
    return host, int(port)


def _status_of(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])


def _read_head(sock: socket.socket, deadline: float) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    return data


def stream_body(portal: Portal, head: str, body_chunk: bytes, total: int) -> tuple[int, int]:
    """Send `head`, then body bytes until the portal answers (or `total` is sent); return
    (status, body bytes sent before the answer)."""
    sent = 0
    deadline = time.monotonic() + 60
    with socket.create_connection(_address(portal), timeout=30) as sock:
        sock.sendall(head.encode())
        while sent < total and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 5)
            if readable:
                break
            if writable:
                try:
                    sent += sock.send(body_chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
        answer = _read_head(sock, deadline)
    return _status_of(answer), sent


ROUTES = [
    ("POST", "/inference", "application/json"),
    ("POST", "/v1/vision/detection", "multipart/form-data; boundary=xyz"),
    ("POST", "/api/v1/keys", "application/json"),
    ("POST", "/accounts/login/", "multipart/form-data; boundary=xyz"),
    ("POST", "/admin/login/", "application/x-www-form-urlencoded"),
    ("PUT", "/no/such/route", "application/octet-stream"),
]


@pytest.mark.parametrize(("method", "path", "content_type"), ROUTES)
def test_a_1_gib_body_is_refused_before_it_is_read(portal, method, path, content_type):
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {GIB}\r\n\r\n"
    )
    status, sent = stream_body(portal, head, b"x" * 65536, GIB)
    assert status == 413
    assert sent < SENT_BEFORE_ANSWER_MAX
    uploads = Path(portal.env["_UPLOAD_TMP"])
    assert [p.name for p in uploads.rglob("*") if "upload" in p.name] == []


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_a_chunked_body_is_cut_off_at_the_limit(portal):
    head = (
        "POST /v1/vision/detection HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    status, sent = stream_body(portal, head, _chunk(b"x" * 65536), GIB)
    assert status == 413
    assert sent < SENT_BEFORE_ANSWER_MAX


def test_a_small_chunked_body_still_works(portal, key):
    """Bounding chunked bodies also means they are read at all (Django alone reads none)."""
    response = requests.post(
        f"{portal.base_url}/inference",
        data=iter([SEED_BODY[:1000], SEED_BODY[1000:]]),  # a generator: requests sends chunked
        headers={"x-api-key": key, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["class_names"] == [["person"]] * 5


def _random_key() -> str:
    return f"ipcai_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


def _shell(portal: Portal, code: str) -> str:
    """The last line `manage.py shell -c code` printed (the shell may print a banner first)."""
    return portal.manage("shell", "-c", code).strip().splitlines()[-1]


@pytest.fixture
def unblocked_afterwards(portal) -> Iterator[None]:
    """The flood blocks 127.0.0.1, which every test here connects from: lift it after."""
    yield
    import redis

    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    client.delete(f"{portal.env['IPCAI_REDIS_PREFIX']}failures:apikey-ip:127.0.0.1")


def test_2000_random_keys_from_one_ip_end_in_429_and_store_no_usage_rows(
    portal, key, unblocked_afterwards
):
    session = requests.Session()
    manage = {"x-api-key": key}
    assert session.get(f"{portal.base_url}/api/v1/keys", headers=manage).status_code == 200

    def attempt(number: int) -> int:
        headers = {"x-api-key": _random_key(), "Content-Type": "application/json"}
        if number % 2:  # a forged header changes nothing: no proxy is trusted here
            headers["X-Forwarded-For"] = f"198.51.100.{number % 250}"
        return (
            sessions[number % CLIENTS]
            .post(f"{portal.base_url}/inference", data=b"{}", headers=headers, timeout=30)
            .status_code
        )

    # Eight connections at once, as a guesser would; the limit holds across them.
    CLIENTS = 8
    sessions = [requests.Session() for _ in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(attempt, range(2000)))

    # A few requests already past the check when the limit was reached may still be answered
    # 401; none beyond those, and every late one is refused.
    assert AUTH_FAILURE_LIMIT <= statuses.count(401) <= AUTH_FAILURE_LIMIT + CLIENTS
    assert statuses.count(401) + statuses.count(429) == 2000
    assert set(statuses[-1000:]) == {429}
    blocked = session.post(f"{portal.base_url}/inference", headers={"x-api-key": _random_key()})
    assert blocked.json()["error"]["code"] == "too_many_auth_failures"
    assert 0 < int(blocked.headers["Retry-After"]) <= 300
    # The owner's key, already known to the portal, keeps working from the blocked address.
    assert session.get(f"{portal.base_url}/api/v1/keys", headers=manage).status_code == 200

    portal.drain_usage()
    stored = _shell(
        portal,
        "from apps.usage.models import UsageEvent; "
        "print(UsageEvent.objects.filter(tenant=None).count())",
    )
    assert stored == "0"
    counted = _shell(
        portal,
        "import json; from apps.usage.anonymous import anonymous_failures; "
        "print(json.dumps(anonymous_failures()))",
    )
    assert sum(orjson.loads(counted).values()) >= 2000


def test_a_detect_key_detects_but_gets_403_on_the_keys_and_events_apis(portal, key):
    detect_only = portal.issue_api_key("alpha", "camera")  # a new key: detect only
    headers = {"x-api-key": detect_only}
    for path in ("/api/v1/keys", "/api/v1/events"):
        response = requests.get(f"{portal.base_url}{path}", headers=headers, timeout=30)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "insufficient_scope"
    minted = requests.post(
        f"{portal.base_url}/api/v1/keys", json={"name": "x"}, headers=headers, timeout=30
    )
    assert minted.status_code == 403
    detected = requests.post(
        f"{portal.base_url}/inference",
        data=SEED_BODY,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert detected.status_code == 200


def test_a_key_cannot_mint_a_broader_or_longer_lived_key(portal, key):
    made = requests.post(
        f"{portal.base_url}/api/v1/keys",
        json={"name": "ops", "scopes": ["detect", "manage"], "expires_in_days": 5},
        headers={"x-api-key": key},
        timeout=30,
    )
    assert made.status_code == 201
    ops = {"x-api-key": made.json()["secret"]}

    def mint(body: dict) -> requests.Response:
        return requests.post(f"{portal.base_url}/api/v1/keys", json=body, headers=ops, timeout=30)

    broader = mint({"name": "b", "scopes": ["detect", "events:read"]})
    assert (broader.status_code, broader.json()["error"]["code"]) == (403, "scope_not_allowed")
    longer = mint({"name": "l", "scopes": ["detect"], "expires_in_days": 30})
    assert (longer.status_code, longer.json()["error"]["code"]) == (403, "expiry_not_allowed")
    within = mint({"name": "w", "scopes": ["detect"]})
    assert within.status_code == 201
    assert within.json()["key"]["expires_at"] == made.json()["key"]["expires_at"]
