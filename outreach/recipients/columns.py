"""Find the header row of an office spreadsheet and map its columns to recipient fields.

Headers are matched ignoring case, diacritics, punctuation and spacing, so ``Tên đơn vị``,
``TÊN ĐƠN VỊ``, ``Ten don vi`` and ``Tên  đơn vị:`` are the same header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..text import fold_diacritics

FIELD_LABELS = {
    "code": "Mã",
    "name": "Tên",
    "address": "Địa chỉ",
    "emails": "Email",
    "tax_code": "Mã số thuế",
    "phone": "Điện thoại",
    "district": "Huyện/Thị xã/Thành phố",
    "commune": "Xã/Phường/Thị trấn",
    "managing_office": "Cơ quan quản lý",
    "contact": "Người liên hệ",
    "row_number": "STT",
    "insurance_code": "Mã số BHXH",
    "personal_id": "Số định danh cá nhân",
    "payment_mode": "Phương thức đóng",
    "income": "Mức thu nhập làm căn cứ đóng",
    "paid_until": "Đóng đến tháng",
    "collector": "Tổ chức dịch vụ thu",
    "support_group": "Nhóm hỗ trợ",
    "months_supported": "Số tháng đã được hỗ trợ",
}

_ALIASES = {
    "row_number": ["stt", "so thu tu", "tt"],
    "code": ["ma", "ma don vi", "ma dv", "ma dvsdld", "ma to chuc", "ma dai ly", "ma xa", "ma don vi hanh chinh",
             "ma dvhc", "ma xa phuong", "ma xa phuong thi tran", "ma so don vi"],
    "name": ["ten", "ten don vi", "ten dv", "ten to chuc", "ten to chuc dich vu thu", "ten dai ly", "ten xa",
             "ten xa phuong thi tran", "ten xa phuong", "xa phuong thi tran", "don vi hanh chinh", "ten don vi hanh chinh",
             "ten doanh nghiep", "ten co quan", "ho va ten", "ho ten", "ten nguoi tham gia", "ho va ten nguoi tham gia"],
    "address": ["dia chi", "dia chi don vi", "dia chi tru so", "tru so"],
    "emails": ["email", "e mail", "thu dien tu", "dia chi email", "dia chi thu dien tu", "hop thu"],
    "tax_code": ["ma so thue", "mst", "ma thue"],
    "phone": ["dien thoai", "so dien thoai", "sdt", "dt", "so dt"],
    "district": ["huyen", "quan huyen", "huyen thi xa thanh pho", "huyen thi xa tp", "huyen tx tp", "dia ban",
                 "huyen thi"],
    "commune": ["xa phuong", "xa", "phuong xa", "xa phuong thi tran noi dong tru so"],
    "managing_office": ["co quan quan ly", "noi quan ly", "phan cap quan ly", "phan cap quan ly thu", "co quan bhxh quan ly",
                        "don vi quan ly"],
    "contact": ["nguoi lien he", "nguoi dai dien", "can bo phu trach"],
}
# Columns only a participants list has; in the other lists such a header stays an extra column, as before.
_PARTICIPANT_ALIASES = {
    "insurance_code": ["ma so bhxh", "ma bhxh", "so so bhxh", "ma so bao hiem xa hoi"],
    "personal_id": ["so dinh danh ca nhan", "so dinh danh", "so ddcn", "ma dinh danh", "so cccd", "cccd",
                    "so can cuoc", "so can cuoc cong dan", "so ddcn cccd"],
    "payment_mode": ["phuong thuc dong", "phuong thuc", "phuong thuc dong tien"],
    "income": ["muc thu nhap lam can cu dong", "muc thu nhap", "thu nhap", "muc thu nhap thang", "muc tien",
               "thu nhap lam can cu dong"],
    "paid_until": ["dong den thang", "den thang", "dong den", "han dong", "thoi han dong den"],
    "collector": ["to chuc dich vu thu", "dai ly thu", "don vi thu", "to chuc dvt", "noi thu"],
    "support_group": ["nhom ho tro", "doi tuong ho tro", "nhom doi tuong ho tro"],
    "months_supported": ["so thang da duoc ho tro", "so thang da ho tro", "so thang duoc ho tro"],
}

REQUIRED = {
    "employers": ("code", "name", "address"),
    "collection_agents": ("code", "name", "address"),
    "communes": ("name",),
    # and a personal ID or a mã số BHXH column, checked by the participants reader
    "participants": ("name", "payment_mode", "income", "paid_until"),
}


def header_key(text: str) -> str:
    """``'Tên đơn vị:'`` → ``'ten don vi'``."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold_diacritics(str(text))).split())


