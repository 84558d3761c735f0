"""Turn a sheet's rows into checked :class:`Recipient` records, reporting every change and problem.

A row with an error is rejected (it will not be merged); a warning keeps the row. Nothing is
changed silently: each legacy-font conversion, NFC normalisation or correction is a
``converted`` entry in the report.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Sequence

import phonenumbers

from ..text import AdminUnits, Commune, InvalidAddress, MailAddress, load_admin_units, mail_address
from ..errors import UserError
from ..heap import give_back_freed
from ..text import CONTROL_CHARACTERS, detect_legacy, excel_display, show_controls, tcvn3_to_unicode, to_nfc, vni_to_unicode
from .columns import FIELD_LABELS, REQUIRED, ColumnMap, column_letter, find_header, header_key
from .model import Problem, Recipient, RecipientList
from .participants import read_participation
from .sheet import LEGACY_FONT, Sheet, read_sheet

KINDS = tuple(REQUIRED)
KIND_LABELS = {
    "employers": "đơn vị sử dụng lao động",
    "collection_agents": "tổ chức dịch vụ thu",
    "communes": "UBND xã, phường, thị trấn",
    "participants": "người tham gia BHXH tự nguyện",
}
UNIT_CODE = re.compile(r"^[A-Z0-9]{7}$")
AGENT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,19}$")
TAX_CODE = re.compile(r"^(\d{10})(?:-(\d{3}))?$")
TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
TEXT_FIELDS = ("name", "address", "district", "commune", "managing_office", "contact", "collector", "payment_mode",
               "support_group")
ADDRESS_COMMUNE = re.compile(r"\b((?:Phường|Xã|Thị trấn)\s[^,;()\n]+)")
EXCEL_CELL_LIMIT = 32_767  # characters a cell of Excel holds
LINE_BREAK = re.compile(r"\r\n?|[\n\u2028\u2029]")
PROVINCE_OFFICE_KEYS = {"", "bhxh tinh", "bhxh tinh khanh hoa", "tinh", "van phong bhxh tinh", "bao hiem xa hoi tinh"}


_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_VN_MOBILE = re.compile(r"^(?:\+?84|0)([35789]\d{8})$")
_VN_LANDLINE = re.compile(r"^(?:\+?84|0)(2\d{9})$")


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> MailAddress | None:
    try:
        return mail_address(f"x@{domain}")
    except InvalidAddress:
        return None


def email_address(text: str) -> str:
    """The normalised address by the rule messages are built with; raises InvalidAddress. Domains are
    checked once each, because a list of thousands of units shares a few dozen domains."""
    local, at, domain = text.rpartition("@")
    checked = _checked_domain(domain) if at and len(local) <= 64 and _DOT_ATOM.match(local) else None
    # The checker's limit on the whole address, counted as it goes on the wire ("x@…" minus "x").
    if checked and len(local) + len(checked.ascii) - 1 <= 254:
        return f"{local.lower()}@{checked.normalized.rpartition('@')[2].lower()}"
    return mail_address(text).normalized.lower()


def phone_e164(text: str) -> str | None:
    """A Vietnamese mobile (03/05/07/08/09 + 8 digits) or landline (02x…) number in E.164; others via phonenumbers."""
    digits = re.sub(r"[\s.\-()]", "", text)
    match = _VN_MOBILE.match(digits) or _VN_LANDLINE.match(digits)
    if match:
        return "+84" + match.group(1)
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def tax_code_valid(code: str) -> bool:
    """Check digit of a Vietnamese tax code (10 digits, or 13 as ``XXXXXXXXXX-NNN``)."""
    match = TAX_CODE.match(code)
    if not match:
        return False
    digits = [int(d) for d in match.group(1)]
    check = 10 - sum(w * d for w, d in zip(TAX_WEIGHTS, digits)) % 11
    return check < 10 and check == digits[9]


@dataclass
class _RowCheck:
    """Collects a row's problems while its fields are read; ``rejected`` once any error is found."""

    file: str
    row: int
    columns: ColumnMap
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def add(self, severity: str, code: str, field_name: str, message: str, value: Any = "", fix: str = "") -> None:
        self.add_at(self.columns.header_of(field_name) if field_name else "", severity, code, message, value, fix)

    def add_at(self, column: str, severity: str, code: str, message: str, value: Any = "", fix: str = "") -> None:
        self.problems.append(make_problem(self.file, self.row, column, severity, code, message, _show(value), fix))


