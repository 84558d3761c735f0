"""Numbers, amounts and dates in letters the Vietnamese way: the formatting filters, and a list's
Excel cell reaching the letter as Excel shows it (its own number format) when the template asks for
nothing else. Real workbooks written by openpyxl, read by the list reader, rendered by the real
DOCX template path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from outreach.config import load_config
from outreach.letters import LetterError, LetterTemplate, build_context, write_skeleton
from outreach.recipients import load_list
from outreach.text import excel_display, format_day, format_money, format_number, read_number

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def config():
    return load_config(REPO)


def workbook(path: Path) -> Path:
    """An employers list as an office keeps it: a title row, then the header, then formatted cells."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH ĐƠN VỊ NỢ BHXH"])
    sheet.append(["Mã đơn vị", "Tên đơn vị", "Địa chỉ", "Email", "Số tiền nợ", "Tỷ lệ", "Hạn nộp", "Số lao động",
                  "Lãi suất"])
    rows = [
        ["TA1234X", "Công ty TNHH Hải Đăng", "12 Trần Phú, Nha Trang", "ketoan@haidang.vn", 24800000, 0.125,
         dt.datetime(2023, 1, 5), 1234567, 1234.5],
        ["TB5678Y", "Công ty CP Biển Xanh", "3 Lê Thánh Tôn, Nha Trang", "ketoan@bienxanh.vn", 1500000.0, 1,
         dt.datetime(2023, 12, 31), 12, 0.5],
    ]
    for values in rows:
        sheet.append(values)
    for row in (3, 4):
        sheet.cell(row, 5).number_format = "#,##0"
        sheet.cell(row, 6).number_format = "0.0%"
        sheet.cell(row, 7).number_format = "dd/mm/yyyy"
        # H stays General: Excel shows 1234567 without grouping, and so does the letter
        sheet.cell(row, 9).number_format = "#,##0.00"
    book.save(path)
    return path


@pytest.fixture(scope="module")
def employers(tmp_path_factory):
    path = workbook(tmp_path_factory.mktemp("list") / "employers.xlsx")
    return {r.code: r for r in load_list(path, "employers").recipients}


def test_a_cell_reads_as_its_excel_format_shows_it(employers):
    extra = employers["TA1234X"].extra
    assert extra["Số tiền nợ"] == "24.800.000"  # #,##0, not 24800000
    assert extra["Tỷ lệ"] == "12,5%"
    assert extra["Hạn nộp"] == "05/01/2023"  # not 2023-01-05 00:00:00
    assert extra["Số lao động"] == "1234567"  # General: as Excel shows it
    assert extra["Lãi suất"] == "1.234,50"
    assert employers["TB5678Y"].extra["Số tiền nợ"] == "1.500.000"
    assert employers["TB5678Y"].extra["Lãi suất"] == "0,50"


def render(config, tmp_path: Path, recipient, *paragraphs: str) -> list[str]:
    template = tmp_path / "mau.docx"
    write_skeleton(template, list(paragraphs))
    campaign = config.campaign("vssid-2022")
    data = LetterTemplate(template).render(build_context(config, campaign, recipient, 5, dt.date(2023, 1, 5)))
    out = tmp_path / "thu.docx"
    out.write_bytes(data)
    return [p.text for p in docx.Document(out).paragraphs]


def test_filters_and_cell_formats_in_a_rendered_letter(config, employers, tmp_path):
    texts = render(config, tmp_path, employers["TA1234X"],
                   "Số tiền nợ: {{ recipient.extra['Số tiền nợ'] }} đồng.",
                   "Bằng chữ số: {{ recipient.extra['Số tiền nợ']|tien }}.",
                   "Số lao động: {{ recipient.extra['Số lao động']|con_so }} người.",
                   "Lãi: {{ recipient.extra['Lãi suất']|con_so(1) }}.",
                   "Hạn nộp: {{ recipient.extra['Hạn nộp']|ngay }}.",
                   "Tổng: {{ 2480000|tien }}; ngày {{ '2023-01-05'|ngay }}.")
    assert "Số tiền nợ: 24.800.000 đồng." in texts
    assert "Bằng chữ số: 24.800.000 đồng." in texts
    assert "Số lao động: 1.234.567 người." in texts
    assert "Lãi: 1.234,5." in texts
    assert "Hạn nộp: 05/01/2023." in texts
    assert "Tổng: 2.480.000 đồng; ngày 05/01/2023." in texts


def test_a_filter_given_what_it_cannot_format_stops_the_letter_in_vietnamese(config, employers, tmp_path):
    with pytest.raises(LetterError) as caught:
        render(config, tmp_path, employers["TA1234X"], "Số tiền: {{ recipient.name|tien }}.")
    message = caught.value.message
    assert "bộ lọc «tien» cần một số nhưng giá trị là «Công ty TNHH Hải Đăng»" in message
    assert "Cách sửa" in message and "Số tiền: {{ recipient.name|tien }}" in message
    with pytest.raises(LetterError, match="bộ lọc «ngay» cần một ngày"):
        render(config, tmp_path, employers["TA1234X"], "{{ recipient.extra['Số tiền nợ']|ngay }}")


@pytest.mark.parametrize("value, expected", [
    (24800000, "24.800.000"), (1234567, "1.234.567"), (2.5, "2,5"), (-1000, "-1.000"), (0, "0"),
    (Decimal("1234.50"), "1.234,5"),
])
def test_format_number(value, expected):
    assert format_number(value) == expected


def test_money_day_and_reading_back():
    assert format_money(24800000) == "24.800.000 đồng"
    assert format_number(1234.567, 2) == "1.234,57"
    assert format_day(dt.date(2023, 1, 5)) == "05/01/2023"
    assert read_number("24.800.000 đồng") == 24800000 and read_number("2,5") == Decimal("2.5")
    with pytest.raises(ValueError):
        read_number("1.5")  # not how Vietnamese writes a number: refused, never guessed


@pytest.mark.parametrize("value, number_format, shown", [
    (24800000, "#,##0", "24.800.000"),
    (24800000, '#,##0 "đ"', "24.800.000 đ"),
    (24800000, "#,##0 [$₫-42A]", "24.800.000 ₫"),
    (24800000, "_-* #,##0\\ _₫_-;\\-* #,##0\\ _₫_-;_-* \"-\"\\ _₫_-;_-@_-", "24.800.000"),
    (1234567, "#,##0,", "1.235"),
    (0.3 + 0.6, "General", "0,9"),
    (7, "00", "07"),
])
def test_excel_display(value, number_format, shown):
    assert excel_display(value, number_format) == shown
