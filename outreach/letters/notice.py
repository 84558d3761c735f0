"""What a renewal letter says about paying: the template's ``payment`` (the checks of a participant's
row are in recipients.participants).

The memo is the one section 6 of the reference letter asks for, with the person's name, ID and
phone. It does not fit a VietQR code (25 characters, no diacritics), so the code carries a short
ASCII memo with the ID only: no phone number, no name. The support group (poverty, ethnicity) is
sensitive data: it only changes the amount; nothing here prints it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..config import BankAccount, Voluntary
from ..localtime import OFFICE_TZ as LOCAL_TZ  # the zone a campaign's expires is read in; deadlines are local days
from ..payment import format_dong, qr_png, transfer_payload
from ..recipients import PaymentError, Recipient, contribution_of
from .pictures import Picture
QR_WIDTH_MM = 28  # 0.6 mm a module at the payload's size: scans well from paper, and the letter stays one page
MODE_TEXT = {1: "hằng tháng", 3: "3 tháng một lần", 6: "6 tháng một lần", 12: "12 tháng một lần"}


@dataclass(frozen=True)
class PaymentNotice:
    paid_until: str  # "12/2026": the last month already paid
    period_start: str  # "01/2027"
    period_end: str
    months: int
    mode: str  # "12 tháng một lần"
    income: str  # "1.500.000" (đồng a month)
    gross: str  # before the State's support
    support: str  # the State's support for the period; "" when there is none
    amount: str  # what the participant pays, "3.168.000"
    deadline: str  # "31/07/2027": the last day the period may be paid
    memo: str  # the transfer memo of the reference letter, in full
    qr_memo: str  # the short ASCII memo inside the QR code
    qr_payload: str
    qr: Picture
    account: BankAccount


def transfer_memo(recipient: Recipient) -> str:
    """``Đóng BHXH tự nguyện của <họ tên>, <mã số BHXH>, <số điện thoại>``; without a phone, without it."""
    parts = [recipient.name, recipient.code] + ([national_phone(recipient.phone)] if recipient.phone else [])
    return "Đóng BHXH tự nguyện của " + ", ".join(parts)


def national_phone(e164: str) -> str:
    """``+84905123456`` → ``0905123456``, as people write their number in a memo."""
    return "0" + e164[3:] if e164.startswith("+84") else e164


def payment_notice(voluntary: Voluntary, recipient: Recipient, account: BankAccount,
                   send_by: dt.datetime | None) -> PaymentNotice:
    """The letter's payment section; refused when the letter could be sent after the payment deadline
    (the campaign sends until ``send_by``, its ``expires``)."""
    contribution = contribution_of(voluntary, recipient)
    if contribution.amount <= 0:
        raise PaymentError(f"Số tiền phải nộp kỳ {contribution.period_start}–{contribution.period_end} là 0 đồng: không "
                           "cần thư nhắc nộp tiền. Cách sửa: kiểm tra tỷ lệ hỗ trợ trong config.toml.")
    latest = dt.datetime.combine(contribution.deadline + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    if send_by is None or send_by > latest:
        until = f"đến {send_by.astimezone(LOCAL_TZ):%d/%m/%Y %H:%M}" if send_by else "không có hạn (thiếu expires)"
        raise PaymentError(
            f"Hạn nộp tiền kỳ {contribution.period_start}–{contribution.period_end} là {contribution.deadline:%d/%m/%Y}, "
            f"còn chiến dịch được gửi {until}: thư nhắc có thể đến sau hạn nộp nên không được tạo. Cách sửa: đặt "
            f"expires của chiến dịch không muộn hơn {contribution.deadline:%d/%m/%Y}, hoặc đưa người này vào một "
            "chiến dịch khác.")
    qr_memo = f"{voluntary.qr_memo_prefix} {recipient.code}"
    payload = transfer_payload(account.bank_bin, account.number, contribution.amount, qr_memo)
    return PaymentNotice(
        paid_until=str(recipient.participation.paid_until),
        period_start=str(contribution.period_start),
        period_end=str(contribution.period_end),
        months=contribution.months,
        mode=MODE_TEXT.get(contribution.months, f"{contribution.months} tháng một lần"),
        income=format_dong(recipient.participation.income),
        gross=format_dong(contribution.gross),
        support=format_dong(contribution.support) if contribution.support else "",
        amount=format_dong(contribution.amount),
        deadline=f"{contribution.deadline:%d/%m/%Y}",
        memo=transfer_memo(recipient),
        qr_memo=qr_memo,
        qr_payload=payload,
        qr=Picture(qr_png(payload), QR_WIDTH_MM, f"Mã VietQR nộp BHXH tự nguyện: {contribution.amount} đồng"),
        account=account,
    )


