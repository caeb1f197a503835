"""Outbound HTTP without a DNS-rebinding window: the connection goes to the very address the SSRF guard checked.

A name checked once and resolved again by the HTTP client can answer a public address to the check and a private
one to the connection. Here the client's network backend resolves each host once through the guard
(platforms.endpoints.resolve_allowed) and connects to those addresses; the URL keeps the host name, so the Host
header, TLS's server name (SNI) and the certificate check are the host's, not the address's.

With an egress proxy (DELIVERY_PROXY for deliveries) the proxy resolves and connects; this machine resolves
nothing and the proxy is trusted to keep deliveries out of the unit's network.
"""

import ssl

import httpcore
import httpx

from platforms.endpoints import HostDoesNotResolve, resolve_allowed

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's own defaults


class GuardedBackend(httpcore.SyncBackend):
    """Connects to a host's checked addresses in turn (as socket.create_connection does with its own answer)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve_allowed(host, port)  # EndpointNotAllowed for a private address: nothing is connected
        except HostDoesNotResolve as exc:  # as the HTTP client's own lookup would: a network error, retried
            raise httpcore.ConnectError(str(exc)) from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"'{host}' has no address")


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connection pool given the GuardedBackend."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits = DEFAULT_LIMITS):
        super().__init__(verify=verify, limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(),
        )


def client(*, proxy: str = "", verify: ssl.SSLContext | bool = True, limits: httpx.Limits = DEFAULT_LIMITS,
           **options) -> httpx.Client:
    """An httpx client that reaches only checked addresses, or goes through `proxy` when one is given.

    No environment proxies or netrc (trust_env off); other options (timeout, headers, follow_redirects) as httpx's.
    """
    if proxy:
        return httpx.Client(proxy=proxy, verify=verify, limits=limits, trust_env=False, **options)
    return httpx.Client(transport=PinnedTransport(verify=verify, limits=limits), trust_env=False, **options)
