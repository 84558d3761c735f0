"""Read a spreadsheet file into a grid of raw cells, as the file holds them.

Values keep their types (a code typed as a number stays a number, so validation can say so),
merged ranges are filled from their top-left cell, and for ``.xlsx`` the font of every text cell
is kept when the workbook uses a legacy Vietnamese font (TCVN3 ``.VnTime``, ``VNI-Times``).
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree
from python_calamine import CalamineError

from ..errors import UserError
from ..text import BUILTIN_FORMATS

LEGACY_FONT = re.compile(r"^\s*(\.vn|vni[-_ ])", re.IGNORECASE)
_FONT_NAME = re.compile(rb'<name val="([^"]*)"')
# The csv module refuses a field over 128 KiB as if the quoting were wrong; the whole file is in memory
# already, so no limit here: validation names a cell longer than Excel holds by its row and column.
csv.field_size_limit(2**31 - 1)
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
# Entities are left unexpanded and nothing is fetched: a workbook is untrusted input.
_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True)
class Sheet:
    """Rows of cells; ``fonts[(row, col)]`` names a cell's font where it matters, ``formats[(row, col)]``
    the number format of a cell that has one other than General (0-based)."""

    path: Path
    rows: list[list[Any]]
    fonts: dict[tuple[int, int], str]
    encoding: str  # of a CSV file; "xlsx" for a workbook
    formats: dict[tuple[int, int], str] = field(default_factory=dict)


def read_sheet(path: Path) -> Sheet:
    if not path.exists():
        raise UserError(f"{path}: không tìm thấy tệp. Cách sửa: kiểm tra đường dẫn trong lệnh hoặc trong config.toml.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    if suffix == ".xls":
        raise UserError(f"{path}: tệp Excel 97–2003 (.xls) chưa được hỗ trợ. Cách sửa: mở bằng Excel và lưu lại dạng .xlsx.")
    raise UserError(f"{path}: không phải bảng tính (.xlsx hoặc .csv). Cách sửa: lưu danh sách dạng .xlsx.")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


@dataclass(frozen=True)
class _FirstTab:
    name: str
    part: str  # the zip member holding its cells and merges


def _first_tab(archive: zipfile.ZipFile) -> _FirstTab:
    """The first tab as Excel shows it: the first ``<sheet>`` of workbook.xml, through its relationship
    to whatever part holds it (tools that reorder tabs leave ``sheetN.xml`` numbering behind)."""
    members = {name.lower(): name for name in archive.namelist()}  # part names are case-insensitive
    first = next(_parse(archive, members, "xl/workbook.xml").iter("{*}sheet"), None)
    if first is None:
        raise zipfile.BadZipFile("workbook.xml lists no sheet")
    rel_id = next((v for k, v in first.attrib.items() if etree.QName(k).localname == "id" and k.startswith("{")), None)
    rels = _parse(archive, members, "xl/_rels/workbook.xml.rels")
    target = next((r.get("Target", "") for r in rels.iter("{*}Relationship") if r.get("Id") == rel_id), "")
    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    if not target or part.lower() not in members:
        raise zipfile.BadZipFile(f"no part for the first sheet ({target or rel_id})")
    return _FirstTab(name=first.get("name", ""), part=members[part.lower()])


def _parse(archive: zipfile.ZipFile, members: dict[str, str], name: str) -> etree._Element:
    if name not in members:
        raise zipfile.BadZipFile(f"no {name}")
    return etree.fromstring(archive.read(members[name]), _XML)


# What a damaged workbook raises while it is unzipped and parsed, and what staff are told about it.
_DAMAGE: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((zlib.error, EOFError, NotImplementedError), "dữ liệu nén trong tệp bị hỏng"),
    # lxml's and ElementTree's parse errors are both SyntaxErrors.
    ((SyntaxError, CalamineError),
     "nội dung bảng tính bên trong tệp sai cấu trúc (bị cắt cụt, hỏng hoặc có khai báo XML lạ)"),
    ((zipfile.BadZipFile, KeyError, ValueError, OSError), "tệp bị hỏng, bị cắt cụt hoặc không phải tệp .xlsx"),
)


def _read_xlsx(path: Path) -> Sheet:
    try:
        with zipfile.ZipFile(path) as archive:
            styles = archive.read("xl/styles.xml") if "xl/styles.xml" in archive.namelist() else b""
            tab = _first_tab(archive)
            sheet_xml = archive.read(tab.part)
        # By name, so that the cells and the merges come from the same tab.
        frame = pd.read_excel(path, sheet_name=tab.name, header=None, dtype=object, engine="calamine")
        legacy_fonts = {name.decode("utf-8", "replace") for name in _FONT_NAME.findall(styles)}
        fonts = _cell_fonts(path, tab.name) if any(LEGACY_FONT.match(name) for name in legacy_fonts) else {}
        formats = _number_formats(styles, sheet_xml)
    except tuple(kind for kinds, _ in _DAMAGE for kind in kinds) as exc:
        what = next(text for kinds, text in _DAMAGE if isinstance(exc, kinds))
        raise UserError(
            f"{path}: không đọc được tệp Excel: {what} ({exc.__class__.__name__}). "
            "Cách sửa: mở tệp bằng Excel (đồng ý nếu Excel đề nghị sửa tệp), kiểm tra dữ liệu, rồi lưu lại "
            "thành tệp .xlsx mới; nếu Excel cũng không mở được, lấy lại bản gốc của danh sách."
        ) from None
    rows = [[None if _is_blank(v) else v for v in row] for row in frame.itertuples(index=False, name=None)]
    _fill_merged(rows, sheet_xml)
    return Sheet(path=path, rows=rows, fonts=fonts, encoding="xlsx", formats=formats)


_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _number_formats(styles: bytes, sheet_xml: bytes) -> dict[tuple[int, int], str]:
    """(row, col) → number format code of each value cell whose style has one (not General), so a
    column formatted ``#,##0`` reaches a letter as Excel shows it."""
    if not styles:
        return {}
    root = etree.fromstring(styles, _XML)
    codes = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in root.iter("{*}numFmt")}
    cell_xfs = next(root.iter("{*}cellXfs"), None)
    by_style = {}
    for index, xf in enumerate(cell_xfs.iter("{*}xf") if cell_xfs is not None else ()):
        number_format = int(xf.get("numFmtId", "0") or 0)
        code = codes.get(number_format) or BUILTIN_FORMATS.get(number_format)
        if code:
            by_style[str(index)] = code
    if not by_style:
        return {}
    formats = {}
    for cell in etree.fromstring(sheet_xml, _XML).iter("{*}c"):
        code = by_style.get(cell.get("s", "0"))
        match = _CELL_REF.fullmatch(cell.get("r", ""))
        if code and match and cell.get("t", "n") == "n":
            formats[(int(match.group(2)) - 1, _column_index(match.group(1)))] = code
    return formats


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (isinstance(value, str) and not value.strip())


