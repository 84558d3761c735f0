"""What came back after the 250 (pure): the tagged return path set when sending, and what a message
found in a sender's mailbox is — a delivery status notification, an auto-reply, a reply, a copy.

* A sender with a mailbox sends with a tagged return path, ``phongqlt+b.<token>@…`` (VERP): the
  token is a hash of campaign and draft key keyed with the working folder's secret
  (``outbox/.return-path.key``), so a bounce addressed to it names its delivery even when it quotes
  nothing of the original, and nobody outside can make one up. The approved bytes stay as
  approved: the return path is the envelope's (MAIL FROM), not a header.
* :func:`read_notice` gathers every clue a message offers — return-path tokens, the Message-IDs it
  quotes or answers (returned headers, ``In-Reply-To``, ``References``), the ``Final-Recipient``
  lines of a DSN — and says what the message is. Tying the clues to a delivery is collect's job.
* Recognised, in this order: RFC 3464 reports (``multipart/report; report-type=delivery-status``),
  whose ``Action``/``Status`` per recipient decide failed or delayed; then the non-standard bounces
  of known MTAs through flufl.bounce, for messages that come from a mailer daemon; then auto-replies
  (RFC 3834 ``Auto-Submitted``, and the headers vacation programs set), which are never bounces;
  then replies and copies of our own messages.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import hashlib
import html
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.utils import parseaddr
from pathlib import Path

from ..config import Sender
from ..text import to_nfc
from ..workspace import Workspace
from .ledger import Inbound

TAG = "+b."
_TOKEN_CHARS = 16  # 80 bits of base32: two deliveries sharing a token is not a practical worry
_TOKEN = re.compile(rf"\+b\.([a-z2-7]{{{_TOKEN_CHARS}}})@", re.IGNORECASE)
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_MESSAGE_ID = re.compile(rb"(?im)^Message-ID:[ \t]*((?:[^\r\n]|\r?\n[ \t])*)")
_ANGLE_ID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "bounce", "bounces")
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|autoreply|out of (the )?office|vacation|away from|"
    r"trả lời tự động|vắng mặt|nghỉ phép)", re.IGNORECASE)
_QUOTE_START = re.compile(r"^(>|-{2,}\s*(original message|thư gốc)|on .+ wrote:|vào .+ đã viết:|"
                          r"from:|từ:)", re.IGNORECASE)
REPLY_TEXT_LIMIT = 4000


def return_path_secret(root: Path) -> bytes:
    """The working folder's token key: made once (32 random bytes, owner-only), then always the same."""
    path = Workspace(root).return_path_key
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use that one
        return path.read_bytes()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))
        handle.flush()
        os.fsync(handle.fileno())
    return path.read_bytes()


def verp_token(secret: bytes, campaign: str, key: str) -> str:
    digest = hashlib.blake2b(f"{campaign}\0{key}".encode(), digest_size=10, key=secret, person=b"outreach-verp")
    return base64.b32encode(digest.digest()).decode().lower()[:_TOKEN_CHARS]


def envelope_sender(root: Path, sender: Sender, campaign: str, key: str) -> tuple[str, str]:
    """MAIL FROM of one draft's message and its envelope id (RFC 3461 ENVID): tagged when the
    sender's mailbox is read (collect), else its plain address and no id (a tag nobody reads would
    only risk a server without plus addressing)."""
    if sender.mailbox is None:
        return sender.sender, ""
    token = verp_token(return_path_secret(root), campaign, key)
    local, _, domain = sender.sender.rpartition("@")
    return f"{local}{TAG}{token}@{domain}", token


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient's block of a DSN (or one address a non-standard bounce names)."""

    address: str
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # RFC 3463, e.g. 5.1.1 ("" when the bounce gives none)
    diagnostic: str


