"""A real HTTP server on 127.0.0.1 standing in for a platform's webhook endpoint: it records every request and
answers from a script of responses (status, delay, headers). The server is pytest-httpserver's (werkzeug, threaded);
this only keeps the record and the script."""

import re
import socket
import threading
import time
from dataclasses import dataclass, field

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.time)
    status: int = 0  # what the receiver answered (0: it did not answer: a hung endpoint it played)


class Receiver:
    def __init__(self, responses=None, default_status=200, delay=0.0, script=None):
        """`responses`: (status, delay, headers) used in order, then `default_status` after `delay` seconds.
        `script(received) -> (status, delay, headers)`, when given, decides every answer instead. Status 0 is a
        hung endpoint: it answers nothing and drops the connection after the delay."""
        self.script = script
        self.requests: list[Received] = []
        self.responses = list(responses or [])  # (status, delay_seconds, extra_headers) consumed in order
        self.default_status = default_status
        self.delay = delay
        self._lock = threading.Lock()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        received = Received(request.path, {k.lower(): v for k, v in request.headers.items()}, request.get_data())
        with self._lock:
            self.requests.append(received)
            if self.script is not None:
                status, delay, extra = self.script(received)
            else:
                status, delay, extra = (self.responses.pop(0) if self.responses
                                        else (self.default_status, self.delay, {}))
        if delay:
            time.sleep(delay)
        if status == 0:  # a hung endpoint: it never answers nor acts; the connection just drops
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return Response(b"", status=500)  # never reaches the client: werkzeug drops the write quietly
        received.status = status
        return Response(b'{"ok": true}', status=status, headers=dict(extra or {}), content_type="application/json")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()
