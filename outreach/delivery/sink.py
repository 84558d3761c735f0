"""A local test mail server (``outreach smtp-sink``): aiosmtpd on loopback storing a Maildir.

Every accepted message is stored exactly as received, preceded by two envelope lines a final
delivery agent would add (``Return-Path`` and ``X-Outreach-Envelope-To``); nothing else is changed,
so the stored file ends with the very bytes the sender transmitted. Open the Maildir with any mail
client (Thunderbird, mutt) to see what recipients will see.
"""

from __future__ import annotations

import mailbox
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025
SERVER_NAME = "outreach-sink"  # never socket.getfqdn(): a DNS lookup per connection
READY_TIMEOUT_S = 30.0  # aiosmtpd's 5 s was missed on a machine busy converting letters


class MaildirHandler:
    """aiosmtpd handler: store each message in a Maildir and answer with its key."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = Path(maildir)
        # Maildir(create=True) makes tmp/new/cur only when the folder itself is missing: an existing
        # empty folder (made beforehand, e.g. `mkdir mail`) would answer every message with an error.
        for part in ("tmp", "new", "cur"):
            (self.maildir / part).mkdir(parents=True, exist_ok=True)
        self.mailbox = mailbox.Maildir(self.maildir, create=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return f"250 2.0.0 Ok: queued as {self.store(envelope)}"

    def store(self, envelope: Envelope) -> str:
        assert envelope.original_content is not None
        return self.mailbox.add(envelope_lines(envelope) + envelope.original_content)


def envelope_lines(envelope: Envelope) -> bytes:
    rcpts = ", ".join(envelope.rcpt_tos)
    return f"Return-Path: <{envelope.mail_from}>\r\nX-Outreach-Envelope-To: {rcpts}\r\n".encode("ascii", "replace")


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Port 0 asks the OS for a free port: learn which one before aiosmtpd connects to it.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """Start/stop the sink in a background thread; ``port=0`` picks a free port (see ``.port``).

    ``smtp_options`` go to aiosmtpd's SMTP, e.g. ``authenticator=…, auth_require_tls=False`` to try
    a profile that logs in.
    """

    def __init__(self, maildir: Path | None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 handler: Any = None, **smtp_options: Any) -> None:
        if handler is None:
            if maildir is None:
                raise ValueError("a Maildir folder or a handler is required")
            handler = MaildirHandler(maildir)
        self.handler = handler
        self.host = host
        self._controller = _Controller(handler, hostname=host, port=port, server_hostname=SERVER_NAME,
                                       ready_timeout=READY_TIMEOUT_S, **smtp_options)

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_sink(maildir: Path, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> None:
    """Serve until Ctrl-C."""
    with SmtpSink(maildir, host=host, port=port) as sink:
        print(f"Máy chủ thư thử nghiệm đang chạy tại {sink.url}; thư được lưu vào {Path(maildir).resolve()} "
              "(Maildir). Nhấn Ctrl-C để dừng.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("Đã dừng máy chủ thư thử nghiệm.")