def _fill_merged(rows: list[list[Any]], sheet_xml: bytes) -> None:
    """A merged range shows its top-left value in every cell it covers, as the user sees it."""
    for col1, row1, col2, row2 in _MERGE.findall(sheet_xml):
        top, left = int(row1) - 1, _column_index(col1.decode())
        bottom, right = int(row2) - 1, _column_index(col2.decode())
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            row.extend([None] * (right + 1 - len(row)))
            for c in range(left, right + 1):
                if row[c] is None:
                    row[c] = value


def _cell_fonts(path: Path, tab: str) -> dict[tuple[int, int], str]:
    """Font names of text cells; only read when the workbook declares a legacy font."""
    import openpyxl

    fonts = {}
    try:
        with warnings.catch_warnings():  # its English warnings about odd parts would reach staff's terminal
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True)
        try:
            for r, row in enumerate(workbook[tab].iter_rows()):
                for c, cell in enumerate(row):
                    if isinstance(getattr(cell, "value", None), str) and cell.font is not None and cell.font.name:
                        fonts[(r, c)] = cell.font.name
        finally:
            workbook.close()
    except TypeError as exc:  # openpyxl passes each XML attribute as a keyword: one it does not know lands here
        raise ValueError(f"openpyxl: {exc}") from None
    return fonts


def _decode_csv(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1258"), "cp1258"


def _read_csv(path: Path) -> Sheet:
    data = path.read_bytes()
    if not data.strip(b"\xef\xbb\xbf \r\n\t,;"):
        raise UserError(f"{path}: tệp rỗng, không có dòng nào. Cách sửa: kiểm tra đã lưu đúng tệp danh sách.")
    try:
        text, encoding = _decode_csv(data)
    except UnicodeDecodeError:
        raise UserError(
            f"{path}: không nhận ra bảng mã của tệp CSV. Cách sửa: trong Excel chọn Lưu thành → 'CSV UTF-8'."
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="python")
    except (pd.errors.ParserError, ValueError):
        raise UserError(f"{path}: tệp CSV sai cấu trúc (số cột hoặc dấu ngoặc kép không khớp). "
                        "Cách sửa: mở bằng Excel và lưu lại dạng .xlsx.") from None
    rows = [[None if _is_blank(v) else v for v in row] for row in frame.itertuples(index=False, name=None)]
    return Sheet(path=path, rows=rows, fonts={}, encoding=encoding)
