"""Find the header row of an office spreadsheet and map its columns to recipient fields.

Headers are matched ignoring case, diacritics, punctuation and spacing, so ``Tên đơn vị``,
``TÊN ĐƠN VỊ``, ``Ten don vi`` and ``Tên  đơn vị:`` are the same header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..text.vntext import fold_diacritics

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
}

_ALIASES = {
    "row_number": ["stt", "so thu tu", "tt"],
    "code": ["ma", "ma don vi", "ma dv", "ma dvsdld", "ma to chuc", "ma dai ly", "ma xa", "ma don vi hanh chinh",
             "ma dvhc", "ma xa phuong", "ma xa phuong thi tran", "ma so don vi"],
    "name": ["ten", "ten don vi", "ten dv", "ten to chuc", "ten to chuc dich vu thu", "ten dai ly", "ten xa",
             "ten xa phuong thi tran", "ten xa phuong", "xa phuong thi tran", "don vi hanh chinh", "ten don vi hanh chinh",
             "ten doanh nghiep", "ten co quan"],
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

REQUIRED = {
    "employers": ("code", "name", "address"),
    "collection_agents": ("code", "name", "address"),
    "communes": ("name",),
}


def header_key(text: str) -> str:
    """``'Tên đơn vị:'`` → ``'ten don vi'``."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold_diacritics(str(text))).split())


_LOOKUP = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMap:
    header_row: int  # 0-based index into the sheet's rows
    fields: dict[str, int]  # field -> column index
    headers: dict[int, str]  # column index -> header text as written
    extra: dict[int, str]  # unrecognised columns kept for templates

    def header_of(self, field: str) -> str:
        index = self.fields.get(field)
        return self.headers[index] if index is not None else FIELD_LABELS.get(field, field)


def _match_row(row: list[Any]) -> dict[str, int]:
    fields: dict[str, int] = {}
    for index, cell in enumerate(row):
        if cell is None:
            continue
        field = _LOOKUP.get(header_key(cell))
        if field and field not in fields:
            fields[field] = index
    return fields


def find_header(rows: list[list[Any]], scan: int = 30) -> ColumnMap | None:
    """The row, among the first ``scan``, that names the most known columns (at least a name and one more)."""
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:scan]):
        fields = _match_row(row)
        if "name" in fields and len(fields) >= 2 and (best is None or len(fields) > len(best[1])):
            best = (index, fields)
    if best is None:
        return None
    index, fields = best
    header = rows[index]
    headers = {i: str(cell).strip() for i, cell in enumerate(header) if cell is not None}
    extra = {i: text for i, text in headers.items() if i not in fields.values()}
    return ColumnMap(header_row=index, fields=fields, headers=headers, extra=extra)
