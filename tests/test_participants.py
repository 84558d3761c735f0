"""Lists of voluntary-insurance participants: read like the other lists, checked against the law in force."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font

from outreach.config import load_config
from outreach.errors import UserError
from outreach.payment.contribution import Month
from outreach.recipients import guess_kind, load_list
from outreach.recipients.routing import Route, check_coverage, payment_account, route
from outreach.text.vntext import unicode_to_tcvn3, unicode_to_vni

REPO = Path(__file__).resolve().parent.parent
HEADER = ["STT", "HỌ VÀ TÊN", "Mã BHXH", "Số CCCD", "Điện thoại", "Thư điện tử", "Địa chỉ", "Xã, phường", "Phương thức",
          "Mức thu nhập", "Đến tháng", "Nhóm hỗ trợ", "Đại lý thu", "Nơi quản lý"]
GOOD = ["1", "Nguyễn Thị Lan", "", "056183004521", "0905 111 201", "lan@thu.example.vn",
        "Tổ 5, Phường Vĩnh Hòa, Thành phố Nha Trang", "Phường Vĩnh Hòa", "12 tháng", 1_500_000, "12/2026", "", "",
        "BHXH thành phố Nha Trang"]
TODAY = dt.date(2026, 12, 1)


def row(**changes) -> list:
    values = list(GOOD)
    for header, value in changes.items():
        values[HEADER.index(header.replace("_", " "))] = value
    return values


def write(path: Path, rows: list[list], fonts: dict[tuple[int, int], str] | None = None) -> Path:
    """An office sheet: two title rows (merged), a blank row, the header on row 4, data from row 5."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["DANH SÁCH NGƯỜI THAM GIA BHXH TỰ NGUYỆN SẮP ĐẾN HẠN ĐÓNG"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(["(Tháng 12 năm 2026)"])
    sheet.append([])
    sheet.append(HEADER)
    for values in rows:
        sheet.append(values)
    for (r, c), font in (fonts or {}).items():
        sheet.cell(row=5 + r, column=c + 1).font = Font(name=font)
    workbook.save(path)
    return path


def problems_of(result, excel_row: int) -> dict[str, str]:
    return {p.code: p.severity for p in result.problems if p.row == excel_row}


def test_title_rows_aliases_and_codes_as_text(tmp_path):
    path = write(tmp_path / "p.xlsx", [GOOD, row(STT="2", Mã_BHXH="5603456789", Số_CCCD="", HỌ_VÀ_TÊN="Phạm Minh Tuấn",
                                                  Mức_thu_nhập="2.500.000 đ", Phương_thức="Hằng tháng",
                                                  Đến_tháng=dt.datetime(2027, 1, 1), Thư_điện_tử="tuan@thu.example.vn")])
    assert guess_kind(path) == "participants"
    result = load_list(path, "participants")
    assert result.rejected_rows == () and len(result.recipients) == 2
    lan, tuan = result.recipients
    assert (lan.code, lan.salutation, lan.source_row) == ("056183004521", "Ông/Bà Nguyễn Thị Lan", 5)
    assert lan.participation.personal_id == "056183004521" and lan.participation.commune == "Phường Vĩnh Hòa"
    assert lan.commune_code == "22327" and lan.phone == "+84905111201"
    assert (lan.participation.mode_months, lan.participation.income, lan.participation.paid_until) == (12, 1_500_000, Month(2026, 12))
    assert tuan.code == "5603456789" and tuan.masked_code == "******6789"
    assert (tuan.participation.mode_months, tuan.participation.income, tuan.participation.paid_until) == (1, 2_500_000, Month(2027, 1))
    assert lan.masked_code == "********4521"


def test_legacy_fonts_and_nfd_are_repaired_and_reported(tmp_path):
    rows = [row(HỌ_VÀ_TÊN=unicode_to_tcvn3("Trần Văn Hùng")),
            row(STT="2", Số_CCCD="056190008765", HỌ_VÀ_TÊN=unicode_to_vni("Lê Thị Hồng Nhung"), Thư_điện_tử="nhung@thu.example.vn"),
            row(STT="3", Số_CCCD="056068009988", HỌ_VÀ_TÊN=unicodedata.normalize("NFD", "Huỳnh Văn Lợi"),
                Thư_điện_tử="loi@thu.example.vn", Đại_lý_thu=unicode_to_tcvn3("Bưu điện huyện Cam Lâm"))]
    result = load_list(write(tmp_path / "p.xlsx", rows, fonts={(0, 1): ".VnTime", (1, 1): "VNI-Times", (2, 12): ".VnTime"}),
                       "participants")
    names = [r.name for r in result.recipients]
    assert names == ["Trần Văn Hùng", "Lê Thị Hồng Nhung", "Huỳnh Văn Lợi"]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    assert result.recipients[2].participation.collector == "Bưu điện huyện Cam Lâm"
    assert problems_of(result, 5)["tcvn3_converted"] == "converted"
    assert problems_of(result, 6)["vni_converted"] == "converted"
    assert {"nfd_converted", "tcvn3_converted"} <= set(problems_of(result, 7))


