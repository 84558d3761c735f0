"""A sender's mailbox (``[departments.X.mailbox]``, ``[district_offices.X.mailbox]``): where its
bounces, auto-replies and recipients' replies arrive, read over IMAP by ``outreach collect``.

```toml
[departments.QLT.mailbox]
host = "127.0.0.1"
port = 1143
security = "none"            # none | starttls | ssl
username = "phongqlt"
password_env = "OUTREACH_QLT_IMAP_PASSWORD"
folder = "INBOX"
sent_folder = "Sent"         # optional: where the server keeps what was sent (uncertain sends)
processed_folder = "Outreach/Da-xu-ly"   # optional: where handled messages are moved
allow_plaintext_auth = false # optional: log in without TLS to a host that is not this machine
archive_bcc = "phongqlt+luu@bhxh-khanhhoa.gov.vn"   # optional: a blind copy of each message (envelope only)
```

An ``archive_bcc`` gets a blind copy of every message (an extra RCPT TO: the approved bytes do not
change). It should arrive in this mailbox's folder: there, collect takes the copy as evidence that
an uncertain send did go out, and moves it away with what it handled.

A sender with a mailbox sends with a tagged return path (``phongqlt+b.<token>@…``): its mail
server must deliver such an address to the mailbox (plus addressing, Postfix's
``recipient_delimiter = +``), or the bounces would be lost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import _Section

DEFAULT_PROCESSED_FOLDER = "Outreach/Da-xu-ly"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Mailbox:
    sender: str  # the sender's code (QLT, NT, …): the mailbox's name in the ledger and in messages
    host: str
    port: int
    security: str  # none | starttls | ssl
    username: str
    password_env: str
    folder: str = "INBOX"
    sent_folder: str = ""  # "" : the server keeps no copy of what was sent (or nobody said where)
    processed_folder: str = DEFAULT_PROCESSED_FOLDER
    allow_plaintext_auth: bool = False
    archive_bcc: str = ""  # an extra envelope recipient of every message: the copy is the evidence it went out

    @property
    def name(self) -> str:
        """``phongqlt@127.0.0.1:1143``: which mailbox, in the ledger's cursor and in messages."""
        return f"{self.username}@{self.host}:{self.port}"

    def password(self) -> str:
        return os.environ.get(self.password_env, "")

    @property
    def plaintext_login(self) -> bool:
        """Whether logging in would send the password unencrypted over a network: refused unless allowed.
        Loopback never leaves this machine, so nobody can listen to it."""
        return self.security == "none" and self.host not in LOOPBACK_HOSTS and not self.allow_plaintext_auth


def parse_mailbox(sender: str, table: _Section) -> Mailbox | None:
    from . import SECURITY_MODES, _error

    if "mailbox" not in table.data:
        return None
    box = table.section("mailbox")
    if "password" in box.data:
        raise _error(box.key("password"), "không được ghi mật khẩu trong tệp cấu hình",
                     'xóa dòng password, đặt password_env = "TEN_BIEN_MOI_TRUONG" và đặt mật khẩu vào biến môi trường đó')
    security = box.choice("security", SECURITY_MODES, "ssl")
    port = box.integer("port", {"none": 143, "starttls": 143, "ssl": 993}[security], minimum=1)
    if port > 65535:
        raise _error(box.key("port"), f"cổng {port} không tồn tại", "dùng cổng 1–65535, ví dụ 993")
    folder = box.text("folder", "INBOX")
    processed = box.text("processed_folder", DEFAULT_PROCESSED_FOLDER)
    if processed == folder:
        raise _error(box.key("processed_folder"), "trùng với thư mục đang đọc (folder)",
                     f'đặt một thư mục riêng, ví dụ processed_folder = "{DEFAULT_PROCESSED_FOLDER}"')
    archive = box.text("archive_bcc", "").lower()
    if archive and (archive.count("@") != 1 or not archive.isascii() or any(c.isspace() for c in archive)):
        raise _error(box.key("archive_bcc"), f"'{archive}' không phải địa chỉ e-mail",
                     'viết archive_bcc = "phongqlt+luu@coquan.gov.vn" (không dấu), hoặc bỏ dòng này')
    return Mailbox(
        sender=sender,
        host=box.text("host"),
        port=port,
        security=security,
        username=box.text("username"),
        password_env=box.text("password_env"),
        folder=folder,
        sent_folder=box.text("sent_folder", ""),
        processed_folder=processed,
        allow_plaintext_auth=box.boolean("allow_plaintext_auth", False),
        archive_bcc=archive,
    )
