"""Recipient lists as offices keep them: real XLSX/CSV files, read, normalised, validated, reported."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import Font

from outreach.errors import UserError
from outreach.recipients import load_list, tax_code_valid
from outreach.recipients.report import ValidationSummary, write_xlsx
from outreach.text import unicode_to_tcvn3, unicode_to_vni

REPO = Path(__file__).resolve().parent.parent
HEADER = ["STT", "Mã đơn vị", "Tên đơn vị", "Mã số thuế", "Địa chỉ", "Huyện/Thị xã/Thành phố", "Email", "Số điện thoại",
          "Cơ quan quản lý"]
GOOD_ROW = ["1", "TZH490L", "Công ty TNHH Thủy sản Hải Vương", "0100109106", "12 Trần Phú, Phường Lộc Thọ",
            "Thành phố Nha Trang", "ketoan@haivuong.example.vn", "0905123456", "BHXH tỉnh"]


def write_xlsx_list(path: Path, rows: list[list], header: list[str] = HEADER, title: bool = True,
                    fonts: dict[tuple[int, int], str] | None = None) -> Path:
    """An office-style sheet: a merged title row, a blank row, the header, then the rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    first = 1
    if title:
        sheet.append(["DANH SÁCH ĐƠN VỊ SỬ DỤNG LAO ĐỘNG"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        sheet.append([])
        first = 3
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for (r, c), font in (fonts or {}).items():
        sheet.cell(row=first + 1 + r, column=c + 1).font = Font(name=font)
    workbook.save(path)
    return path


def row_with(**changes) -> list:
    row = list(GOOD_ROW)
    for header, value in changes.items():
        row[HEADER.index(header.replace("_", " "))] = value
    return row


def problems_of(result, row: int) -> dict[str, str]:
    return {p.code: p.severity for p in result.problems if p.row == row}


def test_title_rows_merged_cells_and_headers_without_diacritics(tmp_path):
    header = ["stt", "MA DV", "TEN DON VI", "Mã số thuế", "Dia chi", "Huyện", "E-mail", "SĐT", "Noi quan ly"]
    path = write_xlsx_list(tmp_path / "a.xlsx", [GOOD_ROW], header=header)
    result = load_list(path, "employers")
    (recipient,) = result.recipients
    assert recipient.code == "TZH490L" and recipient.name == "Công ty TNHH Thủy sản Hải Vương"
    assert recipient.emails == ("ketoan@haivuong.example.vn",)
    assert recipient.phone == "+84905123456"
    assert recipient.source_row == 4  # the row Excel shows: title, blank, header, then this
    assert recipient.salutation == "Công ty TNHH Thủy sản Hải Vương (mã đơn vị TZH490L)"


def test_codes_typed_as_numbers_are_rejected_not_padded(tmp_path):
    path = write_xlsx_list(tmp_path / "a.xlsx", [row_with(Mã_đơn_vị=40196), row_with(Mã_đơn_vị="BW03196", Mã_số_thuế=100109106)])
    result = load_list(path, "employers")
    assert problems_of(result, 4) == {"code_lost_zeros": "error"}
    assert problems_of(result, 5) == {"tax_code_lost_zeros": "error"}
    assert result.recipients == () and result.rejected_rows == (4, 5)
    message = next(p.message for p in result.problems if p.code == "code_lost_zeros")
    assert "Cách sửa" in message and "Text" in message


def test_legacy_fonts_are_converted_and_every_conversion_listed(tmp_path):
    name = "Công ty TNHH Thủy sản Khánh Hòa"
    vni_name = "Công ty Cổ phần Xây dựng Cam Ranh"
    rows = [row_with(Tên_đơn_vị=unicode_to_tcvn3(name)),
            row_with(Mã_đơn_vị="BW03196", Tên_đơn_vị=unicode_to_vni(vni_name), Email="a@b.example.vn")]
    path = write_xlsx_list(tmp_path / "a.xlsx", rows, fonts={(0, 2): ".VnTime", (1, 2): "VNI-Times"})
    result = load_list(path, "employers")
    assert [r.name for r in result.recipients] == [name, vni_name]
    converted = {p.row: p.code for p in result.converted}
    assert converted[4] == "tcvn3_converted" and converted[5] == "vni_converted"


def test_nfd_names_are_normalised_and_reported(tmp_path):
    nfd = unicodedata.normalize("NFD", "Công ty TNHH Dịch vụ Hòa Bình")
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", [row_with(Tên_đơn_vị=nfd)]), "employers")
    assert result.recipients[0].name == unicodedata.normalize("NFC", nfd)
    assert problems_of(result, 4) == {"nfd_converted": "converted"}


@pytest.mark.parametrize("changes,code,severity", [
    ({"Tên_đơn_vị": None}, "name_missing", "error"),
    ({"Email": "abc@@example"}, "email_invalid", "error"),
    ({"Mã_số_thuế": "0100109107"}, "tax_code_invalid", "error"),
    ({"Mã_đơn_vị": "TZH49"}, "code_invalid", "error"),
    ({"Email": None}, "email_missing", "warning"),
    ({"Số_điện_thoại": "01693 456 789"}, "phone_invalid", "warning"),
    ({"Huyện/Thị_xã/Thành_phố": "Huyện Không Có"}, "district_unknown", "warning"),
    ({"Địa_chỉ": "5 Lê Lợi, Phường Bắc Nha Trang"}, "address_commune_unknown", "warning"),
])
def test_each_row_problem(tmp_path, changes, code, severity):
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", [row_with(**changes)]), "employers")
    found = problems_of(result, 4)
    assert found.get(code) == severity, found
    assert (result.rejected_rows == (4,)) == (severity == "error")


def test_emails_split_trimmed_lowercased_and_reported(tmp_path):
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", [row_with(Email=" KeToan@Example.VN ; GiamDoc@example.vn, ")]),
                       "employers")
    assert result.recipients[0].emails == ("ketoan@example.vn", "giamdoc@example.vn")
    assert problems_of(result, 4) == {"email_normalised": "converted"}


def test_duplicate_codes_reject_both_rows_naming_the_other(tmp_path):
    rows = [row_with(), row_with(Email="khac@example.vn", Địa_chỉ="1 Lê Lợi")]
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", rows), "employers")
    assert result.rejected_rows == (4, 5) and result.recipients == ()
    assert any("dòng 5" in p.message for p in result.problems if p.row == 4 and p.code == "code_duplicate")


def test_shared_email_is_a_warning_and_both_rows_kept(tmp_path):
    rows = [row_with(), row_with(Mã_đơn_vị="BW03196", Địa_chỉ="1 Lê Lợi")]
    result = load_list(write_xlsx_list(tmp_path / "a.xlsx", rows), "employers")
    assert len(result.recipients) == 2
    (shared,) = [p for p in result.problems if p.code == "email_shared"]
    assert (shared.row, shared.severity) == (4, "warning") and "dòng 4 (TZH490L), dòng 5 (BW03196)" in shared.message


def test_communes_matched_ignoring_tone_placement_and_code_filled(tmp_path):
    header = ["STT", "Mã xã", "Tên xã, phường, thị trấn", "Email"]
    rows = [["1", None, "Phường Vĩnh Hoà", "ubnd.vinhhoa@example.vn"],
            ["2", "22330", "phường vĩnh hải", "ubnd.vinhhai@example.vn"],
            ["3", None, "Xã Không Tồn Tại", "x@example.vn"]]
    result = load_list(write_xlsx_list(tmp_path / "c.xlsx", rows, header=header), "communes")
    first, second = result.recipients
    assert (first.code, first.name) == ("22327", "Phường Vĩnh Hòa")
    assert first.salutation == "Ủy ban nhân dân Phường Vĩnh Hòa"
    assert (second.code, second.name) == ("22330", "Phường Vĩnh Hải")
    assert problems_of(result, 6) == {"commune_unknown": "error"}
    assert problems_of(result, 4) == {"commune_code_filled": "converted", "commune_name_normalised": "converted"}


def encode_cp1258(text: str) -> bytes:
    """As Excel saves Vietnamese CSV on Windows: letters with a tone as base letter + combining tone mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = next(mark for mark in decomposed if mark in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
            out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


def test_csv_utf8_bom_and_cp1258_read_the_same(tmp_path):
    lines = [",".join(HEADER), ",".join(f'"{v}"' for v in GOOD_ROW)]
    text = "\r\n".join(lines) + "\r\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "win.csv").write_bytes(encode_cp1258(text))
    bom = load_list(tmp_path / "bom.csv", "employers")
    win = load_list(tmp_path / "win.csv", "employers")
    assert bom.recipients[0].name == win.recipients[0].name == GOOD_ROW[2]
    assert bom.recipients[0].tax_code == win.recipients[0].tax_code == "0100109106"
    assert [p.code for p in win.converted] == ["cp1258_converted"]


@pytest.mark.parametrize("content,fragment", [
    (b"PK\x03\x04 not really a zip", "không đọc được tệp Excel"),
    (b"", "tệp rỗng"),
    (b"\x00\x01\x02garbage,,,\n\x03", "không tìm thấy dòng tiêu đề"),
])
def test_unusable_files_name_the_file_and_the_fix(tmp_path, content, fragment):
    suffix = ".xlsx" if content.startswith(b"PK") else ".csv"
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(UserError) as caught:
        load_list(path, "employers")
    assert str(path) in caught.value.message and fragment in caught.value.message and "Cách sửa" in caught.value.message


def test_missing_required_column_is_unusable(tmp_path):
    header = ["STT", "Tên đơn vị", "Email"]
    path = write_xlsx_list(tmp_path / "a.xlsx", [["1", "Công ty A", "a@example.vn"]], header=header)
    with pytest.raises(UserError, match="thiếu cột bắt buộc 'Mã', 'Địa chỉ'"):
        load_list(path, "employers")


def test_tax_code_checksum():
    assert tax_code_valid("0100109106") and tax_code_valid("0100109106-001")
    assert not tax_code_valid("0100109107") and not tax_code_valid("010010910") and not tax_code_valid("01001091060")


cell_values = st.one_of(st.none(), st.text(max_size=30), st.integers(-10**12, 10**12),
                        st.floats(allow_nan=True, allow_infinity=False), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell_values, min_size=0, max_size=10), max_size=8), with_header=st.booleans())
def test_no_xlsx_input_crashes_the_reader(tmp_path, rows, with_header):
    clean = [[v if not isinstance(v, str) else "".join(ch for ch in v if ch.isprintable()) for v in row] for row in rows]
    path = write_xlsx_list(tmp_path / "fuzz.xlsx", clean, header=HEADER if with_header else ["x"], title=False)
    try:
        result = load_list(path, "employers")
    except UserError as error:
        assert error.message
    else:
        assert len(result.recipients) + len(result.rejected_rows) <= result.rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_no_csv_bytes_crash_the_reader(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\n" + data)
    try:
        load_list(path, "employers")
    except UserError as error:
        assert error.message


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outreach.cli", "--root", str(REPO), *args],
                          capture_output=True, text=True, cwd=REPO)


def test_cli_validate_exit_codes_and_json(tmp_path):
    sample = run_cli("validate", "--json")
    assert sample.returncode == 0, sample.stderr
    data = json.loads(sample.stdout)
    assert data["rows"] == data["valid"] >= 60 + 10 + 139 and data["rejected"] == 0
    assert set(data) == {"files", "rows", "valid", "rejected", "warnings", "converted", "problems"}

    broken = run_cli("validate", str(REPO / "recipients/examples/employers-loi.xlsx"), "--json")
    assert broken.returncode == 1
    codes = {(p["row"], p["code"]) for p in json.loads(broken.stdout)["problems"]}
    assert {(6, "name_missing"), (7, "code_lost_zeros"), (8, "email_invalid"), (9, "code_duplicate"),
            (10, "code_duplicate"), (11, "tax_code_invalid"), (13, "tcvn3_converted"), (14, "vni_converted"),
            (15, "nfd_converted")} <= codes

    missing = run_cli("validate", str(tmp_path / "khong-co.xlsx"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr and "khong-co.xlsx" in missing.stderr


def test_xlsx_report_is_vietnamese(tmp_path):
    result = load_list(REPO / "recipients/examples/employers-loi.xlsx", "employers")
    write_xlsx(ValidationSummary((result,)), tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Kết quả kiểm tra"]
    assert [c.value for c in sheet[1]] == ["Tệp", "Dòng", "Cột", "Giá trị", "Mức độ", "Vấn đề", "Cách sửa"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert any(r[1] == 6 and r[4] == "Lỗi (loại dòng)" and "Thiếu tên" in r[5] for r in rows)
