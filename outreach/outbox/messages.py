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

Speed (a build writes 10,000 messages): :func:`build_message` sets every header with ``set_raw``, in
the exact form Python's folder would write it, and falls back to the header registry where that form
is not certain (long address lists, an ASCII subject); it fixes the multipart boundaries itself.
Each part it makes remembers its headers, payload and its serialised body (base64 of an attachment
is computed once per distinct file content, so the appendices shared by a build are encoded once).
:func:`message_bytes` then writes such a message from those pieces, exactly as the generator would
(tests compare both byte for byte), unless anything in it changed since; any other message (a
parsed one, a test copy with a new Subject) goes through Python's generator as before.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email
import functools
import operator
import random
import re
import secrets
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy, quoprimime
from email.header import decode_header, make_header
from email.message import EmailMessage, MIMEPart
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, getaddresses, make_msgid
from html import escape as html_escape
from urllib.parse import quote

from ..errors import UserError
from ..text import InvalidAddress, fold_diacritics, mail_address

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
_ATEXT = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"  # what check_address lets through in a local part (no quotes)
_ADDRESS = re.compile(rf"{_ATEXT}@[A-Za-z0-9.-]+")
_MESSAGE_ID = re.compile(rf"<{_ATEXT}@[A-Za-z0-9.-]+>")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # the generator's own line-end pattern
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))  # as email.generator draws them
_CACHED_ATTACHMENT_MAX = 2 * 1024 * 1024  # larger files are encoded every time (cache memory stays small)

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


RECEIPT_TOKEN_BYTES = 24  # 192 random bits (secrets.token_urlsafe): 32 characters in the link
RECEIPT_TEXT = ("Đề nghị Quý cơ quan, đơn vị xác nhận đã nhận công văn này bằng cách mở đường dẫn dưới đây "
                "và bấm nút «Xác nhận đã nhận công văn»:")


def with_receipt_link(text: str, html: str, link: str) -> tuple[str, str]:
    """The bodies with the personal confirmation link: where the templates put it (``xac_nhan``),
    or else a paragraph at the end of each, so no message built with a link is without it."""
    if not link:
        return text, html
    if link not in text:
        text = f"{text.rstrip()}\n\n{RECEIPT_TEXT}\n{link}\n"
    if link not in html:
        anchor = html_escape(link)
        paragraph = f'<p>{html_escape(RECEIPT_TEXT)}<br><a href="{anchor}">{anchor}</a></p>'
        end = html.lower().rfind("</body>")
        html = f"{html[:end]}{paragraph}\n{html[end:]}" if end >= 0 else f"{html}\n{paragraph}\n"
    return text, html


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
    in_reply_to: str = "",
) -> EmailMessage:
    """The complete message, ready for :func:`message_bytes`. Raises HeaderInjectionError/AddressError."""
    sender_address = check_address("sender", sender)
    to_addresses = [check_address("to", a) for a in to]
    if not to_addresses:
        raise AddressError(f"{FIELD_LABELS['to']}: thư phải có ít nhất một người nhận.")
    msg = EmailMessage(policy=_BUILD_POLICY)
    msg.set_raw("Date", format_datetime(date or dt.datetime.now(dt.timezone.utc)))  # always one short line
    msg.set_raw("From", _address_field("From", header_text("sender_name", sender_name), sender_address))
    if reply_to:
        _set_structured(msg, "Reply-To", [check_address("reply_to", reply_to)])
    _set_structured(msg, "To", to_addresses)
    if cc:
        _set_structured(msg, "Cc", [check_address("cc", a) for a in cc])
    set_text_header(msg, "Subject", header_text("subject", subject))
    _set_structured(msg, "Message-ID", [new_message_id(message_id_domain or sender_address.rpartition("@")[2])])
    if in_reply_to:  # a reminder: mail readers thread it under the letter it follows (RFC 5322 3.6.4)
        if not _MESSAGE_ID.fullmatch(in_reply_to):
            raise HeaderInjectionError(f"Message-ID của thư gốc '{in_reply_to}' không hợp lệ.")
        msg.set_raw("In-Reply-To", in_reply_to)
        msg.set_raw("References", in_reply_to)
    msg.set_raw("MIME-Version", "1.0")
    msg.set_raw("Content-Language", "vi")
    _multipart(msg, "mixed", [_alternative(text, html), *(_attachment_part(a) for a in attachments)])
    return msg


