"""The one rule for an e-mail address, used by `validate` for the lists and by `build` for the
messages, so that every address a list is accepted with is one a message can carry.

Messages are 7-bit and go out without SMTPUTF8 (see outbox/messages.py): the part before "@" must
be ASCII, while a domain may be written in Vietnamese (IDN) and goes out in punycode. Syntax only,
no DNS.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """Not an address a message can be sent to: ``str()`` says why in Vietnamese, to follow the
    address in a sentence; ``detail`` is the checker's own (English) words, or ""."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.detail = detail


@dataclass(frozen=True)
class MailAddress:
    normalized: str  # as lists show it, the domain in Unicode: ketoan@bücher.example
    ascii: str  # as it goes on the wire: ketoan@xn--bcher-kva.example


@functools.lru_cache(maxsize=4096)  # sender, Reply-To and Cc repeat in every message of a build
def mail_address(text: str) -> MailAddress:
    """``text`` checked; raises InvalidAddress."""
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        local = text.rpartition("@")[0]
        if not local.isascii():
            raise InvalidAddress(f"có chữ có dấu hoặc ký tự ngoài bảng chữ ASCII ở phần trước «@» («{local}»): "
                                 "thư điện tử không gửi được tới địa chỉ như vậy") from None
        raise InvalidAddress("không phải địa chỉ e-mail hợp lệ", str(error)) from None
    return MailAddress(checked.normalized, checked.ascii_email)
