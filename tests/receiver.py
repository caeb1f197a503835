"""A real HTTP server on 127.0.0.1 standing in for a platform's webhook endpoint: it records every request
and answers from a script of responses (status, delay)."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.time)
    status: int = 0  # what the receiver answered (0: it did not answer: a timeout it played)


class Receiver:
    def __init__(self, responses=None, default_status=200, delay=0.0, script=None):
        """`responses`: (status, delay, headers) used in order, then `default_status` after `delay` seconds.
        `script(received) -> (status, delay, headers)`, when given, decides every answer instead."""
        self.script = script
        self.requests: list[Received] = []
        self.responses = list(responses or [])  # (status, delay_seconds, extra_headers) consumed in order
        self.default_status = default_status
        self.delay = delay
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver._lock:
                    receiver.requests.append(received)
                    if receiver.script is not None:
                        status, delay, extra = receiver.script(received)
                    else:
                        status, delay, extra = (receiver.responses.pop(0) if receiver.responses
                                                else (receiver.default_status, receiver.delay, {}))
                if delay:
                    time.sleep(delay)
                if status == 0:  # a hung endpoint: it never answers nor acts; the connection just drops
                    self.close_connection = True
                    return
                try:
                    received.status = status
                    self.send_response(status)
                    for key, value in (extra or {}).items():
                        self.send_header(key, value)
                    self.send_header("content-type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}')
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
