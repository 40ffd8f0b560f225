"""One outbound POST to a tenant's URL, safe against server-side request forgery.

A webhook URL is chosen by a tenant, and the portal runs inside a VPC next to Redis, the
database and the cloud's metadata service, so the request must not reach any of them:

- the host is resolved once and *every* address it resolves to is checked: loopback, private
  (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), link-local (169.254/16, where
  the metadata service 169.254.169.254 lives, fe80::/10), multicast, reserved and unspecified
  addresses are refused; IPv4-mapped IPv6 is checked as the IPv4 it is;
- the connection goes to the address that was checked (no second lookup a DNS rebinding
  answer could change), with the URL's host name kept for the Host header and TLS (SNI and
  certificate check);
- redirects are never followed (http.client does not), timeouts are short, and at most
  MAX_READ_BYTES of the answer is read.

``allow_private`` (the IPCAI_WEBHOOK_ALLOW_PRIVATE setting, for on-premise installs and the
tests' receiver on 127.0.0.1) permits loopback, private and shared addresses; link-local,
metadata, multicast and reserved ones stay refused.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_READ_BYTES = 64 * 1024
EXCERPT_CHARS = 500
CONNECT_TIMEOUT_S = 3.0
TOTAL_TIMEOUT_S = 10.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL may not be called: bad scheme, no host, or an address that is refused."""


@dataclass(frozen=True)
class Answer:
    status: int | None
    latency_ms: float
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def address_refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Why this address may not be called, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "link-local (cloud metadata) address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "reserved address"
    if address.is_global:
        return None
    if allow_private and (address.is_loopback or address.is_private or _is_shared(address)):
        return None
    return "loopback or private address"


def _is_shared(address: IPAddress) -> bool:
    return isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network(
        "100.64.0.0/10"
    )


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL we would call, before any lookup; else UnsafeUrl."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl("the URL must start with http:// or https://")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not allowed; use the signature")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeUrl("the URL's port is not a number from 1 to 65535") from exc
    return parts.scheme, parts.hostname, port


def resolve_safe(host: str, port: int, allow_private: bool) -> str:
    """One checked address to connect to; UnsafeUrl if any address of the host is refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} does not resolve") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        reason = address_refusal(address, allow_private)
        if reason:
            raise UnsafeUrl(f"{host} resolves to a {reason} ({address}), which is not allowed")
    return str(addresses[0])


def validate_destination(url: str, allow_private: bool) -> None:
    """What endpoint creation calls: the same checks a delivery makes."""
    _, host, port = check_url(url)
    resolve_safe(host, port, allow_private)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool) -> Answer:
    """POST `body` to `url` once. Never raises for network trouble: the Answer says it."""
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    try:
        scheme, host, port = check_url(url)
        address = resolve_safe(host, port, allow_private)
    except UnsafeUrl as exc:
        return Answer(None, elapsed(), error=f"refused: {exc}"[:300])
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, CONNECT_TIMEOUT_S)
    deadline = time.monotonic() + TOTAL_TIMEOUT_S
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "ipcai-webhooks/1",
                **headers,
            },
        )
        response = connection.getresponse()
        data = b""
        while len(data) < MAX_READ_BYTES and time.monotonic() < deadline:
            chunk = response.read1(min(8192, MAX_READ_BYTES - len(data)))
            if not chunk:
                break
            data += chunk
        excerpt = data.decode("utf-8", "replace")[:EXCERPT_CHARS]
        return Answer(response.status, elapsed(), excerpt)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