def make_problem(file: str, row: int, column: str, severity: str, code: str, message: str, value: str = "",
                 fix: str = "") -> Problem:
    """A problem whose message reads on its own: what is wrong, then how to fix it. A control character
    from the file is shown as a symbol, so that printing a problem never drives the terminal."""
    text = f"{message} Cách sửa: {fix}" if fix else message
    return Problem(show_controls(file), row, show_controls(column), severity, code,  # type: ignore[arg-type]
                   show_controls(text), show_controls(value), show_controls(fix))


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _legacy_conversions(sheet: Sheet, columns: ColumnMap) -> dict[tuple[int, int], tuple[str, str]]:
    """(row, col) → (converted text, encoding) for cells written in TCVN3 or VNI."""
    targets = [columns.fields[f] for f in TEXT_FIELDS if f in columns.fields] + list(columns.extra)
    first = columns.header_row + 1
    converted: dict[tuple[int, int], tuple[str, str]] = {}
    for col in targets:
        cells = [(r, row[col]) for r, row in enumerate(sheet.rows[first:], start=first)
                 if col < len(row) and isinstance(row[col], str)]
        column_encoding = detect_legacy([text for _, text in cells])
        for r, text in cells:
            font = sheet.fonts.get((r, col))
            encoding = detect_legacy([text], font) if font and LEGACY_FONT.match(font) else column_encoding
            if encoding is None:
                continue
            result = tcvn3_to_unicode(text, uppercase=_is_upper_font(font)) if encoding == "tcvn3" else vni_to_unicode(text)
            if result != text:
                converted[(r, col)] = (unicodedata.normalize("NFC", result), encoding)
    return converted


def _is_upper_font(font: str | None) -> bool:
    return bool(font) and font.strip().lower().rstrip(".").endswith("h")


