"""Where a webhook may go: the callback URL parsed, its host resolved, and every address
checked to be public, so a billing system cannot point billreel at an internal service.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Sequence[str]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (IPv4 and IPv6), in the system's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class DestinationRefused(Exception):
    """The callback URL may not be called: its scheme, its credentials or its addresses."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as written in the URL: for Host, SNI and the certificate check
    port: int
    target: str  # path and query
    address: str  # the checked address the connection is made to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def is_public_address(text: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified addresses."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address are judged by it.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.sixtofour is not None:
            address = address.sixtofour
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_destination(url: str, *, allow_private: bool, resolver: Resolver) -> Destination:
    """Parse the callback URL and resolve it; refuse it unless every address is public.

    Raises `DestinationRefused`, or `OSError` when the name does not resolve (transient).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise DestinationRefused("the callback URL must use https")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("the callback URL must not carry credentials")
    host = parts.hostname
    if not host:
        raise DestinationRefused("the callback URL has no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise DestinationRefused("the callback URL has an invalid port") from exc
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        ipaddress.ip_address(host)
        addresses: Sequence[str] = [host]
    except ValueError:
        addresses = resolver(host, port)
    if not addresses:
        raise OSError("the host name has no address")
    # Every address is checked, not just the first: which one a client picks is not ours
    # to predict, and one private address among public ones is enough to refuse.
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise DestinationRefused("the callback host resolves to a non-public address")
    return Destination(scheme, host, port, target, addresses[0])