def new_message_id(domain: str) -> str:
    """A Message-ID unique per message: time, pid and 64 random bits (never a hash of From/To/Subject)."""
    return make_msgid(idstring=secrets.token_hex(8), domain=domain)


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP: CRLF line ends, 7-bit, ending with CRLF.

    A message as build_message left it is written from the pieces it serialised (:func:`_wire`);
    any other, or one changed since, by Python's generator: the same bytes either way.
    """
    pieces: list[bytes] = []
    data = b"".join(pieces) if _wire(msg, pieces) else msg.as_bytes(policy=SMTP_POLICY)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def parse_message(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=SMTP_POLICY)  # type: ignore[return-value]


def upgrade_attachments(data: bytes, revisions: Sequence[bytes]) -> bytes:
    """The message with every attachment that one of ``revisions`` extends (the same bytes and an
    incremental update after them: a PDF once signed) replaced by that revision; headers and every
    other byte as they were.

    When the message is laid out as :func:`message_bytes` writes it, each base64 body is swapped in
    place: the same bytes as parsing and writing the whole message again, ~15 times faster on a
    600 KB message; any other message is parsed and written again. A body is not decoded: its full
    lines are compared with the revision's own encoding and kept, and only what follows them is
    encoded (decoding and encoding every attachment again was ~5 ms of a signed letter's 15).
    """
    bodies = _base64_bodies(data)
    if bodies is None:
        return _upgrade_parsed(data, revisions)
    pieces, last = [], 0
    for start, end in bodies:
        upgraded = _upgraded(data[start:end], revisions)
        if upgraded is None:
            return _upgrade_parsed(data, revisions)
        kept, tail = upgraded
        if tail is not None:
            pieces += [data[last:start + kept], tail]
            last = end
    return b"".join(pieces) + data[last:] if pieces else data


_LINE_BYTES = _LINE // 4 * 3  # the bytes a full base64 line holds
_LINE_END = _LINE + 2  # a full line with its CRLF
_BASE64_CTE = re.compile(rb"^content-transfer-encoding:[ \t]*base64[ \t]*\r$", re.MULTILINE | re.IGNORECASE)


def _base64_bodies(data: bytes) -> list[tuple[int, int]] | None:
    """(start, end) of the body of each base64 part of the message's multipart/mixed, or None when
    it is not one as message_bytes writes it (no preamble, no epilogue)."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = BytesHeaderParser(policy=policy.compat32).parsebytes(data[:head_end + 4])
    boundary = head.get_boundary()
    if head.get_content_type() != "multipart/mixed" or not boundary:
        return None
    delimiter = b"\r\n--" + boundary.encode("ascii", "surrogateescape")
    position = head_end + 2
    if not data.startswith(delimiter + b"\r\n", position):
        return None
    bodies = []
    # The boundary occurs in no part (see _multipart), so the next delimiter ends each part.
    while data.startswith(b"\r\n", position := position + len(delimiter)):
        headers_end = data.find(b"\r\n\r\n", position)
        end = data.find(delimiter, headers_end)
        if headers_end < 0 or end < headers_end + 4 or not data.startswith((b"\r\n", b"--\r\n"), end + len(delimiter)):
            return None
        if _BASE64_CTE.search(data, position, headers_end + 2) is not None:
            bodies.append((headers_end + 4, end))
        position = end
    return bodies if data.startswith(b"--\r\n", position) and len(data) == position + 4 else None


def _upgraded(body: bytes, revisions: Sequence[bytes]) -> tuple[int, bytes | None] | None:
    """None when ``body`` is not as _base64 writes what it holds; else (n, tail): its first n bytes
    stay and tail replaces the rest, the encoding of the first revision that extends it (tail None:
    none does).

    The body is cut before its last line, which is decoded and must be as _base64 writes it (up to
    57 bytes: a line of 76 characters may be a last one, with padding, holding 55 or 56). The lines
    before it must have their CRLFs where _base64 puts them and, once these are taken out, be the
    encoding of a revision's first bytes (a multiple of 57 bytes, so without padding): they are
    then also the first lines of the revision's encoding."""
    cut = body.rfind(b"\n", 0, len(body) - 1) + 1
    lines, last = body[:cut], body[cut:]
    count = cut // _LINE_END
    try:
        rest = base64.b64decode(last)
    except ValueError:
        return None
    if (cut % _LINE_END or lines[_LINE::_LINE_END] != b"\r" * count or lines[_LINE + 1::_LINE_END] != b"\n" * count
            or _base64(rest)[1] != last):
        return None
    offset = count * _LINE_BYTES
    size, characters, held = offset + len(rest), lines.translate(None, b"\r\n"), False
    for revision in revisions:
        if len(revision) >= size and revision.startswith(rest, offset) and \
                characters == binascii.b2a_base64(memoryview(revision)[:offset], newline=False):
            if len(revision) > size:
                return cut, _base64(revision[offset:])[1]
            held = True
    return (cut, None) if held or _full_lines(characters, offset) else None


def _full_lines(characters: bytes, size: int) -> bool:
    """Whether ``characters`` is the encoding of ``size`` bytes, as _base64 writes it (no padding)."""
    try:
        decoded = binascii.a2b_base64(characters, strict_mode=True)
    except binascii.Error:
        return False
    return len(decoded) == size and binascii.b2a_base64(decoded, newline=False) == characters


def _newer_revision(content: bytes, revisions: Sequence[bytes]) -> bytes | None:
    return next((r for r in revisions if len(r) > len(content) and r.startswith(content)), None)


def _upgrade_parsed(data: bytes, revisions: Sequence[bytes]) -> bytes:
    msg = parse_message(data)
    for part in msg.iter_attachments():
        newer = _newer_revision(part.get_content(), revisions)
        if newer is not None:
            part.set_payload(_base64(newer)[0])
    return message_bytes(msg)


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
    """The address in ASCII form (IDN domains in punycode), by the rule the lists are validated with."""
    check_header_text(field, value)
    try:
        return mail_address(value.strip()).ascii
    except InvalidAddress as reason:
        raise AddressError(
            f"{FIELD_LABELS[field]}: '{value}' {reason}{f' ({reason.detail})' if reason.detail else ''}. "
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


def _set_structured(msg: EmailMessage, name: str, values: Sequence[str]) -> None:
    """Addresses checked by check_address, or a Message-ID: ``set_raw`` where Python's folder would
    write the value unchanged: it fits on the header's line, or it is a Message-ID too long for any
    line (it has no space to fold at; only one that fits on a continuation line is moved there).
    Otherwise the header registry parses and folds it, as it always did."""
    value = ", ".join(values)
    if name == "Message-ID":
        unchanged = _MESSAGE_ID.fullmatch(value) and (len(name) + 2 + len(value) <= _LINE or len(value) + 1 > _LINE)
    else:
        unchanged = all(_ADDRESS.fullmatch(v) for v in values) and len(name) + 2 + len(value) <= _LINE
    if unchanged:
        msg.set_raw(name, value)
    else:
        msg[name] = value


@dataclass(frozen=True, eq=False)
class _Sealed:
    """A part as build_message left it, with its serialised body (``_wire``)."""

    headers: tuple  # the (name, value) items of part._headers, the very objects
    payload: object  # part._payload: the str, or the list of subparts
    children: tuple | None  # the subparts (multipart only)
    boundary: bytes  # multipart only
    body: bytes  # leaf only: the payload with CRLF line ends, as the generator's _write_lines writes it


def _seal(part: MIMEPart, *, boundary: str = "", body: bytes = b"") -> None:
    payload = part._payload
    children = tuple(payload) if isinstance(payload, list) else None
    part._outreach_sealed = _Sealed(tuple(part._headers), payload, children, boundary.encode("ascii"), body)


def _same(items: Sequence, sealed: tuple) -> bool:
    return len(items) == len(sealed) and all(map(operator.is_, items, sealed))


def _wire(part: MIMEPart, out: list[bytes]) -> bool:
    """Append what ``BytesGenerator(policy=SMTP_POLICY)`` writes for this part to ``out``; False if
    build_message did not make it or anything in it changed since (then the generator must write it).

    Mirrors the generator for exactly what build_message makes: no preamble or epilogue, the
    boundary already set, and only types it writes with ``_handle_multipart`` (multipart/mixed and
    alternative) or ``_handle_text`` (every leaf; attachments of type message/* or multipart/* are
    never sealed). Headers go through the same ``SMTP_POLICY.fold_binary`` as in the generator.
    """
    sealed = getattr(part, "_outreach_sealed", None)
    if (sealed is None or part.preamble is not None or part.epilogue is not None
            or part._payload is not sealed.payload or not _same(part._headers, sealed.headers)):
        return False
    out.extend(SMTP_POLICY.fold_binary(name, value) for name, value in sealed.headers)
    out.append(b"\r\n")
    if sealed.children is None:
        out.append(sealed.body)
        return True
    if not _same(sealed.payload, sealed.children):  # a part attached or removed since
        return False
    delimiter = b"--" + sealed.boundary
    for index, child in enumerate(sealed.children):
        out.append(b"\r\n" + delimiter + b"\r\n" if index else delimiter + b"\r\n")
        if not _wire(child, out):
            return False
    out.append(b"\r\n" + delimiter + b"--\r\n")
    return True


def _multipart(part: MIMEPart, subtype: str, children: Sequence[MIMEPart]) -> None:
    """Content-Type with a boundary drawn as Python's generator draws it, written as its folder
    writes it. Like the generator's, it occurs in no subpart: their bodies are base64 (no '-') or
    quoted-printable ('=' is written =3D), so only a nested multipart's boundary could clash."""
    nested = _boundaries(children)
    while (boundary := "=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "==") in nested:
        pass
    part.set_raw("Content-Type", f'multipart/{subtype};\r\n boundary="{boundary}"')
    for child in children:
        part.attach(child)
    _seal(part, boundary=boundary)


def _boundaries(parts: Sequence[MIMEPart]) -> set[str]:
    found: set[str] = set()
    for part in parts:
        sealed = getattr(part, "_outreach_sealed", None)
        if sealed is not None and sealed.children is not None:
            found |= {sealed.boundary.decode("ascii"), *_boundaries(sealed.children)}
    return found


def _text_part(body: str, subtype: str) -> MIMEPart:
    """What ``set_content(body, subtype=subtype, cte="quoted-printable")`` makes (the same
    encoding calls), without parsing its own headers three times."""
    lines = unicodedata.normalize("NFC", body).encode("utf-8").splitlines()
    payload = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), _BUILD_POLICY.max_line_length)
    part = MIMEPart(policy=_BUILD_POLICY)
    part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
    part.set_raw("Content-Transfer-Encoding", "quoted-printable")
    part.set_payload(payload)
    _seal(part, body=_NEWLINE.sub("\r\n", payload).encode("ascii", "surrogateescape"))
    return part


def _alternative(text: str, html: str) -> MIMEPart:
    part = MIMEPart(policy=_BUILD_POLICY)
    _multipart(part, "alternative", [_text_part(text, "plain"), _text_part(html, "html")])
    return part


def _attachment_part(attachment: Attachment) -> MIMEPart:
    part = MIMEPart(policy=_BUILD_POLICY)
    content_type, disposition = _attachment_headers(attachment.filename, attachment.content_type)
    part.set_raw("Content-Type", content_type)
    part.set_raw("Content-Disposition", disposition)
    part.set_raw("Content-Transfer-Encoding", "base64")
    data = attachment.data
    payload, body = (_base64_cached(data) if type(data) is bytes and len(data) <= _CACHED_ATTACHMENT_MAX
                     else _base64(data))
    part.set_payload(payload)
    if content_type.partition("/")[0] not in ("multipart", "message"):  # the generator has other handlers
        _seal(part, body=body)
    return part


@functools.lru_cache(maxsize=256)  # the appendices of a build have the same names in every message
def _attachment_headers(filename: str, content_type: str) -> tuple[str, str]:
    """Content-Type and Content-Disposition of an attachment, folded (see the module doc)."""
    name = attachment_filename(header_text("attachment", filename))
    kind = content_type.strip().lower()
    if not _CONTENT_TYPE.match(kind):
        raise HeaderInjectionError(f"{FIELD_LABELS['content_type']} '{content_type}' không hợp lệ.")
    if _PLAIN_FILENAME.match(name):
        return f'{kind}; name="{name}"', f'attachment; filename="{name}"'
    return (f'{kind};\r\n name="{" ".join(_encoded_words(name))}"',
            f"attachment;\r\n filename*=utf-8''{quote(name, safe=_RFC2231_SAFE)};\r\n filename=\"{ascii_filename(name)}\"")


def _base64(data: bytes) -> tuple[str, bytes]:
    """The payload ``base64.encodebytes`` would make (76-character lines, LF) and the same lines as
    the generator writes them (CRLF)."""
    encoded = base64.b64encode(data)
    lines = [encoded[i:i + _LINE] for i in range(0, len(encoded), _LINE)]
    if lines:
        lines.append(b"")  # every line ends with a line end, the last one too
    return b"\n".join(lines).decode("ascii"), b"\r\n".join(lines)


# Keyed by the bytes themselves: a hit is always the same content, never a file that merely has the
# same name, length or hash. Eight entries: the new letter of each message pushes out the previous
# one, not the shared appendices used by every message.
_base64_cached = functools.lru_cache(maxsize=8)(_base64)


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
    start, size, most = 0, 0, _most_bytes(min(first_room, _ENCODED_WORD_MAX))  # the word so far: text[start:index]
    for index, char in enumerate(text):
        width = 1 if char < "\x80" else len(char.encode("utf-8"))
        if size + width > most and index > start:
            words.append(_encoded_word(text[start:index]))
            start, size, most = index, 0, _most_bytes(_ENCODED_WORD_MAX)
        size += width
    words.append(_encoded_word(text[start:]))
    return words


def _most_bytes(room: int) -> int:
    """The most UTF-8 bytes an encoded word of at most ``room`` characters holds: 4 characters of
    base64 for every 3 bytes (begun), inside ``=?utf-8?b?`` and ``?=``."""
    return 3 * ((room - len("=?utf-8?b??=")) // 4)


def _encoded_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="
