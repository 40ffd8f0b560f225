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
- redirects are never followed (http.client does not), and at most MAX_READ_BYTES of the
  answer is read;
- one hard deadline covers the whole exchange (connect, TLS, sending, the status line, the
  headers and the body): a receiver that answers a byte at a time, each within any per-read
  timeout, is cut off when it passes (the socket is shut down under the reading thread), so
  one tenant's slow receiver holds a Celery worker for at most the deadline;
- cloud metadata addresses are refused by name even where private addresses are allowed
  (AWS's IPv6 fd00:ec2::254, Alibaba's 100.100.100.200, ...), ports outside the allow-list
  (IPCAI_WEBHOOK_PORTS) are refused, and refusals never show the address a host resolved to.

``allow_private`` (the IPCAI_WEBHOOK_ALLOW_PRIVATE setting, for on-premise installs and the
tests' receiver on 127.0.0.1) permits loopback, private and shared addresses; link-local,
metadata, multicast and reserved ones stay refused.

The host name is resolved before the deadline starts, by the system resolver with its own
timeouts (getaddrinfo cannot be interrupted).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_READ_BYTES = 64 * 1024
EXCERPT_CHARS = 500
CONNECT_TIMEOUT_S = 3.0
TOTAL_TIMEOUT_S = 10.0  # the default deadline (IPCAI_WEBHOOK_DEADLINE_S)
DEFAULT_PORTS = "80,443,8000-8999"
# Cloud metadata and platform services by address: refused even when private ones are
# allowed (link-local 169.254.0.0/16 and fe80::/10, where most clouds put theirs, are refused
# as link-local).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::253",  # AWS DNS over IPv6
        "100.100.100.200",  # Alibaba Cloud metadata
        "192.0.0.192",  # Oracle Cloud metadata
        "168.63.129.16",  # Azure WireServer
    )
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL may not be called: bad scheme, no host, or an address that is refused."""


class PrivateAddress(UnsafeUrl):
    """Refused only because the address is loopback or private: the one refusal a setting
    (IPCAI_WEBHOOK_ALLOW_PRIVATE) lifts."""


PRIVATE_REFUSAL = "loopback or private address"


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
    if address.is_link_local or address in METADATA_ADDRESSES:
        return "link-local (cloud metadata) address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "reserved address"
    if address.is_global:
        return None
    if allow_private and (address.is_loopback or address.is_private or _is_shared(address)):
        return None
    return PRIVATE_REFUSAL


def _is_shared(address: IPAddress) -> bool:
    return isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network(
        "100.64.0.0/10"
    )


def allowed_ports(spec: str) -> list[tuple[int, int]]:
    """ "80,443,8000-8999" -> [(80, 80), (443, 443), (8000, 8999)]; "*" allows every port."""
    if spec.strip() == "*":
        return [(1, 65535)]
    ranges = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        low, _, high = part.partition("-")
        ranges.append((int(low), int(high or low)))
    return ranges


def check_url(url: str, ports: str = DEFAULT_PORTS) -> tuple[str, str, int]:
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
    if not any(low <= port <= high for low, high in allowed_ports(ports)):
        raise UnsafeUrl(f"port {port} is not allowed for webhooks (allowed: {ports})")
    return parts.scheme, parts.hostname, port


def resolve_safe(host: str, port: int, allow_private: bool) -> str:
    """One checked address to connect to; UnsafeUrl if any address of the host is refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} does not resolve") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        reason = address_refusal(address, allow_private)
        if reason:
            # Never the address itself: the message would map the private network.
            refusal = PrivateAddress if reason == PRIVATE_REFUSAL else UnsafeUrl
            raise refusal(f"{host} resolves to an address that is not allowed ({reason})")
    return str(addresses[0])


def validate_destination(url: str, allow_private: bool, ports: str = DEFAULT_PORTS) -> None:
    """What endpoint creation calls: the same checks a delivery makes."""
    _, host, port = check_url(url, ports)
    resolve_safe(host, port, allow_private)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls_context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = sock  # within reach of the deadline from here on
        tls = self._tls_context.wrap_socket(
            sock, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.sock = tls
        tls.do_handshake()  # a handshake trickled byte by byte is cut off too


class _Deadline:
    """Shuts the connection's socket down when the deadline passes, from a timer thread: the
    reading call (connect, send, status line, headers or body) then returns or raises at once,
    whatever per-read timeout it has. `passed()` tells the caller why it ended."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.connection, self.fired, self._done = connection, False, False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            sock = self.connection.sock
            if sock is not None:
                # The plain socket's shutdown (an SSLSocket's own would drop its TLS state
                # under the reading thread): the peer's bytes stop, reads end.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def passed(self) -> bool:
        return self.fired

    def end(self) -> None:
        with self._lock:
            self._done = True
            self._timer.cancel()


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    deadline_s: float = TOTAL_TIMEOUT_S,
    ports: str = "*",
) -> Answer:
    """POST `body` to `url` once, the whole exchange within `deadline_s`. Never raises for
    network trouble: the Answer says it (an error starting "timeout" when the deadline cut
    it off)."""
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    try:
        scheme, host, port = check_url(url, ports)
        address = resolve_safe(host, port, allow_private)
    except UnsafeUrl as exc:
        return Answer(None, elapsed(), error=f"refused: {exc}"[:300])
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    remaining = deadline_s - (time.perf_counter() - started)
    connection = connection_class(host, port, address, max(0.01, min(CONNECT_TIMEOUT_S, remaining)))
    deadline = _Deadline(connection, remaining)
    timed_out = f"timeout: no complete answer within {deadline_s:g} s"
    status: int | None = None
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
        if deadline.passed():  # the headers ended because the socket was shut: no answer
            return Answer(None, elapsed(), error=timed_out)
        status = response.status
        data = b""
        while len(data) < MAX_READ_BYTES and not deadline.passed():
            chunk = response.read1(min(8192, MAX_READ_BYTES - len(data)))
            if not chunk:
                break
            data += chunk
        excerpt = data.decode("utf-8", "replace")[:EXCERPT_CHARS]
        # The status came in time: the receiver answered; only the excerpt may be cut short.
        return Answer(status, elapsed(), excerpt, error=timed_out if deadline.passed() else "")
    except (OSError, ValueError, http.client.HTTPException) as exc:
        if deadline.passed():
            return Answer(status, elapsed(), error=timed_out)
        return Answer(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        deadline.end()
        connection.close()
