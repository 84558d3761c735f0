"""VietQR payloads (NAPAS 247, EMVCo merchant-presented mode) for a transfer to a bank account.

The payload is a string of fields, each ``ID (2 digits) + length (2 digits) + value``, ending
with a CRC-16/CCITT-FALSE over everything before it, ``6304`` included. Only the fields a transfer
to an account needs are written (00, 01, 38, 53, 54, 58, 62, 63): bank apps look the account's
name up themselves. Tested against the NAPAS specification's vectors (tests/test_vietqr.py).
"""

from __future__ import annotations

import re

GUID = "A000000727"  # NAPAS in the EMVCo registry
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"  # ISO 4217
COUNTRY = "VN"
DYNAMIC = "12"  # the amount is filled in; "11" would be a static code the payer types an amount into
PURPOSE_LIMIT = 25  # characters of the purpose (tag 62, sub-tag 08) under the NAPAS specification

_BIN = re.compile(r"^\d{6}$")
_ACCOUNT = re.compile(r"^[0-9A-Za-z]{1,19}$")
# Bank apps mangle diacritics and punctuation in the purpose, and some CRC implementations hash
# UTF-8 bytes where the length counts characters: plain ASCII letters, digits and spaces only.
_PURPOSE = re.compile(r"^[A-Za-z0-9 ]+$")
_BILL_NUMBER = re.compile(r"^[A-Za-z0-9]{1,25}$")


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def field(tag: str, value: str) -> str:
    """One EMVCo data object; a value longer than 99 characters cannot be written."""
    if len(value) > 99:
        raise ValueError(f"field {tag} holds {len(value)} characters, at most 99")
    return f"{tag}{len(value):02d}{value}"


def with_crc(payload: str) -> str:
    """``payload`` (without its CRC field) with tag 63 appended: four upper-case hex digits."""
    body = payload + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def transfer_payload(bank_bin: str, account: str, amount: int, purpose: str, *, bill_number: str = "") -> str:
    """The payload of a dynamic VietQR code for ``amount`` đồng to ``account`` at the bank ``bank_bin``.

    ``purpose`` becomes the transfer's content in the payer's bank app; ``bill_number`` (tag 62,
    sub-tag 01) is optional. A value the specification does not allow raises ValueError."""
    if not _BIN.match(bank_bin):
        raise ValueError(f"bank BIN {bank_bin!r}: 6 digits expected")
    if not _ACCOUNT.match(account):
        raise ValueError(f"account {account!r}: 1-19 letters or digits expected")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount < 10**13:
        raise ValueError(f"amount {amount!r}: a whole number of đồng, 1 to 13 digits, expected")
    if len(purpose) > PURPOSE_LIMIT or not _PURPOSE.match(purpose):
        raise ValueError(f"purpose {purpose!r}: at most {PURPOSE_LIMIT} ASCII letters, digits and spaces expected")
    if bill_number and not _BILL_NUMBER.match(bill_number):
        raise ValueError(f"bill number {bill_number!r}: at most 25 letters or digits expected")
    beneficiary = field("00", bank_bin) + field("01", account)
    merchant = field("00", GUID) + field("01", beneficiary) + field("02", SERVICE_TO_ACCOUNT)
    additional = (field("01", bill_number) if bill_number else "") + field("08", purpose)
    return with_crc(
        field("00", "01")
        + field("01", DYNAMIC)
        + field("38", merchant)
        + field("53", CURRENCY_VND)
        + field("54", str(amount))
        + field("58", COUNTRY)
        + field("62", additional)
    )