@dataclass(frozen=True)
class Notice:
    kind: Inbound  # BOUNCE, DELAY, AUTO_REPLY, REPLY (a person's answer to something), COPY or OTHER
    tokens: tuple[str, ...]  # return-path tokens found anywhere in the message
    envelope_ids: tuple[str, ...]  # a DSN's Original-Envelope-Id (the ENVID given when sending)
    quoted_ids: tuple[str, ...]  # Message-IDs it reports on or answers, nearest first (lower case, no <>)
    own_id: str  # this message's own Message-ID (lower case, no <>)
    recipients: tuple[RecipientStatus, ...]  # of a bounce or delay
    from_address: str
    subject: str
    text: str  # a reply's text, without what it quotes

    @property
    def status(self) -> str:
        return next((r.status for r in self.recipients if r.status), "")

    @property
    def diagnostic(self) -> str:
        return "; ".join(dict.fromkeys(r.diagnostic for r in self.recipients if r.diagnostic))


def read_notice(raw: bytes) -> Notice:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    from_address = parseaddr(_header(message, "From"))[1].lower()
    subject = _header(message, "Subject")
    own_id = _ids(_header(message, "Message-ID"))
    # The message answered first, then what it references, nearest first: a reply to a reminder
    # references the original letter too, and is a reply to the reminder.
    answered = tuple(dict.fromkeys(_ids(_header(message, "In-Reply-To"))
                                   + tuple(reversed(_ids(_header(message, "References"))))))
    common = {"tokens": tuple(dict.fromkeys(t.lower() for t in _TOKEN.findall(raw.decode("latin-1")))),
              "own_id": own_id[0] if own_id else "", "from_address": from_address, "subject": subject}

    report = _delivery_report(message)
    if report is not None:
        statuses, envelope_ids = report
        return Notice(_kind_of(statuses), quoted_ids=_returned_ids(raw, own_id), recipients=statuses, text="",
                      envelope_ids=envelope_ids, **common)
    if _from_daemon(message, from_address):
        failures = _non_standard_failures(message, raw)
        if failures:
            return Notice(_kind_of(failures), quoted_ids=_returned_ids(raw, own_id), recipients=failures, text="",
                          envelope_ids=(), **common)
    if _auto_reply(message, subject):
        return Notice(Inbound.AUTO_REPLY, quoted_ids=answered, recipients=(), text=_reply_text(message),
                      envelope_ids=(), **common)
    if answered:
        return Notice(Inbound.REPLY, quoted_ids=answered, recipients=(), text=_reply_text(message),
                      envelope_ids=(), **common)
    return Notice(Inbound.COPY if own_id else Inbound.OTHER, quoted_ids=(), recipients=(), text="", envelope_ids=(),
                  **common)


def _kind_of(statuses: tuple[RecipientStatus, ...]) -> Inbound:
    """A report on several recipients is a bounce when any failed for good; only delays: a delay."""
    if any(s.action == "failed" or s.status.startswith("5") for s in statuses):
        return Inbound.BOUNCE
    if any(s.action == "delayed" or s.status.startswith("4") for s in statuses):
        return Inbound.DELAY
    return Inbound.OTHER  # delivered, relayed, expanded: a success report changes nothing


def _delivery_report(message: email.message.Message) -> tuple[tuple[RecipientStatus, ...], tuple[str, ...]] | None:
    """The per-recipient statuses of an RFC 3464 report, and its Original-Envelope-Id."""
    for part in message.walk():
        if part.get_content_type() != "multipart/report" or \
                part.get_param("report-type", "").lower() != "delivery-status":
            continue
        for sub in part.walk():
            if sub.get_content_type() == "message/delivery-status":
                return _status_blocks(sub)
    return None


