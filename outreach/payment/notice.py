"""What a renewal letter says about paying: the template's ``payment``, and the checks behind it.

The memo is the one section 6 of the reference letter asks for, with the person's name, ID and
phone. It does not fit a VietQR code (25 characters, no diacritics), so the code carries a short
ASCII memo with the ID only: no phone number, no name. The support group (poverty, ethnicity) is
sensitive data: it only changes the amount; nothing here prints it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..config import DEFAULT_SCHEDULE, BankAccount, Voluntary
from ..letters.pictures import Picture
from ..recipients.model import Recipient
from .contribution import Contribution, ContributionError, Month, format_dong, next_period
from .qr_image import qr_png
from .vietqr import transfer_payload

LOCAL_TZ = ZoneInfo(DEFAULT_SCHEDULE["timezone"])  # the zone a campaign's expires is read in; deadlines are local days
QR_WIDTH_MM = 28  # 0.6 mm a module at the payload's size: scans well from paper, and the letter stays one page
MODE_TEXT = {1: "hằng tháng", 3: "3 tháng một lần", 6: "6 tháng một lần", 12: "12 tháng một lần"}


class PaymentError(ValueError):
    """No correct amount or no timely letter for this participant; the message says why and what to do."""

    def __init__(self, message: str, column: str = "") -> None:
        super().__init__(message)
        self.column = column  # the list's field the problem is in, "" when it is not the list's


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


def contribution_of(voluntary: Voluntary, recipient: Recipient) -> Contribution:
    participation = recipient.participation
    if participation is None:
        raise PaymentError(f"{recipient.key}: không phải người tham gia BHXH tự nguyện")
    unknown = [g for g in participation.support_groups if g not in voluntary.support_groups]
    if unknown:
        raise PaymentError(f"Nhóm hỗ trợ '{', '.join(unknown)}' không có trong config.toml. Cách sửa: ghi một trong "
                           f"{', '.join(voluntary.support_groups)}, hoặc để trống nếu không thuộc nhóm nào.",
                           "support_group")
    try:
        return next_period(voluntary.rules, paid_until=participation.paid_until, mode_months=participation.mode_months,
                           income=participation.income, groups=participation.support_groups,
                           months_supported_before=participation.months_supported_before)
    except ContributionError as error:
        raise PaymentError(f"Không tính được số tiền kỳ tới: {error}. Cách sửa: kiểm tra mức thu nhập và phương thức "
                           "đóng trong danh sách, hoặc tham số [[voluntary.rules]] trong config.toml.", error.column) from None


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


@dataclass(frozen=True)
class PaymentProblem:
    severity: str  # error | warning
    code: str
    column: str  # the field whose column the problem is about
    message: str  # Vietnamese, with its "Cách sửa"


def payment_problems(voluntary: Voluntary, recipient: Recipient, today: dt.date) -> list[PaymentProblem]:
    """What the law in force says about this participant's row. Only the amount's inputs reject the row:
    the dates depend on the day the list is checked, so they warn (the build keeps every letter before
    its payment deadline by the campaign's expiry, whatever the day)."""
    try:
        contribution = contribution_of(voluntary, recipient)
    except PaymentError as error:
        return [PaymentProblem("error", "payment_invalid", error.column, str(error))]
    problems = []
    if contribution.deadline < today:
        problems.append(PaymentProblem(
            "warning", "payment_deadline_past", "paid_until",
            f"Đã quá hạn nộp tiền kỳ {contribution.period_start}–{contribution.period_end} "
            f"({contribution.deadline:%d/%m/%Y}): thư nhắc không còn gửi được. Cách sửa: cập nhật tháng đóng đến nếu "
            "người này đã nộp tiền, hoặc bỏ dòng này khỏi danh sách nhắc."))
    elif recipient.participation.paid_until < Month.of(today):
        problems.append(PaymentProblem(
            "warning", "paid_until_past", "paid_until",
            f"Thời gian đã đóng hết từ tháng {recipient.participation.paid_until}; vẫn còn hạn nộp tiền kỳ tới đến "
            f"{contribution.deadline:%d/%m/%Y}. Cách sửa: không cần làm gì nếu đúng; cập nhật tháng đóng đến nếu "
            "người này đã nộp tiền."))
    return problems
