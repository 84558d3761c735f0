"""E-mail over SMTP, the ``email`` channel: the approved bytes sent as they are (MAIL, RCPT, DATA).

A failure before the end of the message data is temporary or permanent by the server's code; a
failure after the final dot, before the reply, is ``unknown``: the server may have the message.
Not reaching the server at all is ``unreachable``. The content and the final dot go out apart:
a server that cuts the line (or answers) before the dot was sent cannot deliver anything, so
that is temporary, and the message is tried again.
"""

from __future__ import annotations

import fcntl
import re
import select
import smtplib
import socket
import ssl
import struct
import termios
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from ..config import SMTP_URL_ENV, Sender, SmtpProfile
from ..errors import UserError
from ..outbox import Draft
from ..outbox import Envelope, check_address, envelope_of
from .messenger import EMAIL, Handover, Result
from .smtp_advice import error_advice, reply_advice

if TYPE_CHECKING:
    import yagmail

KEYRING_SERVICE = "yagmail"  # where yagmail.register() keeps passwords
FINAL_REPLY_TIMEOUT_S = 600.0  # RFC 5321 4.5.3.2.6: wait up to 10 minutes for the reply to the final dot
AFTER_DOT = "chờ máy chủ trả lời sau khi đã gửi xong nội dung thư"
BEFORE_DOT = "DATA, trước dấu chấm kết thúc (máy chủ chưa nhận trọn thư)"
# How long, once the server acknowledged the content, a cut still counts as before the final dot.
# A server hanging up on what it read does so within a few ms, and a cut seen later is taken as after
# the dot (uncertain, never resent), so a miss is only cautious. The wait is taken out of the pause the
# sender's rate puts between two messages anyway (see _grace), so at any configured rate it costs no
# throughput: 30 a minute wait the full 50 ms inside their 2 s; a rate with no pause waits no longer.
DOT_GRACE_S = 0.05
ACK_POLL_S = 0.002  # how often to look while the content is still unacknowledged


class SmtpMessenger:
    """Each sender through its SMTP profile (config.toml ``[smtp.*]``), one connection per batch."""

    name = EMAIL
    paced = True

    def __init__(self, profiles: Mapping[str, SmtpProfile]) -> None:
        self.profiles = profiles
        self._passwords: dict[str, str | None] = {}  # asked once: a keyring may prompt

    def envelope(self, draft: Draft, data: bytes) -> Envelope | str:
        """The approved message's Message-ID and its To and Cc, each address once; refused when they
        are not the manifest's (the message was swapped, or the list changed since approval)."""
        envelope = envelope_of(data)
        unique: dict[str, str] = {}
        for address in envelope.recipients:  # an address both in To and Cc gets the message once
            unique.setdefault(address.lower(), address)
        recipients = tuple(unique.values())
        if set(unique) != _ascii_addresses(draft.to + draft.cc):
            return (f"Người nhận trong manifest ({', '.join(draft.to + draft.cc)}) khác người nhận ghi trong thư "
                    f"đã duyệt ({', '.join(recipients)}); thư không được gửi. Cách sửa: chạy lại build rồi duyệt lại.")
        return Envelope(envelope.message_id, recipients)

    def check(self, sender: Sender) -> None:
        self._password(self.profiles[sender.smtp])

    def open(self, sender: Sender) -> "_SmtpSession":
        profile = self.profiles[sender.smtp]
        return _SmtpSession(profile, self._password(profile), _grace(sender))

    def _password(self, profile: SmtpProfile) -> str | None:
        if profile.name not in self._passwords:
            self._passwords[profile.name] = smtp_password(profile)
        return self._passwords[profile.name]


def _grace(sender: Sender) -> float:
    """The wait before the final dot: at most the interval between two of the sender's messages."""
    return min(DOT_GRACE_S, 60.0 / sender.schedule.messages_per_minute)


class _SmtpSession:
    """One SMTP connection (opened by yagmail on first use, reopened after a drop), raw bytes over it."""

    def __init__(self, profile: SmtpProfile, password: str | None, grace_s: float) -> None:
        self.profile = profile
        self.password = password
        self.grace_s = grace_s
        self._client: yagmail.SMTP | None = None

    def deliver(self, handover: Handover) -> Result:
        if self._client is None:
            try:
                self._client = _connect(self.profile, self.password)
            except (OSError, smtplib.SMTPException) as error:
                return Result("temporary", getattr(error, "smtp_code", None), _error_text(error),
                              f"máy chủ thư {self.profile.host}:{self.profile.port}", unreachable=True,
                              advice=error_advice(error, self.profile))
        result, lost = _transaction(self._client.smtp, handover.envelope_from, handover.recipients, handover.data,
                                    self.grace_s, self.profile, handover.envelope_id)
        if lost:
            self.close()
        return result

    def close(self) -> None:
        if self._client is not None:
            self._client.close()  # QUIT; yagmail ignores a connection already gone
            self._client = None