def _status_blocks(part: email.message.Message) -> tuple[tuple[RecipientStatus, ...], tuple[str, ...]]:
    """Per-recipient blocks (the first block is per-message, with no Final-Recipient)."""
    blocks = part.get_payload()
    if isinstance(blocks, str):  # a body the parser left as text: split it into header blocks
        text = base64.b64decode(blocks).decode("utf-8", "replace") if \
            part.get("Content-Transfer-Encoding", "").lower() == "base64" else blocks
        blocks = [email.message_from_string(block.strip() + "\n") for block in re.split(r"\r?\n\r?\n", text)
                  if block.strip()]
    found = []
    envelope_ids = tuple(str(block["Original-Envelope-Id"]).strip().lower() for block in blocks
                         if block.get("Original-Envelope-Id"))
    for block in blocks:
        recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
        if not recipient:
            continue
        address = str(recipient).split(";", 1)[-1].strip().strip("<>").lower()
        status = _STATUS.search(str(block.get("Status", "")))
        found.append(RecipientStatus(address, str(block.get("Action", "")).strip().lower(),
                                     status.group(1) if status else "",
                                     " ".join(str(block.get("Diagnostic-Code", "")).split())))
    return tuple(found), envelope_ids


def _from_daemon(message: email.message.Message, from_address: str) -> bool:
    local = from_address.partition("@")[0]
    return (message.get("X-Failed-Recipients") is not None or any(local.startswith(d) for d in _DAEMONS)
            or str(message.get("Return-Path", "")).strip() == "<>")


def _non_standard_failures(message: email.message.Message, raw: bytes) -> tuple[RecipientStatus, ...]:
    """The bounce formats of known MTAs (Exim, qmail, Exchange, …), as flufl.bounce recognises them;
    it gives addresses only, so the status and the diagnostic line are looked for in the text."""
    from flufl.bounce import all_failures

    temporary, permanent = all_failures(message)
    text = _plain_text(message)
    statuses = []
    for action, addresses in (("failed", permanent), ("delayed", temporary)):
        for address in sorted(addresses):
            decoded = address.decode("utf-8", "replace").lower() if isinstance(address, bytes) else address.lower()
            said = _said_about(text, decoded)
            code = _STATUS.search(said) or _STATUS.search(text)
            statuses.append(RecipientStatus(decoded, action, code.group(1) if code else "", said))
    return tuple(statuses)


def _said_about(text: str, address: str) -> str:
    """The lines a bounce writes about one address: from the first that names it to the next blank one."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if address in line.lower()), None)
    if start is None:
        return ""
    block = []
    for line in lines[start:start + 6]:
        if not line.strip() and block:
            break
        block.append(line.strip())
    return " ".join(" ".join(block).split())


def _auto_reply(message: email.message.Message, subject: str) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (auto != "no" or any(message.get(h) is not None for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"))
            or precedence in ("auto_reply", "bulk", "junk") or bool(_AUTO_REPLY_SUBJECT.match(subject)))


def _returned_ids(raw: bytes, own_id: tuple[str, ...]) -> tuple[str, ...]:
    """The Message-IDs of the message a bounce returns: in its returned headers (message/rfc822 or
    text/rfc822-headers), or, for a bounce that pastes them into its text, any such header line.
    Only Message-ID: the returned message's In-Reply-To names another (the letter a reminder recalls)."""
    found = []
    for match in _MESSAGE_ID.finditer(raw):
        found += _ids(match.group(1).decode("latin-1"))
    return tuple(i for i in dict.fromkeys(found) if i not in own_id)


def _ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i.lower() for i in _ANGLE_ID.findall(value)))


def _header(message: email.message.Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    try:
        return to_nfc(str(make_header(decode_header(str(value)))))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        return " ".join(str(value).split())


def _plain_text(message: email.message.Message) -> str:
    """The first text/plain part, else the first text/html one without its tags."""
    for wanted in ("text/plain", "text/html"):
        for part in message.walk():
            if part.get_content_type() == wanted and not part.is_multipart() and \
                    part.get_content_disposition() != "attachment":
                payload = part.get_payload(decode=True) or b""
                text = payload.decode(part.get_content_charset() or "utf-8", "replace")
                if wanted == "text/html":
                    text = html.unescape(re.sub(r"(?s)<(script|style).*?</\1>|<[^>]+>", " ", text))
                return unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    return ""


def _reply_text(message: email.message.Message) -> str:
    """What the person wrote: the text up to where it starts quoting our letter."""
    lines = []
    for line in _plain_text(message).splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        lines.append(line.rstrip())
    return "\n".join(lines).strip()[:REPLY_TEXT_LIMIT]

