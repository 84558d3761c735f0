"""Build one complete MIME message (``message.eml``) for one draft; parse it back for previews.

Pure: no I/O. The bytes from :func:`message_bytes` are what staff preview, what approval hashes and
what delivery sends, byte for byte.

Layout: ``multipart/mixed`` = ``multipart/alternative`` (text/plain + text/html, quoted-printable)
followed by the attachments (base64). Everything is 7-bit, so no server needs SMTPUTF8 or 8BITMIME.

Vietnamese header text (Subject, display names) is written here as RFC 2047 base64 encoded-words of
at most 75 characters, split on character boundaries, every space inside a word. Python's own folder
is not used for it: it sometimes moves a space out between two encoded-words, where RFC 2047 says
readers must drop it ("BHYT; sử dụng" arrives as "BHYT;sử dụng"), and writes 76-character words.

Attachment names are written by hand too, because Python splits a long non-ASCII name into RFC 2231
continuations (``filename*0*=…; filename*1*=…``) that several readers decode badly (Roundcube
before 2026, Delta Chat, Indy) and it cannot emit an ASCII fallback. Each attachment gets:

* ``Content-Disposition: attachment; filename*=utf-8''<percent-encoded>; filename="cong-van-….pdf"``
  -- RFC 2231 in one piece, first, so readers that take the first ``filename`` (Python's own
  parser) or prefer the extended form (Thunderbird, Gmail, Apple Mail) show the Vietnamese name,
  and readers without RFC 2231 show the readable ASCII fallback;
* ``Content-Type: application/pdf; name="=?utf-8?b?…?="`` -- the form Outlook and Gmail write
  themselves, for Outlook over IMAP/POP which reads ``name`` and not RFC 2231.

Names are cut to 255 UTF-8 bytes (the file-system limit) so every header line stays under 998.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import math
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, MIMEPart
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, getaddresses, make_msgid
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email

from .errors import UserError
from .vntext import fold_diacritics

# 76, not Python's 78: keeps encoded-words within RFC 2047's 75 characters and quoted-printable lines
# within RFC 2045's 76. Headers this module writes by hand (attachment names) are kept as written:
# only Python's header objects are folded, never our pre-folded source lines.
SMTP_POLICY = policy.SMTP.clone(max_line_length=76, refold_source="none")
_BUILD_POLICY = policy.default.clone(max_line_length=76, refold_source="none")

MAX_FILENAME_BYTES = 255
_RFC2231_SAFE = "!#$&+-.^_`|~"  # attribute-char besides letters and digits (RFC 2231)
_ENCODED_WORD_MAX = 75  # RFC 2047 section 2
_LINE = 76
_PLAIN_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,100}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")

FIELD_LABELS = {
    "sender_name": "Tên người gửi",
    "sender": "Địa chỉ người gửi",
    "reply_to": "Địa chỉ trả lời (Reply-To)",
    "to": "Địa chỉ người nhận (To)",
    "cc": "Địa chỉ đồng gửi (Cc)",
    "subject": "Tiêu đề thư",
    "attachment": "Tên tệp đính kèm",
    "content_type": "Kiểu tệp đính kèm",
}


class HeaderInjectionError(UserError):
    """A header value with CR, LF or another control character: it could forge a second header."""


class AddressError(UserError):
    """An e-mail address that is not valid."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = "application/pdf"


def build_message(
    *,
    sender_name: str,
    sender: str,
    reply_to: str,
    to: Sequence[str],
    cc: Sequence[str],
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[Attachment],
    message_id_domain: str | None = None,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """The complete message, ready for :func:`message_bytes`. Raises HeaderInjectionError/AddressError."""
    sender_address = check_address("sender", sender)
    to_addresses = [check_address("to", a) for a in to]
    if not to_addresses:
        raise AddressError(f"{FIELD_LABELS['to']}: thư phải có ít nhất một người nhận.")
    msg = EmailMessage(policy=_BUILD_POLICY)
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.timezone.utc))
    msg.set_raw("From", _address_field("From", header_text("sender_name", sender_name), sender_address))
    if reply_to:
        msg["Reply-To"] = check_address("reply_to", reply_to)
    msg["To"] = ", ".join(to_addresses)
    if cc:
        msg["Cc"] = ", ".join(check_address("cc", a) for a in cc)
    set_text_header(msg, "Subject", header_text("subject", subject))
    msg["Message-ID"] = new_message_id(message_id_domain or sender_address.rpartition("@")[2])
    msg["MIME-Version"] = "1.0"
    msg["Content-Language"] = "vi"
    msg["Content-Type"] = "multipart/mixed"
    msg.attach(_alternative(text, html))
    for attachment in attachments:
        msg.attach(_attachment_part(attachment))
    return msg