def _ascii_addresses(addresses: Sequence[str]) -> set[str]:
    """Lower-case, IDN domains in punycode (as build_message writes them); invalid ones kept as is."""
    if all(a.isascii() for a in addresses):
        return {a.lower() for a in addresses}
    result = set()
    for address in addresses:
        try:
            result.add(check_address("to", address).lower())
        except UserError:
            result.add(address.lower())
    return result


def _connect(profile: SmtpProfile, password: str | None) -> "yagmail.SMTP":
    import yagmail  # heavy (lxml, premailer): imported only when something is really sent

    # smtplib's own TLS default checks no certificate: give it one that checks, for both modes.
    tls = {"context": ssl.create_default_context()}
    client = yagmail.SMTP(
        # {login: alias}: yagmail would append "@gmail.com" to a bare login given as a string
        user={profile.username: profile.username} if profile.username else None,
        password=password,
        host=profile.host,
        port=profile.port,
        smtp_ssl=profile.security == "ssl",
        smtp_starttls=tls if profile.security == "starttls" else False,
        smtp_skip_login=not profile.username,
        soft_email_validation=False,
        timeout=profile.timeout_s,
        **(tls if profile.security == "ssl" else {}),
    )
    client.login()  # connect, STARTTLS if asked, AUTH unless skipped; yagmail's send() is never used
    return client


def smtp_password(profile: SmtpProfile) -> str | None:
    """The profile's password: its environment variable, else the system keyring; None without a username."""
    if not profile.username:
        return None
    _refuse_plaintext_login(profile)
    password = profile.password() or _keyring_password(profile.username)
    if password and not password.isascii():
        raise UserError(
            f"Mật khẩu của hồ sơ SMTP '{profile.name}' có chữ có dấu hoặc ký tự ngoài ASCII; thư viện gửi thư "
            "(smtplib) không đăng nhập được bằng mật khẩu như vậy. Cách sửa: đổi sang mật khẩu không dấu."
        )
    if password:
        return password
    raise UserError(
        f"Hồ sơ SMTP '{profile.name}' cần mật khẩu cho {profile.username} nhưng chưa có. Cách sửa: đặt mật khẩu "
        f"vào biến môi trường {profile.password_env or '(đặt password_env trong config.toml)'}, hoặc lưu vào kho "
        f"mật khẩu của hệ thống: python -c \"import yagmail; yagmail.register('{profile.username}', 'MẬT_KHẨU')\"."
    )


def _refuse_plaintext_login(profile: SmtpProfile) -> None:
    """A password goes out unencrypted only where config.toml says so (a trusted internal relay)."""
    if profile.security != "none" or profile.allow_plaintext_auth:
        return
    by = f" theo biến môi trường {SMTP_URL_ENV}={profile.overridden_by}" if profile.overridden_by else ""
    raise UserError(
        f"Hồ sơ SMTP '{profile.name}' sẽ gửi mật khẩu của {profile.username} qua kết nối không mã hóa (security = "
        f"\"none\"{by}): ai nghe được đường truyền cũng đọc được mật khẩu, nên thư không được gửi. Cách sửa: dùng "
        f"security = \"starttls\" hoặc \"ssl\" (trong {SMTP_URL_ENV}: smtp+starttls:// hoặc smtps://); chỉ khi máy "
        f"chủ thư nằm trong mạng nội bộ tin cậy mới ghi allow_plaintext_auth = true trong [smtp.{profile.name}]."
    )


def _keyring_password(username: str) -> str | None:
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, username)
    except Exception:  # no usable keyring backend on this machine (headless server, no D-Bus)
        return None


