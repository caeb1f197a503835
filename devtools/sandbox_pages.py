"""The demo platforms' pages and the demo unit's egress proxy, for `make run` (issue 11): the sandbox platform also
serves the pages of the items it is sent, and takes them down when it answers `removed` (or `restricted`), so the
desk's own liveness checks have something real to find.

- `DemoPages` runs two servers on 127.0.0.1 (plain HTTP, and HTTPS with a certificate for the demo's hosts from a
  local trustme CA) answering any host: 200 with a page, or 404 "unavailable" once the sandbox took the URL down;
  and a forward proxy, the one the demo's checks go through (LIVENESS_PROXY): absolute-form http to the first,
  CONNECT tunnels to the second. Like the tests' proxy (tests/liveness/servers.py) it never resolves the host it is
  asked for: the demo's hosts (tube.example…) exist nowhere else.
- `make_demo_ca(var_dir, hosts)` writes the CA (LIVENESS_CA_BUNDLE) and the pages' certificate under var/.
"""

from __future__ import annotations

import re
import select
import socket
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = "<!doctype html><title>{host}</title><h1>{host}</h1><p>Sandbox page of {url}</p>"
GONE = "<!doctype html><title>Unavailable</title><h1>This content is unavailable</h1><p>Removed (sandbox).</p>"


def make_demo_ca(var_dir: Path, hosts: list[str]) -> tuple[Path, Path]:
    """A local CA and a certificate for `hosts` signed by it, written once under var_dir (kept across runs)."""
    import trustme  # a dev dependency: devtools is not in the production image

    ca_path, cert_path = var_dir / "demo-ca.pem", var_dir / "demo-pages.pem"
    if not (ca_path.exists() and cert_path.exists()):
        ca = trustme.CA(organization_name="Referral desk demo CA")
        ca.cert_pem.write_to_path(str(ca_path))
        ca.issue_cert(*hosts).private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    return ca_path, cert_path


def _handler(pages: DemoPages, scheme: str):
    class Handler(BaseHTTPRequestHandler):
        server_version = "SandboxPages/1"
        sys_version = ""
        protocol_version = "HTTP/1.1"
        timeout = 15

        def do_GET(self):
            host = (self.headers.get("host") or "").split(":")[0].lower()
            url = f"{scheme}://{host}{self.path}"
            gone = url in pages.removed_urls
            body = (GONE if gone else PAGE.format(host=host, url=url)).encode()
            self.send_response(404 if gone else 200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            pages.log(f"page {url} -> {404 if gone else 200}")

        def log_message(self, *args):
            pass

    return Handler


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data and len(data) <= 65536:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pipe(a: socket.socket, b: socket.socket, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([a, b], [], [], 0.5)
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


class _ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        pages: DemoPages = self.server.pages
        client = self.request
        client.settimeout(15)
        head, rest = _read_head(client)
        if not head:
            return
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = (request_line.split(" ", 2) + ["", ""])[:3]
        if method == "CONNECT":
            with socket.create_connection(("127.0.0.1", pages.https_port), timeout=15) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
                _pipe(client, upstream)
            return
        match = re.match(r"http://([^/:]+)(?::\d+)?(/.*)?$", target)
        if not match:
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        headers = [h for h in header_lines if not h.lower().startswith(("connection:", "proxy-", "keep-alive:"))]
        upstream_head = f"{method} {match.group(2) or '/'} {version}\r\n" + "\r\n".join(
            [*headers, "Connection: close"]) + "\r\n\r\n"
        with socket.create_connection(("127.0.0.1", pages.http_port), timeout=15) as upstream:
            upstream.sendall(upstream_head.encode("latin-1") + rest)
            answer_head, answer_rest = _read_head(upstream)
            lines = [h for h in answer_head.decode("latin-1").split("\r\n") if not h.lower().startswith("connection:")]
            client.sendall(("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1") + answer_rest)
            while data := upstream.recv(65536):
                client.sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class DemoPages:
    """The pages (http and https, any host) and the proxy in front of them; `removed_urls` is the sandbox's set of
    URLs it took down (shared, so a removal shows at once)."""

    def __init__(self, *, removed_urls: set, cert_path: Path, proxy_port: int = 0, log=None):
        self.removed_urls = removed_urls
        self.log = log or (lambda line: None)
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, "http"))
        self.https = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, "https"))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert_path))
        self.https.socket = context.wrap_socket(self.https.socket, server_side=True)
        self.proxy = _ProxyServer(("127.0.0.1", proxy_port), _ProxyHandler)
        self.proxy.pages = self
        self._threads: list[threading.Thread] = []

    @property
    def http_port(self) -> int:
        return self.http.server_address[1]

    @property
    def https_port(self) -> int:
        return self.https.server_address[1]

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.server_address[1]}"

    def start(self) -> DemoPages:
        for server in (self.http, self.https, self.proxy):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self.proxy, self.http, self.https):
            server.shutdown()
            server.server_close()