@pytest.mark.parametrize("changes, code, column", [
    ({"Số_CCCD": "05618300452"}, "person_id_invalid", "Số CCCD"),           # 11 digits
    ({"Số_CCCD": 56183004521}, "person_id_lost_zeros", "Số CCCD"),          # typed as a number: the 0 is gone
    ({"Số_CCCD": "", "Mã_BHXH": ""}, "person_id_missing", "Số CCCD"),
    ({"Phương_thức": "2 năm một lần"}, "payment_mode_invalid", "Phương thức"),
    ({"Mức_thu_nhập": "1,5 triệu"}, "income_invalid", "Mức thu nhập"),
    ({"Đến_tháng": "13/2026"}, "paid_until_invalid", "Đến tháng"),
    ({"Đến_tháng": ""}, "paid_until_invalid", "Đến tháng"),
    ({"Xã,_phường": "Phường Bắc Nha Trang"}, "commune_unknown", "Xã, phường"),
    ({"Thư_điện_tử": "", "Địa_chỉ": ""}, "address_missing", "Địa chỉ"),
])
def test_each_row_error_names_its_column_and_the_fix(tmp_path, changes, code, column):
    result = load_list(write(tmp_path / "p.xlsx", [row(**changes)]), "participants")
    (problem,) = [p for p in result.problems if p.code == code]
    assert (problem.row, problem.column, problem.severity) == (5, column, "error")
    assert "Cách sửa:" in problem.message and result.rejected_rows == (5,)


def test_duplicate_ids_reject_both_rows(tmp_path):
    result = load_list(write(tmp_path / "p.xlsx", [GOOD, row(STT="2", HỌ_VÀ_TÊN="Nguyễn Thị Lan (trùng)")]), "participants")
    assert result.rejected_rows == (5, 6)
    messages = [p.message for p in result.problems if p.code == "code_duplicate"]
    assert "dòng 6" in messages[0] and "mỗi người chỉ có một dòng" in messages[0]


def test_a_list_without_any_id_column_is_unusable(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Họ và tên", "Phương thức đóng", "Mức thu nhập", "Đóng đến tháng"])
    workbook.active.append(["Nguyễn Thị Lan", "12", 1_500_000, "12/2026"])
    workbook.save(tmp_path / "p.xlsx")
    with pytest.raises(UserError, match="'Số định danh cá nhân' hoặc 'Mã số BHXH'"):
        load_list(tmp_path / "p.xlsx", "participants")


def test_other_lists_keep_participant_headers_as_extra_columns(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Mã đơn vị", "Tên đơn vị", "Địa chỉ", "Đơn vị thu"])
    workbook.active.append(["TZH490L", "Công ty TNHH Hải Vương", "12 Trần Phú, Nha Trang", "Bưu điện"])
    workbook.save(tmp_path / "e.xlsx")
    (employer,) = load_list(tmp_path / "e.xlsx", "employers").recipients
    assert dict(employer.extra) == {"Đơn vị thu": "Bưu điện"} and employer.participation is None


@pytest.mark.parametrize("changes, code, severity, fragment", [
    ({"Mức_thu_nhập": 1_400_000}, "payment_invalid", "error", "thấp hơn mức tối thiểu 1.500.000 đồng"),
    ({"Mức_thu_nhập": 50_000_000}, "payment_invalid", "error", "cao hơn mức tối đa 46.800.000 đồng"),
    ({"Nhóm_hỗ_trợ": "Người cao tuổi"}, "payment_invalid", "error", "Nhóm hỗ trợ 'nguoi_cao_tuoi'"),
    ({"Phương_thức": "2 tháng"}, "payment_invalid", "error", "phương thức đóng 2 tháng"),
    ({"Đến_tháng": "10/2026"}, "paid_until_past", "warning", "đóng hết từ tháng 10/2026"),
    ({"Đến_tháng": "10/2026", "Phương_thức": "1"}, "payment_deadline_past", "warning", "quá hạn nộp tiền kỳ 11/2026–11/2026"),
])
def test_the_law_in_force_checks_income_groups_and_dates(tmp_path, changes, code, severity, fragment):
    config = load_config(REPO)
    result = check_coverage(config, load_list(write(tmp_path / "p.xlsx", [row(**changes)]), "participants"), today=TODAY)
    (problem,) = [p for p in result.problems if p.code == code]
    assert (problem.row, problem.severity) == (5, severity) and fragment in problem.message
    assert "Cách sửa:" in problem.message
    assert result.rejected_rows == ((5,) if severity == "error" else ())


def test_routing_and_accounts_follow_the_managing_office(tmp_path):
    config = load_config(REPO)
    rows = [GOOD, row(STT="2", Số_CCCD="056075012345", Nơi_quản_lý="BHXH huyện Cam Lâm", Thư_điện_tử="h@thu.example.vn"),
            row(STT="3", Số_CCCD="056190008765", Nơi_quản_lý="BHXH thành phố Cam Ranh", Thư_điện_tử="n@thu.example.vn"),
            row(STT="4", Số_CCCD="056060001122", Nơi_quản_lý="", Thư_điện_tử="t@thu.example.vn")]
    nha_trang, cam_lam, cam_ranh, province = load_list(write(tmp_path / "p.xlsx", rows), "participants").recipients
    assert route(config, nha_trang) == Route(sender="TTPT", cc=())
    assert route(config, cam_lam) == Route(sender="CLA", cc=())  # its district office sends to its own participants
    assert payment_account(config, nha_trang).holder == "Bảo hiểm xã hội thành phố Nha Trang"
    assert payment_account(config, cam_lam).bank_bin == "970405"
    assert payment_account(config, cam_ranh) == payment_account(config, province) == config.voluntary.account


def test_the_sample_list_is_valid():
    result = check_coverage(load_config(REPO), load_list(REPO / "recipients/participants.xlsx", "participants"), today=TODAY)
    assert result.rejected_rows == () and len(result.recipients) == 12
    assert {p.code for p in result.problems} == {"email_missing"}