def _transaction(smtp: smtplib.SMTP, envelope_from: str, recipients: Sequence[str],
                 data: bytes, grace_s: float, profile: SmtpProfile, envelope_id: str = "") -> tuple[Result, bool]:
    """MAIL, RCPT…, DATA with the exact bytes; every recipient must be accepted or nothing is sent.
    Also says whether the connection is lost (or no longer worth keeping).

    Where the server offers DSN (RFC 3461) and the message has an envelope id, a bounce is asked to
    carry it (ENVID, ORCPT) and only the headers (RET=HDRS: not the letter's PDFs back)."""
    stage = "MAIL FROM"
    try:
        smtp.ehlo_or_helo_if_needed()
        dsn = bool(envelope_id) and smtp.has_extn("dsn")
        options = [f"SIZE={len(data)}"] if smtp.has_extn("size") else []
        if dsn:
            options += ["RET=HDRS", f"ENVID={_xtext(envelope_id)}"]
        code, reply = smtp.mail(envelope_from, options)
        if code != 250:
            return _refused(smtp, stage, code, reply)
        for recipient in recipients:
            stage = f"RCPT TO:<{recipient}>"
            code, reply = smtp.rcpt(recipient, ["NOTIFY=FAILURE,DELAY", f"ORCPT=rfc822;{_xtext(recipient)}"] if dsn else [])
            if code not in (250, 251):
                return _refused(smtp, stage, code, reply)
        stage = "DATA"
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            return _refused(smtp, stage, code, reply)
        stage = BEFORE_DOT
        smtp.send(_dot_stuffed(data))
        if _spoke_before_dot(smtp, grace_s):  # closed, reset or an early reply: the dot is never sent
            code, reply = smtp.getreply()  # raises for a closed line
            return _answer(code, reply, stage), True
        smtp.send(b".\r\n")
    except (OSError, smtplib.SMTPException) as error:
        return Result("temporary", None, _error_text(error), stage, advice=error_advice(error, profile)), True
    try:
        assert smtp.sock is not None
        smtp.sock.settimeout(max(FINAL_REPLY_TIMEOUT_S, smtp.timeout))
        code, reply = smtp.getreply()
        smtp.sock.settimeout(smtp.timeout)
    except (OSError, smtplib.SMTPException) as error:
        return Result("unknown", None, _error_text(error), AFTER_DOT, advice=error_advice(error, profile)), True
    if code == 250:
        return Result("accepted", code, _text(reply), "DATA"), False
    return _answer(code, reply, AFTER_DOT), code == 421


def _spoke_before_dot(smtp: smtplib.SMTP, grace_s: float) -> bool:
    """Whether the server closed the line or answered while it had the content but not the final dot.

    SMTP says nothing until the dot, so the socket is watched: until the server's side has
    acknowledged the whole content (bounded by the timeout), then ``grace_s`` longer for a
    server that reads it and hangs up. Seen later, a cut is after the dot: ``unknown``.
    """
    sock = smtp.sock
    assert sock is not None
    deadline = time.monotonic() + smtp.timeout
    while _unacknowledged(sock) and time.monotonic() < deadline:
        if select.select([sock], [], [], ACK_POLL_S)[0]:
            return True
    return bool(select.select([sock], [], [], grace_s)[0])


def _unacknowledged(sock: socket.socket) -> int:
    """Bytes sent that the peer has not acknowledged yet (Linux SIOCOUTQ); 0 where that cannot be read."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError:
        return 0


def _refused(smtp: smtplib.SMTP, stage: str, code: int, reply: bytes) -> tuple[Result, bool]:
    """The server said no before the data: reset the transaction (or give up the connection)."""
    return _answer(code, reply, stage), code == 421 or not _reset(smtp)


def _answer(code: int, reply: bytes, stage: str) -> Result:
    """A refusal in the server's words, with what they mean for the office."""
    text = _text(reply)
    return Result(_kind(code), code, text, stage, advice=reply_advice(code, text))


def _reset(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.rset()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def _kind(code: int) -> Literal["temporary", "permanent"]:
    return "permanent" if 500 <= code < 600 else "temporary"


def _text(reply: bytes) -> str:
    return " ".join(reply.decode("utf-8", "replace").split())


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _xtext(text: str) -> str:
    """RFC 3461 4: printable ASCII but "+" and "=" as themselves, everything else as +HH."""
    return "".join(c if 33 <= ord(c) <= 126 and c not in "+=" else f"+{ord(c):02X}" for c in text)


def _dot_stuffed(data: bytes) -> bytes:
    """RFC 5321 4.5.2 transparency (a leading dot doubled), ending with CRLF."""
    if data.startswith(b".") or b"\n." in data:
        data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"