class _ListReader:
    def __init__(self, sheet: Sheet, columns: ColumnMap, kind: str, units: AdminUnits) -> None:
        self.sheet, self.columns, self.kind, self.units = sheet, columns, kind, units
        self.file = str(sheet.path)
        self.legacy = _legacy_conversions(sheet, columns)
        self.problems: list[Problem] = []

    def text(self, check: _RowCheck, index: int, field_name: str) -> str:
        col = self.columns.fields.get(field_name)
        return self._cell_text(check, index, col, field_name) if col is not None else ""

    def _cell_text(self, check: _RowCheck, index: int, col: int, field_name: str) -> str:
        row = self.sheet.rows[index]
        raw = row[col] if col < len(row) else None
        if raw is None:
            return ""
        column = self.columns.headers.get(col, "")
        if (index, col) in self.legacy:
            text, encoding = self.legacy[(index, col)]
            label = "TCVN3 (.VnTime)" if encoding == "tcvn3" else "VNI (VNI-Times)"
            check.add_at(column, "converted", f"{encoding}_converted",
                         f"Đã chuyển từ bảng mã {label} sang Unicode: «{text}».", raw,
                         "kiểm tra chữ đã chuyển; lần sau nhập bằng phông Unicode (Times New Roman).")
        else:
            # A template's own column reads as Excel shows it (``#,##0`` → 24.800.000, a date 05/01/2023);
            # the fields have their own rules (a code typed as a number must stay visible as such).
            text = _show(raw) if field_name else excel_display(raw, self.sheet.formats.get((index, col), "General"))
            # A Windows-1258 file stores tones as combining marks everywhere: reported once for the file.
            if self.sheet.encoding != "cp1258" and unicodedata.normalize("NFC", text) != text:
                check.add_at(column, "converted", "nfd_converted",
                             f"Đã chuyển Unicode tổ hợp sang Unicode dựng sẵn: «{to_nfc(text)}».", text,
                             "không cần làm gì; lần sau gõ bằng Unicode dựng sẵn.")
        if len(text) > EXCEL_CELL_LIMIT:
            check.add_at(column, "error", "cell_too_long",
                         f"Ô dài {_count(len(text))} ký tự, quá giới hạn {_count(EXCEL_CELL_LIMIT)} ký tự của một ô Excel "
                         "(thường do dán nhầm cả một văn bản vào ô).", text[:60] + "…",
                         "mở tệp, sửa ô này chỉ còn nội dung của đơn vị, rồi lưu lại.")
            text = text[:EXCEL_CELL_LIMIT]
        controls = sorted({f"U+{ord(char):04X}" for char in CONTROL_CHARACTERS.findall(text)})
        if controls:
            check.add_at(column, "error", "control_character",
                         f"Ô có ký tự điều khiển không in được ({', '.join(controls)}), thường do chép từ phần mềm khác.",
                         text, "xóa ký tự lạ (hiện thành ký hiệu như ␇, ␛) và gõ lại nội dung ô, hoặc làm sạch cả cột "
                         "bằng hàm CLEAN của Excel rồi dán lại dạng giá trị.")
            text = CONTROL_CHARACTERS.sub("", text)
        return self._lines(check, column, field_name, text)

    def _lines(self, check: _RowCheck, column: str, field_name: str, text: str) -> str:
        """An address keeps its line breaks, as the template documentation promises; any other text is
        joined into one line, and says so (line breaks between e-mail addresses only separate them)."""
        lines = [line for line in map(to_nfc, LINE_BREAK.split(text)) if line]
        if field_name == "address":
            return "\n".join(lines)
        joined = " ".join(lines)
        if len(lines) > 1 and field_name != "emails":
            check.add_at(column, "converted", "lines_joined", f"Ô có {len(lines)} dòng, đã nối thành một dòng: «{joined}».",
                         text, "kiểm tra lại; chỉ cột địa chỉ giữ được xuống dòng trong thư.")
        return joined

    def extra(self, check: _RowCheck, index: int) -> dict[str, str]:
        return {name: value for col, name in self.columns.extra.items()
                if (value := self._cell_text(check, index, col, ""))}

    def read_rows(self) -> tuple[list[Recipient], list[int], int]:
        recipients: list[Recipient] = []
        rejected: list[int] = []
        data_rows = 0
        for index in range(self.columns.header_row + 1, len(self.sheet.rows)):
            row = self.sheet.rows[index]
            filled = [v for v in row if v is not None]
            if not filled:
                continue
            check = _RowCheck(self.file, index + 1, self.columns)
            if self._is_note_row(row, filled):
                check.add("warning", "not_data", "", "Dòng không phải dữ liệu (ghi chú, tổng cộng, chữ ký…), đã bỏ qua.",
                          " | ".join(_show(v) for v in filled), "nếu đây là một người nhận, điền đủ mã và tên.")
                self.problems.extend(check.problems)
                continue
            data_rows += 1
            recipient = self.read_row(check, index)
            self.problems.extend(check.problems)
            if check.rejected or recipient is None:
                rejected.append(index + 1)
            else:
                recipients.append(recipient)
        return recipients, rejected, data_rows

    def _is_note_row(self, row: list[Any], filled: list[Any]) -> bool:
        def present(field_name: str) -> bool:
            col = self.columns.fields.get(field_name)
            return col is not None and col < len(row) and row[col] is not None
        return not present("code") and not present("name") and len(filled) <= 2

    def read_row(self, check: _RowCheck, index: int) -> Recipient | None:
        name = self.text(check, index, "name")
        if not name:
            check.add("error", "name_missing", "name", "Thiếu tên người nhận.", "", "điền tên đầy đủ vào cột tên.")
        district = self.district(check, index)
        participation = None
        if self.kind == "participants":
            code, participation = read_participation(self, check, index)
            commune_code = ""
        else:
            code, commune_code, name = self.identity(check, index, name, district)
        address = self.text(check, index, "address")
        if "address" in REQUIRED[self.kind] and not address:
            check.add("error", "address_missing", "address", "Thiếu địa chỉ.", "", "điền địa chỉ trụ sở.")
        commune = self.commune_in_row(check, index, district, address)
        emails = self.emails(check, index)
        if commune is not None and self.kind == "collection_agents":
            commune_code = commune.code  # where it is: a district office may send to the organisations of its area
        if participation is not None:
            if commune is not None:
                commune_code, participation = commune.code, replace(participation, commune=commune.name)
            if not emails and not address:
                check.add("error", "address_missing", "address", "Không có e-mail và không có địa chỉ: không gửi được thư.",
                          "", "điền địa chỉ nơi ở để gửi thư giấy, hoặc e-mail của người tham gia.")
        recipient = Recipient(
            kind=self.kind,
            code=code,
            name=name,
            emails=emails,
            address=address,
            district=district,
            commune_code=commune_code,
            tax_code=self.tax_code(check, index),
            phone=self.phone(check, index),
            managing_office=self.managing_office(check, index),
            contact=self.text(check, index, "contact"),
            source_file=self.file,
            source_row=index + 1,
            extra=MappingProxyType(self.extra(check, index)),
            participation=participation,
        )
        return None if check.rejected else recipient

    def identity(self, check: _RowCheck, index: int, name: str, district: str) -> tuple[str, str, str]:
        """The recipient's code (and, for a commune, its official code and name)."""
        raw_code = self.raw(index, "code")
        code = self.text(check, index, "code").replace(" ", "")
        if isinstance(raw_code, (int, float)) and not isinstance(raw_code, bool) and self.lost_zeros(check, raw_code, code):
            return code, "", name
        if self.kind == "communes":
            return self.commune_identity(check, code, name, district)
        if not code:
            check.add("error", "code_missing", "code", "Thiếu mã đơn vị.", "", "điền mã đơn vị do cơ quan BHXH cấp.")
            return code, "", name
        upper = code.upper()
        if upper != code:
            check.add("converted", "code_uppercased", "code", f"Mã đã được viết hoa: {upper}.", code, "không cần làm gì.")
        pattern, expected = (UNIT_CODE, "7 chữ cái in hoa hoặc chữ số, ví dụ TZH490L") if self.kind == "employers" else \
            (AGENT_CODE, "chữ cái in hoa và chữ số, ví dụ DL56001")
        if not pattern.match(upper):
            check.add("error", "code_invalid", "code", f"Mã '{code}' không đúng dạng ({expected}).", code,
                      "sửa mã theo đúng mã do cơ quan BHXH cấp.")
        return upper, "", name

    def lost_zeros(self, check: _RowCheck, raw: int | float, code: str) -> bool:
        """A code typed as a number and shorter than codes are: leading zeros are gone; never guess them."""
        expected_length = {"employers": 7, "communes": 5}.get(self.kind)
        if expected_length and len(code) < expected_length:
            check.add("error", "code_lost_zeros", "code",
                      f"Mã được lưu dạng số ({code}) nên đã mất số 0 ở đầu (mã phải có {expected_length} ký tự).", raw,
                      "định dạng cột mã là Text (Văn bản) rồi nhập lại mã đầy đủ.")
            return True
        return False

    def commune_identity(self, check: _RowCheck, code: str, name: str, district: str) -> tuple[str, str, str]:
        by_code = self.units.commune_by_code(code) if code else None
        matches = self.units.find_commune(name, district or None) if name else []
        if by_code and name and by_code not in matches:
            check.add("error", "commune_code_mismatch", "code",
                      f"Mã {code} là của {by_code.name}, không khớp tên '{name}'.", code,
                      "kiểm tra lại mã xã hoặc tên xã theo danh mục đơn vị hành chính.")
            return code, code, name
        commune = by_code or (matches[0] if len(matches) == 1 else None)
        if commune is None:
            if name and len(matches) > 1:
                check.add("error", "commune_ambiguous", "name",
                          f"Có {len(matches)} đơn vị hành chính tên '{name}'.", name,
                          "ghi thêm mã xã hoặc cột huyện để phân biệt.")
            elif name:
                check.add("error", "commune_unknown", "name",
                          f"Không có xã/phường/thị trấn '{name}' trong danh mục đơn vị hành chính tỉnh Khánh Hòa.", name,
                          "sửa tên theo danh mục (ví dụ 'Phường Vĩnh Hòa').")
            return code, code, name
        if not code:
            check.add("converted", "commune_code_filled", "code", f"Đã điền mã xã {commune.code} theo tên.", "",
                      "không cần làm gì.")
        if name and name != commune.name:
            check.add("converted", "commune_name_normalised", "name", f"Đã ghi tên theo danh mục: «{commune.name}».", name,
                      "không cần làm gì.")
        return commune.code, commune.code, commune.name

    def raw(self, index: int, field_name: str) -> Any:
        col = self.columns.fields.get(field_name)
        row = self.sheet.rows[index]
        return row[col] if col is not None and col < len(row) else None

    def district(self, check: _RowCheck, index: int) -> str:
        text = self.text(check, index, "district")
        if not text:
            return ""
        official = self.units.find_district(text)
        if official is None:
            check.add("warning", "district_unknown", "district",
                      f"Không có huyện/thị xã/thành phố '{text}' trong danh mục năm 2022; vẫn giữ nguyên.", text,
                      "sửa theo danh mục nếu gõ sai.")
            return text
        if official != text:
            check.add("converted", "district_normalised", "district", f"Đã ghi theo danh mục: «{official}».", text,
                      "không cần làm gì.")
        return official

    def commune_in_row(self, check: _RowCheck, index: int, district: str, address: str) -> Commune | None:
        """A commune column must name a known commune (returned when the name means one only); one named
        inside an address is only checked."""
        text = self.text(check, index, "commune")
        found = self.units.find_commune(text, district or None) if text and self.kind != "communes" else ()
        if text and self.kind != "communes" and not found:
            check.add("error", "commune_unknown", "commune",
                      f"Không có xã/phường/thị trấn '{text}' trong danh mục đơn vị hành chính tỉnh Khánh Hòa.", text,
                      "sửa tên theo danh mục (ví dụ 'Phường Vĩnh Hòa').")
        for named in ADDRESS_COMMUNE.findall(address) if self.kind != "communes" else ():
            if not self.units.find_commune(named.strip(), district or None):
                check.add("warning", "address_commune_unknown", "address",
                          f"Địa chỉ ghi '{named.strip()}', không có trong danh mục đơn vị hành chính tỉnh Khánh Hòa 2022.",
                          address, "kiểm tra lại tên xã/phường/thị trấn trong địa chỉ.")
        return found[0] if len(found) == 1 else None

    def emails(self, check: _RowCheck, index: int) -> tuple[str, ...]:
        found = [(col, text) for col in self.columns.columns_of("emails")
                 if (text := self._cell_text(check, index, col, "emails"))]
        raw = "; ".join(text for _, text in found)
        parts = [p.strip().rstrip(".").strip() for p in re.split(r"[;,\s]+", raw) if p.strip().strip(".")]
        if not parts:
            check.add("warning", "email_missing", "emails", "Không có địa chỉ e-mail: thư sẽ được in để gửi bản giấy.", "",
                      "bổ sung e-mail nếu có.")
            return ()
        addresses: list[str] = []
        for part in parts:
            try:
                normalised = email_address(part)
            except InvalidAddress as reason:
                check.add("error", "email_invalid", "emails", f"'{part}' {reason}.", part,
                          "sửa lại địa chỉ, ví dụ ketoan@congty.vn; nhiều địa chỉ cách nhau bằng dấu ;")
                continue
            if normalised not in addresses:
                addresses.append(normalised)
        written = "; ".join(addresses)
        if len(found) > 1:
            where = ", ".join(f"cột {column_letter(col)}" for col, _ in found)
            check.add("converted", "email_columns_merged", "emails", f"Đã gộp địa chỉ e-mail của {where}: «{written}».",
                      raw, "không cần làm gì; thư gửi đến mọi địa chỉ trên.")
        elif addresses and addresses != parts:
            check.add("converted", "email_normalised", "emails", f"Đã chuẩn hóa e-mail: «{written}».", raw,
                      "không cần làm gì.")
        return tuple(addresses)

    def tax_code(self, check: _RowCheck, index: int) -> str:
        raw = self.raw(index, "tax_code")
        code = self.text(check, index, "tax_code").replace(" ", "")
        if not code:
            return ""
        if isinstance(raw, (int, float)) and len(code) < 10:
            check.add("error", "tax_code_lost_zeros", "tax_code",
                      f"Mã số thuế được lưu dạng số ({code}) nên đã mất số 0 ở đầu.", raw,
                      "định dạng cột là Text (Văn bản) rồi nhập lại mã số thuế đủ 10 số.")
        elif not tax_code_valid(code):
            check.add("error", "tax_code_invalid", "tax_code",
                      f"Mã số thuế '{code}' sai (phải có 10 số, hoặc 13 số dạng XXXXXXXXXX-NNN, và đúng số kiểm tra).",
                      code, "đối chiếu lại mã số thuế trên giấy chứng nhận đăng ký doanh nghiệp.")
        return code

    def phone(self, check: _RowCheck, index: int) -> str:
        text = self.text(check, index, "phone")
        if not text:
            return ""
        number = phone_e164(text)
        if number is None:
            check.add("warning", "phone_invalid", "phone", f"Số điện thoại '{text}' không phải số Việt Nam hợp lệ; đã bỏ qua.",
                      text, "sửa thành dạng 0905123456 hoặc 0258 3812345.")
        return number or ""

    def managing_office(self, check: _RowCheck, index: int) -> str:
        text = self.text(check, index, "managing_office")
        return "" if header_key(text) in PROVINCE_OFFICE_KEYS else text


