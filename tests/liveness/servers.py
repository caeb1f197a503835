"""The outside world of the liveness tests, on 127.0.0.1 only: pages posing as a platform's (plain HTTP and TLS
with a trustme certificate), and a small forward proxy that answers for any host, the way a unit's egress does.

`Pages` answers each path from a script and keeps what a platform's server would see: every request's host and
path, the most requests in flight at once per host, and the start time of each (so tests measure politeness
where it matters: at the server). `ForwardProxy` takes absolute-form requests (`GET http://host/path`) and CONNECT
tunnels; it never resolves the host it is asked for, it sends every request to the local pages (CONNECT to the
TLS one), and records the hosts asked for.
"""

import re
import select
import socket
import socketserver
import threading
import time
from collections import defaultdict

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


class Pages:
    def __init__(self, *, ssl_context=None, delay: float = 0.0):
        self.routes: dict[str, list] = {}
        self.default = (404, "<h1>Not found</h1>", {})
        self.delay = delay
        self.seen: list[tuple[str, str, float]] = []  # (host, path, monotonic start)
        self.inflight: dict[str, int] = defaultdict(int)
        self.max_inflight: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True, ssl_context=ssl_context)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._answer)

    def page(self, path: str, *answers) -> None:
        """Answers for `path` (with its query), used in order; the last one repeats. An answer is (status, body)
        or (status, body, headers)."""
        self.routes[path] = [a if len(a) == 3 else (*a, {}) for a in answers]

    def _answer(self, request: Request) -> Response:
        host = (request.headers.get("host") or "").split(":")[0]
        path = request.full_path.rstrip("?")
        with self._lock:
            self.seen.append((host, path, time.monotonic()))
            self.inflight[host] += 1
            self.max_inflight[host] = max(self.max_inflight[host], self.inflight[host])
            answers = self.routes.get(path)
            status, body, headers = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else self.default
        try:
            if self.delay:
                time.sleep(self.delay)
            return Response(body, status=status, headers=headers, content_type="text/html; charset=utf-8")
        finally:
            with self._lock:
                self.inflight[host] -= 1

    def hits(self, path: str) -> int:
        return sum(1 for _, p, _ in self.seen if p == path)

    def min_gap(self, host: str) -> float:
        starts = sorted(t for h, _, t in self.seen if h == host)
        return min((b - a for a, b in zip(starts, starts[1:], strict=False)), default=float("inf"))

    @property
    def port(self) -> int:
        return self.server.port

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > 65536:
            break
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pipe(a: socket.socket, b: socket.socket, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    sockets = [a, b]
    while time.monotonic() < deadline:
        readable, _, _ = select.select(sockets, [], [], 0.5)
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        proxy: ForwardProxy = self.server.proxy
        client = self.request
        client.settimeout(15)
        head, rest = _read_head(client)
        if not head:
            return
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        if method == "CONNECT":
            proxy.record(method, target)
            with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=15) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
                _pipe(client, upstream)
            return
        match = re.match(r"http://([^/:]+)(?::\d+)?(/.*)?$", target)
        if not match:
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        proxy.record(method, match.group(1))
        headers = [h for h in header_lines if not h.lower().startswith(("connection:", "proxy-", "keep-alive:"))]
        upstream_head = f"{method} {match.group(2) or '/'} {version}\r\n" + "\r\n".join(
            [*headers, "Connection: close"]) + "\r\n\r\n"
        with socket.create_connection(("127.0.0.1", proxy.http_port), timeout=15) as upstream:
            upstream.sendall(upstream_head.encode("latin-1") + rest)
            answer_head, answer_rest = _read_head(upstream)
            lines = [h for h in answer_head.decode("latin-1").split("\r\n") if not h.lower().startswith("connection:")]
            client.sendall(("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1") + answer_rest)
            while data := upstream.recv(65536):
                client.sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class ForwardProxy:
    """A forward proxy on 127.0.0.1 for any host: http to `http_port`, CONNECT to `tls_port` (both local)."""

    def __init__(self, *, http_port: int, tls_port: int | None = None):
        self.http_port, self.tls_port = http_port, tls_port
        self.requests: list[tuple[str, str]] = []  # (method, host or host:port) as asked
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.proxy = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def record(self, method: str, target: str) -> None:
        with self._lock:
            self.requests.append((method, target))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
