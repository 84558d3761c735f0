"""Recipient files as a hostile or unlucky user sends them: reordered tabs, corrupted bytes, formulas,
thousands of rows sharing one value, control characters, oversized cells (issue 20)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.errors import UserError
from outreach.recipients import load_list
from outreach.recipients.report import ValidationSummary, format_terminal, write_xlsx
from outreach.text import append_row
from outreach.text import CONTROL_CHARACTERS, unicode_to_tcvn3
from test_recipients import GOOD_ROW, HEADER, problems_of, row_with, write_xlsx_list

EMAIL = HEADER.index("Email")


def csv_text(rows: list[list]) -> str:
    return "\r\n".join(",".join(f'"{v}"' if v is not None else "" for v in row) for row in rows) + "\r\n"


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


def flip_in_sheet_data(fraction: float):
    """Invert one byte of the sheet's compressed data, where a bad disk or a cut download would."""
    def change(path: Path) -> None:
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/worksheets/sheet1.xml")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start + int(info.compress_size * fraction)] ^= 0xFF
        path.write_bytes(bytes(data))
    return change


def in_sheet_xml(edit):
    return lambda path: rezip(path, lambda parts: {**parts, "xl/worksheets/sheet1.xml": edit(parts["xl/worksheets/sheet1.xml"])})