def new_message_id(domain: str) -> str:
    """A Message-ID unique per message: time, pid and 64 random bits (never a hash of From/To/Subject)."""
    return make_msgid(idstring=secrets.token_hex(8), domain=domain)


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP: CRLF line ends, 7-bit, ending with CRLF."""
    data = msg.as_bytes(policy=SMTP_POLICY)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def parse_message(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=SMTP_POLICY)  # type: ignore[return-value]


@dataclass(frozen=True)
class Envelope:
    message_id: str
    recipients: tuple[str, ...]  # To then Cc, as written in the message


def envelope_of(data: bytes) -> Envelope:
    """Message-ID and To/Cc addresses from the header block only: ~30 µs, for every message sent."""
    head = BytesHeaderParser(policy=policy.compat32).parsebytes(data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
    fields = [*head.get_all("To", []), *head.get_all("Cc", [])]
    return Envelope(str(head.get("Message-ID", "")).strip(), tuple(address for _, address in getaddresses(fields)))


def decoded_header(msg: EmailMessage, name: str) -> str:
    """A header as a mail reader shows it (RFC 2047 decoded), e.g. ``Tên <a@b.vn>``.

    Python's address parser keeps the space between two adjacent encoded-words in a display name
    (RFC 2047 says to drop it), so previews use the classic decoder on the raw value instead.
    """
    raw = next((value for key, value in msg.raw_items() if key.lower() == name.lower()), None)
    if raw is None:
        return ""
    return str(make_header(decode_header(str(raw))))


def check_header_text(field: str, value: str) -> None:
    """Refuse CR, LF and every other control or line-separator character in a header value."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise HeaderInjectionError(
                f"{FIELD_LABELS[field]} chứa ký tự xuống dòng hoặc ký tự điều khiển ({char!r}) trong "
                f"giá trị {value!r}. Ký tự này có thể tạo thêm dòng tiêu đề giả (ví dụ Bcc) nên thư "
                "không được tạo. Cách sửa: xóa ký tự đó trong danh sách người nhận, mẫu thư hoặc "
                "config.toml rồi tạo lại bản thảo."
            )


def header_text(field: str, value: str) -> str:
    check_header_text(field, value)
    return unicodedata.normalize("NFC", value).strip()


def check_address(field: str, value: str) -> str:
    """The address in ASCII form (IDN domains in punycode), syntax checked without DNS."""
    check_header_text(field, value)
    try:
        return validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False).ascii_email
    except EmailNotValidError as exc:
        raise AddressError(
            f"{FIELD_LABELS[field]}: '{value}' không phải địa chỉ e-mail hợp lệ ({exc}). "
            "Cách sửa: sửa địa chỉ trong danh sách người nhận hoặc config.toml."
        ) from None


def set_text_header(msg: EmailMessage, name: str, text: str) -> None:
    """Replace (or add) an unstructured header; non-ASCII text as encoded-words (see module doc)."""
    del msg[name]
    if text.isascii():
        msg[name] = text
    else:
        msg.set_raw(name, "\r\n ".join(_encoded_words(text, _LINE - len(name) - 2)))


def _address_field(name: str, display_name: str, address: str) -> str:
    if not display_name:
        return address
    if display_name.isascii():
        return formataddr((display_name, address))
    return "\r\n ".join([*_encoded_words(display_name, _LINE - len(name) - 2), f"<{address}>"])


def _text_part(body: str, subtype: str) -> MIMEPart:
    part = MIMEPart(policy=_BUILD_POLICY)
    part.set_content(unicodedata.normalize("NFC", body), subtype=subtype, cte="quoted-printable")
    return part


def _alternative(text: str, html: str) -> MIMEPart:
    part = MIMEPart(policy=_BUILD_POLICY)
    part["Content-Type"] = "multipart/alternative"
    part.attach(_text_part(text, "plain"))
    part.attach(_text_part(html, "html"))
    return part


def _attachment_part(attachment: Attachment) -> MIMEPart:
    name = attachment_filename(header_text("attachment", attachment.filename))
    content_type = attachment.content_type.strip().lower()
    if not _CONTENT_TYPE.match(content_type):
        raise HeaderInjectionError(f"{FIELD_LABELS['content_type']} '{attachment.content_type}' không hợp lệ.")
    part = MIMEPart(policy=_BUILD_POLICY)
    if _PLAIN_FILENAME.match(name):
        part.set_raw("Content-Type", f'{content_type}; name="{name}"')
        part.set_raw("Content-Disposition", f'attachment; filename="{name}"')
    else:
        part.set_raw("Content-Type", f'{content_type};\r\n name="{" ".join(_encoded_words(name))}"')
        part.set_raw(
            "Content-Disposition",
            f"attachment;\r\n filename*=utf-8''{quote(name, safe=_RFC2231_SAFE)};\r\n filename=\"{ascii_filename(name)}\"",
        )
    part.set_raw("Content-Transfer-Encoding", "base64")
    part.set_payload(base64.encodebytes(attachment.data).decode("ascii"))
    return part


def attachment_filename(name: str) -> str:
    """NFC, without path separators, at most 255 UTF-8 bytes with the extension kept."""
    name = re.sub(r"[\\/]+", "-", unicodedata.normalize("NFC", name)).strip() or "tep-dinh-kem"
    if len(name.encode("utf-8")) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode("utf-8"))
    return stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip() + suffix


def ascii_filename(name: str) -> str:
    """Readable ASCII fallback: ``Công văn số 05 – Ủy ban….pdf`` -> ``cong-van-so-05-uy-ban-….pdf``."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    slug = re.sub(r"[^a-z0-9]+", "-", fold_diacritics(stem)).strip("-")[:80].rstrip("-") or "tep-dinh-kem"
    clean_extension = re.sub(r"[^a-z0-9]+", "", fold_diacritics(extension))
    return f"{slug}.{clean_extension}" if clean_extension else slug


def _encoded_words(text: str, first_room: int = _ENCODED_WORD_MAX) -> list[str]:
    """RFC 2047 base64 encoded-words split on character boundaries (each decodes alone); the first
    is at most ``first_room`` long (to fit beside the header name), the others 75."""
    words: list[str] = []
    current, room = "", min(first_room, _ENCODED_WORD_MAX)
    for char in text:
        if current and _word_length(current + char) > room:
            words.append(_encoded_word(current))
            current, room = "", _ENCODED_WORD_MAX
        current += char
    words.append(_encoded_word(current))
    return words


def _word_length(text: str) -> int:
    return len("=?utf-8?b??=") + 4 * math.ceil(len(text.encode("utf-8")) / 3)


def _encoded_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="
