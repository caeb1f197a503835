"""A real SMTP server on loopback that keeps what it receives: the demo's and the tests' mail platform.

Each message is kept in memory (for tests) and, when a folder is given, written there as `<n>-<message-id>.eml`
for a person to open. It accepts every recipient; it relays nothing.
"""

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        number = self.sink.keep(mail)
        return f"250 2.0.0 Ok: queued as SINK{number:06d}"


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None):
        self.folder = folder
        self.messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        if port == 0:  # aiosmtpd cannot bind an ephemeral port itself (it connects to it to check it is up)
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self._port = port
        self.controller = Controller(_Handler(self), hostname=host, port=port)

    def keep(self, mail: ReceivedMail) -> int:
        with self._lock:
            self.messages.append(mail)
            number = len(self.messages)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            msgid = re.sub(r"[^A-Za-z0-9._-]", "_", mail.message.get("Message-ID", "no-id"))[:80]
            (self.folder / f"{number:06d}-{msgid}.eml").write_bytes(mail.data)
        return number

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