@pytest.mark.parametrize("damage", [
    flip_in_sheet_data(0.1), flip_in_sheet_data(0.75), flip_in_sheet_data(0.9),
    in_sheet_xml(lambda xml: xml[: len(xml) // 2]),
    in_sheet_xml(lambda xml: b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x@example.vn">]>'
                 + xml.replace(b"ketoan@haivuong.example.vn", b"&e;")),
], ids=["flip-10%", "flip-75%", "flip-90%", "cut-xml", "entity"])
def test_a_damaged_workbook_is_a_user_error(tmp_path, damage):
    path = write_xlsx_list(tmp_path / "a.xlsx", [GOOD_ROW])
    damage(path)
    with pytest.raises(UserError) as caught:
        load_list(path, "employers")
    message = caught.value.message
    assert str(path) in message and "không đọc được tệp Excel" in message and "Cách sửa:" in message


def test_a_control_character_reaches_the_report_as_a_visible_symbol(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(csv_text([HEADER, row_with(Email="ke\x07toan@example.vn")]), encoding="utf-8")
    result = load_list(path, "employers")
    write_xlsx(ValidationSummary((result,)), tmp_path / "r.xlsx")
    rows = openpyxl.load_workbook(tmp_path / "r.xlsx")["Kết quả kiểm tra"].iter_rows(min_row=2, values_only=True)
    assert any(row[3] and "ke\u2407toan@example.vn" in row[3] for row in rows)


def mutate(data: bytes, operation: str, where: float, payload: bytes) -> bytes:
    at = min(int(where * len(data)), len(data) - 1)
    if operation == "flip":
        return data[:at] + bytes([data[at] ^ (payload[0] | 1)]) + data[at + 1:]
    if operation == "cut":
        return data[:at]
    return data[:at] + payload + data[at:]


mutations = st.tuples(st.sampled_from(["flip", "cut", "insert"]), st.floats(0, 1),
                      st.binary(min_size=1, max_size=8))


@pytest.fixture(scope="module")
def small_lists(tmp_path_factory) -> dict[str, bytes]:
    """A real workbook (with a legacy font, so openpyxl reads it too, and a merge) and a real CSV."""
    folder = tmp_path_factory.mktemp("lists")
    rows = [row_with(Tên_đơn_vị=unicode_to_tcvn3("Công ty Hòa Bình")),
            row_with(Mã_đơn_vị="BW03196", Địa_chỉ="1 Lê Lợi, Phường Lộc Thọ")]
    xlsx = write_xlsx_list(folder / "a.xlsx", rows, fonts={(0, 2): ".VnTime"})
    return {"xlsx": xlsx.read_bytes(), "csv": b"\xef\xbb\xbf" + csv_text([HEADER, *rows]).encode("utf-8")}


def read_or_refuse(path: Path) -> None:
    """A corrupted list is read (and reported) or refused with a UserError; nothing else may escape."""
    try:
        result = load_list(path, "employers")
    except UserError as error:
        assert str(path) in error.message and "Cách sửa:" in error.message
    else:
        write_xlsx(ValidationSummary((result,)), path.with_name("report.xlsx"))


XLSX_PARTS = ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
              "[Content_Types].xml"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(part=st.sampled_from([None, *XLSX_PARTS]), mutation=mutations)
def test_fuzz_a_corrupted_workbook_is_read_or_refused(tmp_path, small_lists, part, mutation):
    path = tmp_path / "fuzz.xlsx"
    if part is None:  # the zip itself: what a bad disk or a cut download does
        path.write_bytes(mutate(small_lists["xlsx"], *mutation))
    else:  # one part, re-zipped: what a careless tool writes
        path.write_bytes(small_lists["xlsx"])
        rezip(path, lambda parts: {**parts, part: mutate(parts[part], *mutation)})
    read_or_refuse(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations)
def test_fuzz_a_corrupted_csv_is_read_or_refused(tmp_path, small_lists, mutation):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(mutate(small_lists["csv"], *mutation))
    read_or_refuse(path)


FORMULAS = ["=1+2", "+1-2", "-1+2", "@SUM(1)"]


def test_values_that_look_like_formulas_are_written_as_text(tmp_path):
    rows = [row_with(STT=str(n), Mã_đơn_vị=f"BW0319{n}", Mã_số_thuế=None, Email=value, Địa_chỉ=f"{n} Lê Lợi")
            for n, value in enumerate(FORMULAS)]
    (tmp_path / "a.csv").write_text(csv_text([HEADER, *rows]), encoding="utf-8")  # a workbook would hold formulas
    write_xlsx(ValidationSummary((load_list(tmp_path / "a.csv", "employers"),)), tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Kết quả kiểm tra"]
    cells = {row[3].value: row[3] for row in sheet.iter_rows(min_row=2) if row[3].value in FORMULAS}
    assert set(cells) == set(FORMULAS)
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells.values())
    with zipfile.ZipFile(tmp_path / "r.xlsx") as archive:
        assert not any(b"<f>" in archive.read(name) or b"<f " in archive.read(name)
                       for name in archive.namelist() if name.startswith("xl/worksheets/"))


def test_append_row_keeps_every_formula_start_as_text(tmp_path):
    workbook = openpyxl.Workbook()
    values = [*FORMULAS, "\t=1+2", "\r=1+2", "Công ty A", 7]
    append_row(workbook.active, values)
    workbook.save(tmp_path / "r.xlsx")
    cells = next(openpyxl.load_workbook(tmp_path / "r.xlsx").active.iter_rows())
    assert [c.value for c in cells] == values
    assert [c.data_type for c in cells] == ["s"] * 7 + ["n"]
    assert [bool(c.quotePrefix) for c in cells] == [True] * 6 + [False] * 2


def test_two_thousand_rows_sharing_an_address_give_one_warning_per_group(tmp_path):
    rows = [row_with(STT=str(n), Mã_đơn_vị=f"B{n:06d}", Mã_số_thuế=None) for n in range(2000)]
    (tmp_path / "a.csv").write_text(csv_text([HEADER, *rows]), encoding="utf-8")
    result = load_list(tmp_path / "a.csv", "employers")
    assert len(result.recipients) == 2000
    shared = [p for p in result.problems if p.code in ("email_shared", "address_shared")]
    assert sorted(p.code for p in shared) == ["address_shared", "email_shared"]
    assert all(p.row == 2 and "2.000 đơn vị" in p.message and "dòng 3" in p.message for p in shared)
    assert len(json.dumps(ValidationSummary((result,)).as_json(), ensure_ascii=False)) < 5_000


def test_two_thousand_rows_with_one_code_are_each_rejected_in_short_messages(tmp_path):
    rows = [row_with(STT=str(n), Mã_số_thuế=None, Email=f"u{n}@example.vn", Địa_chỉ=f"{n} Lê Lợi") for n in range(2000)]
    (tmp_path / "a.csv").write_text(csv_text([HEADER, *rows]), encoding="utf-8")
    result = load_list(tmp_path / "a.csv", "employers")
    assert result.recipients == () and len(result.rejected_rows) == 2000
    errors = [p for p in result.problems if p.code == "code_duplicate"]
    assert len(errors) == 2000 and "và 1.989 dòng khác" in errors[0].message
    assert len(json.dumps(ValidationSummary((result,)).as_json(), ensure_ascii=False)) < 1_000_000


def test_a_second_email_column_is_read_and_the_merge_noted(tmp_path):
    header = [*HEADER, "Email"]
    rows = [row_with() + ["giamdoc@haivuong.example.vn"],
            row_with(Mã_đơn_vị="BW03196", Email=None, Địa_chỉ="1 Lê Lợi") + ["ketoan@b.example.vn"]]
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", rows, header=header), "employers")
    assert [r.emails for r in result.recipients] == [("ketoan@haivuong.example.vn", "giamdoc@haivuong.example.vn"),
                                                     ("ketoan@b.example.vn",)]
    assert problems_of(result, 4) == {"email_columns_merged": "converted"}
    assert problems_of(result, 5) == {}  # no false "no e-mail" warning
    merged = next(p for p in result.problems if p.code == "email_columns_merged")
    assert "cột G, cột J" in merged.message and "Cách sửa:" in merged.message
    assert all("Email" not in r.extra for r in result.recipients)


def test_a_repeated_header_keeps_both_values_and_says_so(tmp_path):
    header = [*HEADER, "Ghi chú", "Ghi chú", "Tên đơn vị"]
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", [GOOD_ROW + ["một", "hai", "Tên khác"]], header=header),
                       "employers")
    (recipient,) = result.recipients
    assert recipient.name == GOOD_ROW[2]
    assert dict(recipient.extra) == {"Ghi chú": "một", "Ghi chú (2)": "hai", "Tên đơn vị": "Tên khác"}
    header_problems = {p.code: p for p in result.problems if p.row == 3}
    assert set(header_problems) == {"header_repeated", "column_repeated"}
    assert "cột K" in header_problems["header_repeated"].message and "«Ghi chú (2)»" in header_problems["header_repeated"].message
    assert "thư dùng cột C" in header_problems["column_repeated"].message
    assert all(p.severity == "warning" and "Cách sửa:" in p.message for p in header_problems.values())


def test_line_breaks_kept_in_an_address_and_joined_elsewhere_with_a_note(tmp_path):
    rows = [row_with(Tên_đơn_vị="Công ty TNHH\r\nThủy sản Hải Vương", Địa_chỉ="12 Trần Phú\nPhường Lộc Thọ ")]
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", rows), "employers")
    (recipient,) = result.recipients
    assert recipient.address == "12 Trần Phú\nPhường Lộc Thọ"
    assert recipient.name == "Công ty TNHH Thủy sản Hải Vương"
    assert problems_of(result, 4) == {"lines_joined": "converted"}
    joined = next(p for p in result.problems if p.code == "lines_joined")
    assert joined.column == "Tên đơn vị" and "«Công ty TNHH Thủy sản Hải Vương»" in joined.message


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x9b"])
@pytest.mark.parametrize("column", ["Tên đơn vị", "Email", "Ghi chú"])
def test_control_characters_reject_the_row_and_are_never_printed(tmp_path, char, column):
    header = [*HEADER, "Ghi chú"]
    row = row_with() + ["ghi chú"]
    row[header.index(column)] = f"{row[header.index(column)][:3]}{char}[31m{row[header.index(column)][3:]}"
    (tmp_path / "a.csv").write_text(csv_text([header, row]), encoding="utf-8")
    result = load_list(tmp_path / "a.csv", "employers")
    assert result.recipients == () and result.rejected_rows == (2,)
    (problem,) = [p for p in result.problems if p.code == "control_character"]
    assert (problem.severity, problem.row, problem.column) == ("error", 2, column)
    assert f"U+{ord(char):04X}" in problem.message and "Cách sửa:" in problem.message
    assert not CONTROL_CHARACTERS.search(format_terminal(ValidationSummary((result,)))) and "[31m" in problem.value


def test_a_cell_longer_than_excel_allows_is_named_by_row_and_column(tmp_path):
    rows = [row_with(Tên_đơn_vị="Công ty " + "A" * 200_000),
            row_with(Mã_đơn_vị="BW03196", Email="b@example.vn", Địa_chỉ="1 Lê Lợi")]
    (tmp_path / "a.csv").write_text(csv_text([HEADER, *rows]), encoding="utf-8")
    result = load_list(tmp_path / "a.csv", "employers")
    assert [r.code for r in result.recipients] == ["BW03196"] and result.rejected_rows == (2,)
    (problem,) = [p for p in result.problems if p.row == 2]
    assert (problem.code, problem.severity, problem.column) == ("cell_too_long", "error", "Tên đơn vị")
    assert "200.008 ký tự" in problem.message and "32.767" in problem.message and "Cách sửa:" in problem.message
    assert len(json.dumps(ValidationSummary((result,)).as_json(), ensure_ascii=False)) < 5_000
