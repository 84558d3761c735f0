"""Test copies: the approved message sent to a tester, the recipient's ledger state untouched."""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass
from email.message import EmailMessage

from ..config import Config, Sender
from ..errors import UserError
from ..outbox import Draft
from ..outbox import check_address, message_bytes, new_message_id, parse_message, set_text_header
from .approval import _who
from .messenger import Handover
from .smtp import SmtpMessenger

TEST_COPY_PREFIX = "[BẢN THỬ] "
TEST_COPY_LINK = "(bản thử: đường dẫn xác nhận riêng của người nhận không có ở đây)"


@dataclass(frozen=True)
class TrialCopy:
    to: str
    message_id: str
    code: int | None
    reply: str


def send_test_copy(config: Config, draft: Draft, to_address: str) -> TrialCopy:
    """Send the draft's message by e-mail to a test address: same bytes except To/Cc, Subject prefix
    and a new Message-ID. The recipient's ledger state is never touched."""
    address = check_address("to", to_address)
    sender = _sender(config, draft)
    try:
        original = draft.eml_path(config.root).read_bytes()
    except FileNotFoundError:
        raise UserError(f"Không tìm thấy {draft.folder}/message.eml. Cách sửa: chạy build trước.") from None
    message = trial_copy_message(original, address, sender.sender.rpartition("@")[2],
                                 config.web.receipt_url("") if config.web.public_url else "")
    messenger = SmtpMessenger(config.smtp)
    messenger.check(sender)
    with closing(messenger.open(sender)) as session:
        result = session.deliver(Handover(draft.key, sender.sender, (address,), message_bytes(message)))
    if result.kind != "accepted":
        raise UserError(f"Không gửi được bản thử tới {address} ({result.said}).")
    return TrialCopy(address, str(message["Message-ID"]), result.code, result.reply)


def trial_copy_message(original: bytes, to_address: str, message_id_domain: str, receipt_prefix: str = "") -> EmailMessage:
    """The approved message readdressed to a tester, subject marked, with its own Message-ID, and
    without the recipient's confirmation link (``receipt_prefix``…): a tester pressing its button
    would confirm for the recipient."""
    message = parse_message(original)
    if receipt_prefix:
        link = re.compile(re.escape(receipt_prefix) + r"[A-Za-z0-9_-]+")
        for part in message.walk():
            if part.get_content_type() in ("text/plain", "text/html") and not part.is_attachment():
                body = part.get_content()
                if link.search(body):
                    part.set_content(link.sub(TEST_COPY_LINK, body), subtype=part.get_content_subtype(),
                                     cte="quoted-printable")
    message.replace_header("To", to_address)
    del message["Cc"]
    subject = str(message["Subject"] or "")
    if not subject.startswith(TEST_COPY_PREFIX):
        set_text_header(message, "Subject", TEST_COPY_PREFIX + subject)
    message.replace_header("Message-ID", new_message_id(message_id_domain))
    return message


def _sender(config: Config, draft: Draft) -> Sender:
    try:
        return config.senders()[draft.sender]
    except KeyError:
        raise UserError(f"{_who(draft)}: không có phòng/đơn vị gửi '{draft.sender}' trong config.toml.") from None
