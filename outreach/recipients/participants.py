"""The cells only a list of voluntary-insurance participants has: the person's ID, how and how much
they pay, until when they have paid, and who collects from them.

Only what the row itself says is checked here. What depends on the law in force (the lowest and
highest income, the payment modes, the support groups, the payment deadline) is checked against
config.toml by :func:`payment_problems` below.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Voluntary
from ..payment import Contribution, ContributionError, Month, next_period
from ..text import fold_diacritics
from .model import Participation, Recipient

if TYPE_CHECKING:
    from .validate import _ListReader, _RowCheck

_ID_LENGTHS = {"insurance_code": 10, "personal_id": 12}
_MONTH = re.compile(r"^(?:thang\s*|t)?(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})\s*[/.\-]\s*(\d{1,2})$")
_MODE_WORDS = {"hang thang": 1, "thang": 1, "hang quy": 3, "quy": 3, "nua nam": 6, "hang nam": 12, "nam": 12,
               "1 nam": 12}
_MODE_MONTHS = re.compile(r"^(\d{1,3})(?:\s*thang)?(?:\s*(?:mot lan|1 lan|lan))?$")
_CURRENCY = re.compile(r"\s*(?:d|dong|vnd|vnd/thang|d/thang|dong/thang)$")


def payment_mode_months(text: str) -> int | None:
    """``12 tháng``, ``12``, ``Hằng quý``, ``06 tháng/lần`` → months paid at once; None if unreadable."""
    key = " ".join(re.sub(r"[/,()]", " ", fold_diacritics(text)).split())
    if key in _MODE_WORDS:
        return _MODE_WORDS[key]
    match = _MODE_MONTHS.match(key)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def whole_dong(raw: Any) -> int | None:
    """A whole number of đồng from a number cell or text like ``1.500.000 đ``; None if not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    text = _CURRENCY.sub("", fold_diacritics(str(raw)))
    # Dots, commas and spaces group thousands in Vietnamese writing; a decimal part is not a đồng amount.
    if not re.fullmatch(r"\d{1,3}(?:[.,\s]\d{3})*|\d+", text):
        return None
    return int(re.sub(r"\D", "", text))


def paid_month(raw: Any) -> Month | None:
    """``12/2026``, ``T12/2026``, ``2026-12``, or a date cell Excel made of ``12/2026`` → that month."""
    if isinstance(raw, dt.date):
        return Month.of(raw)
    text = fold_diacritics(str(raw))
    match = _MONTH.match(text)
    year, month = (int(match.group(2)), int(match.group(1))) if match else (0, 0)
    iso = _ISO_MONTH.match(text)
    if iso:
        year, month = int(iso.group(1)), int(iso.group(2))
    try:
        return Month(year, month)
    except ValueError:
        return None


def group_key(text: str) -> str:
    """``Hộ nghèo`` → ``ho_ngheo``: a support group as config.toml names it."""
    return "_".join(re.sub(r"[^a-z0-9]+", " ", fold_diacritics(text)).split())


def read_participation(reader: "_ListReader", check: "_RowCheck", index: int) -> tuple[str, Participation]:
    """The person's ID (the 12-digit personal ID when both are given) and what their letter needs."""
    ids = {field_name: _person_id(reader, check, index, field_name) for field_name in _ID_LENGTHS}
    code = ids["personal_id"] or ids["insurance_code"]
    if all(reader.raw(index, field_name) is None for field_name in _ID_LENGTHS):
        check.add("error", "person_id_missing", "personal_id" if "personal_id" in reader.columns.fields else "insurance_code",
                  "Thiếu số định danh cá nhân (hoặc mã số BHXH) của người tham gia.", "",
                  "điền số định danh cá nhân 12 số hoặc mã số BHXH 10 số, định dạng ô là Text (Văn bản).")
    mode_text = reader.text(check, index, "payment_mode")
    mode = payment_mode_months(mode_text) if mode_text else None
    if mode is None:
        check.add("error", "payment_mode_invalid", "payment_mode",
                  f"Phương thức đóng '{mode_text}' không đọc được." if mode_text else "Thiếu phương thức đóng.", mode_text,
                  "ghi số tháng mỗi lần đóng: 1, 3, 6 hoặc 12 (vd. «12 tháng»).")
    income = _amount(reader, check, index)
    paid_until = _paid_until(reader, check, index)
    return code, Participation(
        mode_months=mode or 0,
        income=income or 0,
        paid_until=paid_until or Month(1900, 1),
        support_groups=tuple(group_key(part) for part in re.split(r"[;,]", reader.text(check, index, "support_group"))
                             if group_key(part)),
        months_supported_before=_months_supported(reader, check, index),
        collector=reader.text(check, index, "collector"),
        insurance_code=ids["insurance_code"],
        personal_id=ids["personal_id"],
    )


