"""Outbound endpoint safety: contact points may not point into our own network.

Checked when a contact point is saved and again right before each send (DNS can change in between).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class EndpointNotAllowed(ValueError):
    pass


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


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
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise EndpointNotAllowed(f"The endpoint host '{parts.hostname}' does not resolve.") from exc
    for info in infos:
        if _is_private(info[4][0]):
            raise EndpointNotAllowed(
                f"The endpoint host '{parts.hostname}' resolves to a private, loopback or link-local address."
            )
