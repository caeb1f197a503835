"""Outbound endpoint safety: contact points may not point into our own network.

Checked when a contact point is saved and again right before each send (DNS can change in between); the send
itself connects only to addresses checked at that moment (platforms/egress.py), so a name that answers a public
address to the check and a private one to the connection reaches nothing.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class EndpointNotAllowed(ValueError):
    pass


class HostDoesNotResolve(EndpointNotAllowed):
    """No address at all (perhaps for a moment): a connection attempt treats it as a network error, to retry."""


# IPv6 spellings of an IPv4 address: NAT64 (RFC 6052; the local-use prefix of RFC 8215 is never global), 6to4
# (RFC 3056) and the deprecated IPv4-compatible form. Python's is_global judges the prefix, not the address inside.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    for embedded in (ip.ipv4_mapped, ip.sixtofour):
        if embedded is not None:
            return embedded
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a scoped IPv6 address (fe80::1%eth0) is link-local
    if ip.version == 6:
        if ip in _NAT64_LOCAL:
            return True
        embedded = _embedded_ipv4(ip)
        if embedded is not None and _is_private(str(embedded)):
            return True
    return not ip.is_global or ip.is_multicast


def resolve_allowed(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, once; EndpointNotAllowed if any is private (unless ALLOW_PRIVATE_ENDPOINTS).

    The outbound client connects to these very addresses (platforms/egress.py): what is checked is what is reached.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise HostDoesNotResolve(f"The endpoint host '{host}' does not resolve.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.ALLOW_PRIVATE_ENDPOINTS and any(_is_private(address) for address in addresses):
        raise EndpointNotAllowed(
            f"The endpoint host '{host}' resolves to a private, loopback or link-local address."
        )
    return addresses


def check_http_endpoint(url: str, *, resolve: bool = True) -> None:
    """Raise EndpointNotAllowed unless `url` is http(s) with a host resolving only to public addresses.

    With ALLOW_PRIVATE_ENDPOINTS=1 (demo, tests) loopback and private addresses are allowed.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise EndpointNotAllowed(f"Not a valid URL: {exc}.") from exc
    if parts.scheme not in ("http", "https"):
        raise EndpointNotAllowed("The endpoint must be an http or https URL.")
    if not parts.hostname:
        raise EndpointNotAllowed("The endpoint URL has no host.")
    if parts.username or parts.password:
        raise EndpointNotAllowed("The endpoint URL must not contain credentials.")
    try:  # what the resolver and the HTTP client do first; an empty label or one over 63 characters fails here
        parts.hostname.encode("idna")
    except UnicodeError as exc:
        raise EndpointNotAllowed(
            f"The endpoint host '{parts.hostname[:100]}' is not a valid host name."
        ) from exc
    if settings.ALLOW_PRIVATE_ENDPOINTS or not resolve:
        return
    resolve_allowed(parts.hostname, port)
