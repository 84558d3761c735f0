"""Recipient files as a hostile or unlucky user sends them: reordered tabs, corrupted bytes, formulas,
thousands of rows sharing one value, control characters, oversized cells (issue 20)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl

from outreach.recipients import load_list
from test_recipients import GOOD_ROW, HEADER, row_with, write_xlsx_list

EMAIL = HEADER.index("Email")


def rezip(path: Path, change) -> Path:
    """Rewrite a workbook's parts through ``change(parts) -> parts``, as another tool would save it."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in change(parts).items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def swap_sheet_parts(parts: dict[str, bytes]) -> dict[str, bytes]:
    """The first tab's cells move to sheet2.xml and the second tab's to sheet1.xml; the tab order stays."""
    one, two = "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"
    rels = parts["xl/_rels/workbook.xml.rels"].replace(b"sheet1.xml", b"sheetX.xml")
    rels = rels.replace(b"sheet2.xml", b"sheet1.xml").replace(b"sheetX.xml", b"sheet2.xml")
    return {**parts, one: parts[two], two: parts[one], "xl/_rels/workbook.xml.rels": rels}


def six_units_and_a_merged_second_tab(path: Path) -> Path:
    """Unit 1 has an e-mail, units 2–6 none; another tab merges the e-mail column over those rows."""
    workbook = openpyxl.Workbook()
    units = workbook.active
    units.title = "Danh sách"
    units.append(HEADER)
    units.append(GOOD_ROW)
    for n in range(2, 7):
        units.append(row_with(STT=str(n), Mã_đơn_vị=f"BW0319{n}", Mã_số_thuế=None, Email=None,
                              Địa_chỉ=f"{n} Lê Lợi, Phường Lộc Thọ"))
    notes = workbook.create_sheet("Ghi chú")
    notes.cell(row=2, column=EMAIL + 1, value="ghi chú gộp ô")
    notes.merge_cells(start_row=2, start_column=EMAIL + 1, end_row=7, end_column=EMAIL + 1)
    workbook.save(path)
    return path


def test_merges_are_read_from_the_first_tab_when_parts_are_numbered_otherwise(tmp_path):
    path = rezip(six_units_and_a_merged_second_tab(tmp_path / "a.xlsx"), swap_sheet_parts)
    with zipfile.ZipFile(path) as archive:  # the reordering really happened
        assert b"mergeCell" in archive.read("xl/worksheets/sheet1.xml")
    result = load_list(path, "employers")
    emails = {r.code: r.emails for r in result.recipients}
    assert emails == {"TZH490L": ("ketoan@haivuong.example.vn",), **{f"BW0319{n}": () for n in range(2, 7)}}
    assert not any(p.code == "email_shared" for p in result.problems)


def test_merges_on_the_first_tab_still_fill_their_cells(tmp_path):
    path = write_xlsx_list(tmp_path / "a.xlsx", [GOOD_ROW, row_with(Mã_đơn_vị="BW03196", Email=None, Địa_chỉ="1 Lê Lợi")])
    workbook = openpyxl.load_workbook(path)
    workbook.active.merge_cells(start_row=4, start_column=EMAIL + 1, end_row=5, end_column=EMAIL + 1)
    workbook.create_sheet("Ghi chú")
    workbook.save(path)
    result = load_list(rezip(path, swap_sheet_parts), "employers")
    assert [r.emails for r in result.recipients] == [("ketoan@haivuong.example.vn",)] * 2


def test_a_sheet_part_with_any_name_is_read(tmp_path):
    def rename(parts: dict[str, bytes]) -> dict[str, bytes]:
        renamed = {("xl/worksheets/danh-sach.xml" if n == "xl/worksheets/sheet1.xml" else n): d for n, d in parts.items()}
        for name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            renamed[name] = renamed[name].replace(b"worksheets/sheet1.xml", b"worksheets/danh-sach.xml")
        return renamed

    path = rezip(write_xlsx_list(tmp_path / "a.xlsx", [GOOD_ROW]), rename)
    (recipient,) = load_list(path, "employers").recipients
    assert recipient.code == "TZH490L"