LISTED_ROWS = 10  # rows named in a message about a group; the rest are counted, so a message stays short


def _row_listing(rows: Sequence[str], total: int) -> str:
    """``dòng 4, dòng 5 và 1.998 dòng khác`` for the first rows of a group of ``total``."""
    shown = ", ".join(rows[:LISTED_ROWS])
    rest = total - min(len(rows), LISTED_ROWS)
    return f"{shown} và {_count(rest)} dòng khác" if rest > 0 else shown


def _count(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _code_column(columns: ColumnMap, kind: str) -> str:
    """The header of the column a recipient's code comes from (a person's ID, for participants)."""
    if kind == "participants":
        return columns.header_of("personal_id" if "personal_id" in columns.fields else "insurance_code")
    return columns.header_of("code")


def _cross_row_checks(recipients: list[Recipient], problems: list[Problem], columns: ColumnMap, file: str,
                      kind: str) -> tuple[list[Recipient], list[int]]:
    noun = "người" if kind == "participants" else "đơn vị"
    by_code: dict[str, list[Recipient]] = defaultdict(list)
    for recipient in recipients:
        by_code[recipient.code].append(recipient)
    duplicated = {code for code, group in by_code.items() if len(group) > 1}
    rejected: list[int] = []
    for code in duplicated:
        group = by_code[code]
        first = [r.source_row for r in group[: LISTED_ROWS + 1]]
        for recipient in group:  # every row is rejected, so each gets its error; the listing stays bounded
            others = [f"dòng {row}" for row in first if row != recipient.source_row]
            problems.append(make_problem(file, recipient.source_row, _code_column(columns, kind), "error", "code_duplicate",
                                         f"Mã {code} bị trùng với {_row_listing(others, len(group) - 1)}.", code,
                                         f"mỗi {noun} chỉ có một dòng; xóa dòng thừa hoặc sửa mã."))
            rejected.append(recipient.source_row)
    kept = [r for r in recipients if r.code not in duplicated]
    _shared_value_warnings(kept, problems, file, columns.header_of("emails"), "email_shared",
                           lambda r: r.emails, f"Địa chỉ e-mail {{value}} dùng chung cho {{count}} {noun} ({{rows}}); mỗi "
                           f"{noun} vẫn nhận một thư riêng.")
    _shared_value_warnings(kept, problems, file, columns.header_of("address"), "address_shared",
                           lambda r: (" ".join(r.address.casefold().split()),) if r.address else (),
                           f"Cùng một địa chỉ trên {{count}} {noun} ({{rows}}).")
    return kept, rejected


def _shared_value_warnings(recipients: list[Recipient], problems: list[Problem], file: str, column: str, code: str,
                           values: Callable[[Recipient], Sequence[str]], message: str) -> None:
    """One warning per shared value, on the group's first row: a value on thousands of rows is one fact."""
    groups: dict[str, list[Recipient]] = defaultdict(list)
    for recipient in recipients:
        for value in values(recipient):
            groups[value].append(recipient)
    for value, group in groups.items():
        if len(group) < 2:
            continue
        rows = _row_listing([f"dòng {r.source_row} ({r.code})" for r in group[:LISTED_ROWS]], len(group))
        shown = value if code == "email_shared" else group[0].address
        problems.append(make_problem(file, group[0].source_row, column, "warning", code,
                                     message.format(value=value, count=_count(len(group)), rows=rows), shown,
                                     "kiểm tra lại nếu gõ nhầm; lọc cột này theo giá trị trên để thấy đủ các dòng."))


def _header_problems(columns: ColumnMap, file: str) -> list[Problem]:
    """A header written twice: which column the letter uses, and the name the other keeps for templates."""
    row = columns.header_row + 1
    problems = []
    later = {col: field_name for field_name, cols in columns.repeated.items() for col in cols if field_name != "emails"}
    for col, field_name in later.items():
        first, header = column_letter(columns.fields[field_name]), columns.headers[col]
        problems.append(make_problem(
            file, row, header, "warning", "column_repeated",
            f"Cột {column_letter(col)} «{header}» cũng là cột {FIELD_LABELS[field_name]} như cột {first}: thư dùng "
            f"cột {first}; cột {column_letter(col)} chỉ giữ cho mẫu với tên «{columns.extra[col]}».", header,
            "xóa cột thừa, hoặc đổi tiêu đề của nó nếu đó là thông tin khác."))
    for col, name in columns.extra.items():
        if name != columns.headers[col] and col not in later:
            problems.append(make_problem(
                file, row, columns.headers[col], "warning", "header_repeated",
                f"Tiêu đề «{columns.headers[col]}» có ở nhiều cột; giá trị cột {column_letter(col)} dùng trong mẫu "
                f"với tên «{name}».", columns.headers[col], "đặt cho mỗi cột một tiêu đề riêng."))
    return problems


def load_list(path: Path, kind: str, units: AdminUnits | None = None) -> RecipientList:
    """Read, normalise and validate one recipient file; raises UserError (exit 2) if it is unusable."""
    try:
        return _read_list(path, kind, units)
    finally:
        # The sheet, its frame and its rows, freed: a process that read a 10,000-row list held
        # 260 MB RSS, 139 MB once this was given back.
        give_back_freed()


def _read_list(path: Path, kind: str, units: AdminUnits | None) -> RecipientList:
    if kind not in KINDS:
        raise UserError(f"Loại danh sách '{kind}' không hợp lệ. Cách sửa: dùng một trong {', '.join(KINDS)}.")
    sheet = read_sheet(path)
    columns = find_header(sheet.rows, kind=kind)
    if columns is None:
        raise UserError(
            f"{path}: không tìm thấy dòng tiêu đề cột (ví dụ 'Mã đơn vị', 'Tên đơn vị', 'Email') trong 30 dòng đầu. "
            "Cách sửa: dùng tệp mẫu trong recipients/mau/ hoặc đặt tên cột như hướng dẫn."
        )
    missing = [f for f in REQUIRED[kind] if f not in columns.fields]
    if kind == "participants" and not {"personal_id", "insurance_code"} & set(columns.fields):
        missing.insert(1, "personal_id")
    if missing:
        labels = {**FIELD_LABELS, "personal_id": "Số định danh cá nhân' hoặc 'Mã số BHXH"}
        names = ", ".join(f"'{labels[f]}'" for f in missing)
        raise UserError(
            f"{path}: thiếu cột bắt buộc {names} cho danh sách {KIND_LABELS[kind]} (dòng tiêu đề là dòng "
            f"{columns.header_row + 1}). Cách sửa: thêm cột đó, xem tệp mẫu trong recipients/mau/."
        )
    reader = _ListReader(sheet, columns, kind, units or load_admin_units())
    reader.problems.extend(_header_problems(columns, str(path)))
    if sheet.encoding == "cp1258":
        reader.problems.append(make_problem(
            str(path), 0, "", "converted", "cp1258_converted",
            "Tệp CSV mã hóa Windows-1258: đã đọc và chuyển toàn bộ sang Unicode dựng sẵn (NFC).", "cp1258",
            "không cần làm gì; lần sau lưu bằng 'CSV UTF-8'."))
    recipients, rejected, data_rows = reader.read_rows()
    kept, duplicate_rows = _cross_row_checks(recipients, reader.problems, columns, str(path), kind)
    problems = sorted(reader.problems, key=lambda p: (p.row, p.column))
    return RecipientList(
        file=path,
        kind=kind,
        recipients=tuple(kept),
        rejected_rows=tuple(sorted(set(rejected) | set(duplicate_rows))),
        problems=tuple(problems),
        rows=data_rows,
    )


def guess_kind(path: Path) -> str:
    """Which kind of list a file is, from its title and header words, when the user did not say."""
    sheet = read_sheet(path)
    columns = find_header(sheet.rows)
    words = " ".join(header_key(v) for row in sheet.rows[: (columns.header_row + 1) if columns else 30]
                     for v in row if isinstance(v, str))
    # Before the collection agents: a participants list often names the agent that collects from each person.
    if columns and {"insurance_code", "personal_id", "payment_mode", "paid_until"} & set(columns.fields):
        return "participants"
    if "dich vu thu" in words or "dai ly" in words or "ma to chuc" in words:
        return "collection_agents"
    if re.search(r"\b(ma xa|ten xa|xa phuong)\b", words) and "ma so thue" not in words:
        return "communes"
    return "employers"
