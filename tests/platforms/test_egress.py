"""Outbound requests connect to the address the SSRF guard checked (platforms/egress.py), or go through the egress
proxy (DELIVERY_PROXY); IPv6 spellings of private IPv4 addresses are refused.

The servers are real and local (127.0.0.1). Only the outside world's DNS is played, by wrapping
socket.getaddrinfo for made-up names: a rebinding name answers a public address to the check and 127.0.0.1 after.
"""

import re
import socket
import socketserver
import ssl
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.actions import items as item_actions
from liveness import fetching
from platforms import egress
from platforms.endpoints import EndpointNotAllowed, check_http_endpoint
from referral.actions import approval
from referral.models import Delivery, DeliveryAttempt
from referral.outbox import dispatcher, webhook
from tests.conftest import make_platform
from tests.receiver import Receiver

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, test only
PUBLIC = "93.184.215.14"  # a public address the test never connects to


class FakeDNS:
    """Answers for made-up names (anything else goes to the real resolver): `answers[name]` is a list of addresses
    given one per lookup, the last one repeated (None: no such name). `lookups` counts the lookups of each
    made-up name."""

    def __init__(self, monkeypatch, answers: dict[str, list[str | None]]):
        self.answers, self.lookups = answers, {name: 0 for name in answers}
        self.real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self.real(host, port, *args, **kwargs)
        queue = self.answers[name]
        address = queue[min(self.lookups[name], len(queue) - 1)]
        self.lookups[name] += 1
        if address is None:  # no such name
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))]