_LOOKUP = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_PARTICIPANT_LOOKUP = {**_LOOKUP, **{alias: field for field, aliases in _PARTICIPANT_ALIASES.items() for alias in aliases}}


def _lookup(kind: str | None) -> dict[str, str]:
    """Headers known for a kind of list; every header when the kind is still to be guessed."""
    return _PARTICIPANT_LOOKUP if kind in (None, "participants") else _LOOKUP


@dataclass(frozen=True)
class ColumnMap:
    header_row: int  # 0-based index into the sheet's rows
    fields: dict[str, int]  # field -> its first column
    headers: dict[int, str]  # column index -> header text as written
    extra: dict[int, str]  # other columns, kept for templates, by a name unique in the list
    repeated: dict[str, tuple[int, ...]]  # field -> its further columns, when a header is written twice

    def header_of(self, field: str) -> str:
        index = self.fields.get(field)
        return self.headers[index] if index is not None else FIELD_LABELS.get(field, field)

    def columns_of(self, field: str) -> tuple[int, ...]:
        first = self.fields.get(field)
        return () if first is None else (first, *self.repeated.get(field, ()))


def column_letter(index: int) -> str:
    """0 → ``A``, 26 → ``AA``: how staff find a column in Excel."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _match_row(row: list[Any], lookup: dict[str, str]) -> dict[str, list[int]]:
    fields: dict[str, list[int]] = {}
    for index, cell in enumerate(row):
        if cell is None:
            continue
        field_name = lookup.get(header_key(cell))
        if field_name:
            fields.setdefault(field_name, []).append(index)
    return fields


def _unique_names(columns: dict[int, str]) -> dict[int, str]:
    """A header written twice names its second column ``… (2)``, so that no value hides another."""
    names: dict[int, str] = {}
    for index, text in columns.items():
        name, n = text, 2
        while name in names.values():
            name, n = f"{text} ({n})", n + 1
        names[index] = name
    return names


def find_header(rows: list[list[Any]], scan: int = 30, kind: str | None = None) -> ColumnMap | None:
    """The row, among the first ``scan``, that names the most known columns (at least a name and one more).

    A field named by several columns reads its first one; e-mail columns are all read (a unit's
    addresses may be spread over them), and the other repeats are kept as extra columns."""
    best: tuple[int, dict[str, list[int]]] | None = None
    lookup = _lookup(kind)
    for index, row in enumerate(rows[:scan]):
        fields = _match_row(row, lookup)
        if "name" in fields and len(fields) >= 2 and (best is None or len(fields) > len(best[1])):
            best = (index, fields)
    if best is None:
        return None
    index, matched = best
    headers = {i: str(cell).strip() for i, cell in enumerate(rows[index]) if cell is not None}
    repeated = {f: tuple(columns[1:]) for f, columns in matched.items() if len(columns) > 1}
    used = {columns[0] for columns in matched.values()} | set(repeated.get("emails", ()))
    extra = _unique_names({i: text for i, text in headers.items() if i not in used})
    return ColumnMap(header_row=index, fields={f: columns[0] for f, columns in matched.items()}, headers=headers,
                     extra=extra, repeated=repeated)
