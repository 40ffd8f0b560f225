"""The client's IP address, as far as it can be trusted.

`X-Forwarded-For` is a list anyone can write to; only the entries appended by our own proxies
(the load balancer) are true. So the header is read only when the direct peer is a trusted proxy
(`IPCAI_TRUSTED_PROXIES`, CIDR blocks), and then from the right: the first address that is not
one of our proxies is the client. A client that sends its own `X-Forwarded-For: 1.2.3.4` only
adds an entry to the left of the one the load balancer appended, which is never reached.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """Parsed CIDR blocks, once per distinct settings value."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def trusted_proxies() -> tuple[Network, ...]:
    return networks(tuple(settings.IPCAI_TRUSTED_PROXIES))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in network for network in networks)


def client_ip(meta: Mapping[str, str]) -> str:
    """The address to limit and log: REMOTE_ADDR, or the nearest untrusted hop of
    X-Forwarded-For when REMOTE_ADDR is a trusted proxy."""
    remote = meta.get("REMOTE_ADDR", "") or "unknown"
    proxies = trusted_proxies()
    if not proxies or not in_networks(remote, proxies):
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            return remote  # a garbled header is not evidence of anything: use the peer
        if not in_networks(hop, proxies):
            return hop
    return hops[0] if hops else remote