class EgressProxy(socketserver.ThreadingTCPServer):
    """A forward proxy on 127.0.0.1 for absolute-form http requests: it never resolves the host it is asked for,
    sends every request to `upstream_port` on 127.0.0.1 and records the hosts asked for."""

    daemon_threads = True

    def __init__(self, upstream_port: int):
        self.upstream_port, self.asked = upstream_port, []
        super().__init__(("127.0.0.1", 0), EgressHandler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class EgressHandler(socketserver.StreamRequestHandler):
    def handle(self):
        method, target, version = self.rfile.readline().decode("latin-1").split(" ", 2)
        host, path = re.match(r"http://([^/:]+)(?::\d+)?(/.*)?$", target).groups()
        self.server.asked.append((method, host))
        headers, length = [], 0
        while (line := self.rfile.readline().decode("latin-1")) not in ("\r\n", ""):
            if not line.lower().startswith(("connection:", "proxy-", "keep-alive:")):
                headers.append(line)
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = self.rfile.read(length)
        with socket.create_connection(("127.0.0.1", self.server.upstream_port), timeout=10) as upstream:
            upstream.sendall(f"{method} {path or '/'} {version}{''.join(headers)}Connection: close\r\n\r\n"
                             .encode("latin-1") + body)
            while data := upstream.recv(65536):
                self.wfile.write(data)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def approve_one(analyst, supervisor, case, url="https://tube.example/watch?v=1"):
    item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    approval.item_approve(actor=supervisor, item_id=item.pk, instrument="referral")
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_rebinding_name_does_not_reach_the_local_server(receiver, analyst, supervisor, case, settings, monkeypatch):
    make_platform("tube", ["tube.example"], endpoint=f"http://rebind.example:{receiver.server.port}/hook",
                  secret=SECRET)  # saved while private endpoints are allowed: this test is about the send
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    dns = FakeDNS(monkeypatch, {"rebind.example": [PUBLIC, "127.0.0.1"]})
    approve_one(analyst, supervisor, case)
    assert dispatcher.dispatch_due() == {"stopped": 1}
    assert receiver.requests == []  # the check saw a public address; the connection did not go to 127.0.0.1
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error.startswith("Endpoint refused:") and "private" in attempt.error
    assert dns.lookups["rebind.example"] == 2  # the claim's check, then the connection's own (checked) lookup


def test_a_liveness_check_of_a_rebinding_name_reaches_nothing(receiver, settings, monkeypatch):
    settings.ALLOW_PRIVATE_ENDPOINTS, settings.LIVENESS_PROXY = False, ""
    FakeDNS(monkeypatch, {"rebind.example": [PUBLIC, "127.0.0.1"]})
    with fetching.build_client() as client:
        answer = fetching.fetch(client, f"http://rebind.example:{receiver.server.port}/page")
    assert answer.refused and answer.error.startswith("refused:") and receiver.requests == []


def test_the_connection_goes_to_the_checked_address_keeping_the_host_name_for_tls(monkeypatch, tmp_path):
    import trustme
    from pytest_httpserver import HTTPServer

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.tube.example").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    server.expect_request("/hook").respond_with_data("ok")
    server.start()
    try:
        dns = FakeDNS(monkeypatch, {"hooks.tube.example": ["127.0.0.1"]})
        with egress.client(verify=client_context) as client:
            response = client.get(f"https://hooks.tube.example:{server.port}/hook")
        assert response.status_code == 200 and response.text == "ok"  # the certificate of the name verified
        [(request, _)] = server.log
        assert request.headers["host"] == f"hooks.tube.example:{server.port}"
        assert dns.lookups["hooks.tube.example"] == 1  # resolved once, by the guard; connected to that address
        with egress.client(verify=client_context) as client, pytest.raises(Exception, match="certificate|hostname"):
            client.get(f"https://127.0.0.1:{server.port}/hook")  # the address alone does not pass TLS
    finally:
        server.stop()


def test_deliveries_go_through_the_egress_proxy_and_resolve_nothing_here(receiver, analyst, supervisor, case,
                                                                         settings, monkeypatch):
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    with EgressProxy(receiver.server.port) as proxy:
        settings.DELIVERY_PROXY = proxy.url
        dns = FakeDNS(monkeypatch, {"hooks.tube.example": ["127.0.0.1"]})  # would be refused if looked up here
        make_platform("tube", ["tube.example"], endpoint="http://hooks.tube.example/hook", secret=SECRET)
        approve_one(analyst, supervisor, case)
        assert dispatcher.dispatch_due() == {"sent": 1}
    [request] = receiver.requests
    assert webhook.verify(SECRET, request.headers, request.body) and request.path == "/hook"
    assert proxy.asked == [("POST", "hooks.tube.example")] and dns.lookups["hooks.tube.example"] == 0


@pytest.mark.parametrize("address", [
    "::ffff:127.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "::7f00:1", "::a00:5",  # IPv4-compatible (deprecated)
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808",  # NAT64, and the local-use NAT64 prefix
    "2002:7f00:1::1", "2002:c0a8:101::1",  # 6to4 of 127.0.0.1, 192.168.1.1
    "fd00::1", "fe80::1", "::1",
])
def test_ipv6_spellings_of_private_addresses_are_refused(settings, address):
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    with pytest.raises(EndpointNotAllowed, match="private"):
        check_http_endpoint(f"http://[{address}]:8080/hook")


@pytest.mark.parametrize("address", ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2a00:1450::1"])
def test_ipv6_spellings_of_public_addresses_pass(settings, address):
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    check_http_endpoint(f"http://[{address}]:8080/hook")


def test_a_name_that_does_not_resolve_at_connection_time_is_a_network_error_to_retry(receiver, analyst, supervisor,
                                                                                      case, settings, monkeypatch):
    FakeDNS(monkeypatch, {"no-such-host.example": [None]})
    make_platform("tube", ["tube.example"], endpoint="http://no-such-host.example/hook", secret=SECRET)
    approve_one(analyst, supervisor, case)  # private endpoints allowed (tests): nothing is resolved at the claim
    assert dispatcher.dispatch_due() == {"retry": 1}
    assert "does not resolve" in DeliveryAttempt.objects.get().error