def _person_id(reader: "_ListReader", check: "_RowCheck", index: int, field_name: str) -> str:
    raw = reader.raw(index, field_name)
    code = re.sub(r"[\s.\-]", "", reader.text(check, index, field_name))
    if not code:
        return ""
    label = "Số định danh cá nhân" if field_name == "personal_id" else "Mã số BHXH"
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and len(code) not in _ID_LENGTHS.values():
        check.add("error", "person_id_lost_zeros", field_name,
                  f"{label} được lưu dạng số ({code}) nên đã mất số 0 ở đầu.", raw,
                  "định dạng cột là Text (Văn bản) rồi nhập lại đủ 12 số (số định danh) hoặc 10 số (mã số BHXH).")
        return ""
    if not re.fullmatch(r"\d{10}|\d{12}", code):
        check.add("error", "person_id_invalid", field_name,
                  f"{label} '{code}' không đúng dạng (số định danh cá nhân có 12 chữ số, mã số BHXH có 10 chữ số).",
                  code, "đối chiếu với thẻ căn cước hoặc thẻ BHYT, sổ BHXH của người tham gia.")
        return ""
    return code


def _amount(reader: "_ListReader", check: "_RowCheck", index: int) -> int | None:
    raw = reader.raw(index, "income")
    if raw is None:
        check.add("error", "income_missing", "income", "Thiếu mức thu nhập làm căn cứ đóng.", "",
                  "điền mức thu nhập tháng người tham gia đã chọn, vd. 1500000.")
        return None
    amount = whole_dong(raw)
    if amount is None:
        check.add("error", "income_invalid", "income", f"Mức thu nhập '{reader.text(check, index, 'income')}' không phải "
                  "một số tiền (đồng, không có phần lẻ).", raw, "ghi số tiền bằng chữ số, vd. 1500000 hoặc 1.500.000.")
    return amount


def _paid_until(reader: "_ListReader", check: "_RowCheck", index: int) -> Month | None:
    raw = reader.raw(index, "paid_until")
    month = paid_month(raw) if raw is not None else None
    if month is None:
        shown = reader.text(check, index, "paid_until") if raw is not None else ""
        check.add("error", "paid_until_invalid", "paid_until",
                  f"Tháng đóng đến '{shown}' không đọc được." if shown else "Thiếu tháng đóng đến.", shown,
                  "ghi tháng cuối cùng đã đóng dạng MM/YYYY, vd. 12/2026, định dạng ô là Text (Văn bản).")
    return month


def _months_supported(reader: "_ListReader", check: "_RowCheck", index: int) -> int:
    raw = reader.raw(index, "months_supported")
    if raw is None:
        return 0
    months = whole_dong(raw)
    if months is None:
        check.add("error", "months_supported_invalid", "months_supported",
                  f"Số tháng đã được hỗ trợ '{reader.text(check, index, 'months_supported')}' không phải số tháng.", raw,
                  "ghi số tháng (số nguyên), hoặc để trống nếu chưa được hỗ trợ tháng nào.")
        return 0
    return months

class PaymentError(ValueError):
    """No correct amount or no timely letter for this participant; the message says why and what to do."""

    def __init__(self, message: str, column: str = "") -> None:
        super().__init__(message)
        self.column = column  # the list's field the problem is in, "" when it is not the list's


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
