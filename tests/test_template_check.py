"""`template check` refuses what would fail every build: a letter naming no recipient field, fonts a
letter cannot be made with; and it speaks of fields in Vietnamese with the tag to copy."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE

from outreach.cli import main
from outreach.letters import TEMPLATE_VARIABLES, check_template, write_skeleton
from factories import copy_sample_office

ENGLISH_FIELDS = re.compile(r"dùng một trong: (address|code|name)\b|TEN_COT")


def plain_word_letter(path: Path) -> Path:
    """The leadership's letter as Word saves it: no tag, the theme's font (python-docx: Cambria)."""
    document = docx.Document()
    document.add_paragraph("Kính gửi: Các đơn vị sử dụng lao động trên địa bàn tỉnh.")
    document.add_paragraph("Bảo hiểm xã hội tỉnh Khánh Hòa đề nghị Quý đơn vị nộp đủ tiền BHXH.")
    document.save(path)
    return path


def with_body(tmp_path: Path, *body: str) -> Path:
    path = tmp_path / "mau.docx"
    write_skeleton(path, list(body))
    return path


def test_a_letter_without_a_recipient_field_in_the_wrong_font_is_refused(tmp_path):
    issues = check_template(plain_word_letter(tmp_path / "thu.docx"), TEMPLATE_VARIABLES)
    kinds = {issue.kind: issue for issue in issues}
    assert set(kinds) == {"no_recipient", "font"} and all(issue.blocking for issue in issues)
    missing = kinds["no_recipient"].message
    assert "không có trường nào của người nhận" in missing and "{{ recipient.salutation }}" in missing
    assert "Tên đơn vị, tổ chức hoặc xã/phường/thị trấn nhận thư {{ recipient.name }}" in missing
    assert "Địa chỉ {{ recipient.address }}" in missing
    font = kinds["font"]
    assert "«Cambria»" in font.message and "Times New Roman" in font.message and "Cách sửa" in font.message
    assert font.location == "đoạn 1: «Kính gửi: Các đơn vị sử dụng lao động trên địa bàn tỉnh.»"
    assert not ENGLISH_FIELDS.search(missing)


def test_an_appendix_names_no_recipient_and_passes(tmp_path):
    path = with_body(tmp_path, "Hướng dẫn cài đặt VssID.")
    document = docx.Document(path)
    for paragraph in document.paragraphs:
        if "recipient" in paragraph.text:
            for run in paragraph.runs:
                run.text = run.text.replace("{{ recipient.salutation }}", "các đơn vị")
    document.save(path)
    assert check_template(path, TEMPLATE_VARIABLES, letter=False) == []
    assert [issue.kind for issue in check_template(path, TEMPLATE_VARIABLES)] == ["no_recipient"]


def test_a_run_in_another_font_is_named_with_its_paragraph(tmp_path):
    path = with_body(tmp_path, "Đoạn thường.", "Đoạn viết bằng Arial.")
    document = docx.Document(path)
    target = next(p for p in document.paragraphs if p.text == "Đoạn viết bằng Arial.")
    target.runs[0].font.name = "Arial"
    document.save(path)
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert issue.kind == "font" and "«Arial»" in issue.message and "Đoạn viết bằng Arial." in issue.location


def test_fonts_come_through_the_styles_in_use_only(tmp_path):
    path = with_body(tmp_path, "Tiêu đề mục.", "Nội dung.")
    document = docx.Document(path)
    unused = document.styles.add_style("Kieu khong dung", WD_STYLE_TYPE.PARAGRAPH)
    unused.font.name = "Courier New"
    heading = document.styles.add_style("Tieu de muc", WD_STYLE_TYPE.PARAGRAPH)
    heading.font.name = "Arial"
    paragraph = next(p for p in document.paragraphs if p.text == "Tiêu đề mục.")
    paragraph.style = heading
    for run in paragraph.runs:  # the skeleton names the font on each run; this one leaves it to the style
        run.font.name = None
    document.save(path)
    [issue] = check_template(path, TEMPLATE_VARIABLES)
    assert "«Arial»" in issue.message and "Tiêu đề mục." in issue.location  # Courier New is in no text


def test_a_wrong_field_lists_the_fields_in_vietnamese_with_their_tags(tmp_path):
    path = with_body(tmp_path, "Số tiền: {{ recipient.so_tien }}; {{ recipient.extra['Số tiền nợ'] }}.")
    issues = check_template(path, [*TEMPLATE_VARIABLES, "recipient.extra.Số lao động"])
    wrong, column = sorted(issues, key=lambda issue: issue.message)
    assert "«recipient.so_tien»: người nhận không có thuộc tính «so_tien»" in column.message + wrong.message
    messages = wrong.message + column.message
    assert "cột «Số lao động» của danh sách {{ recipient.extra['Số lao động'] }}" in messages
    assert "dùng một cột có sẵn: «Số lao động»" in messages
    assert not ENGLISH_FIELDS.search(messages)


def test_cli_template_check_fails_the_plain_word_letter(tmp_path, capsys):
    office = copy_sample_office(tmp_path)
    path = plain_word_letter(office / "templates" / "thu-lanh-dao.docx")
    assert main(["--root", str(office), "template", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Mẫu dùng được" not in out and "không có trường nào của người nhận" in out and "«Cambria»" in out
    assert "2 vấn đề cần sửa" in out
    appendix = office / "templates" / "phu-luc-1-vssid.docx"
    assert main(["--root", str(office), "template", "check", str(appendix)]) == 0
    assert "Mẫu dùng được." in capsys.readouterr().out


@pytest.mark.parametrize("name", ["cong-van-vssid.docx", "thu-nhac-dao-han.docx"])
def test_shipped_letters_pass(name):
    assert check_template(Path(__file__).resolve().parent.parent / "templates" / name,
                          [*TEMPLATE_VARIABLES, "recipient.extra.Số lao động"]) == []


def test_cli_template_check_of_the_participants_letter_fills_it_for_their_rows(tmp_path, capsys):
    office = copy_sample_office(tmp_path)
    # No made-up participant: a payment needs a real row, so the list's rows are the samples.
    assert main(["--root", str(office), "template", "check", str(office / "templates" / "thu-nhac-dao-han.docx"),
                 "--campaign", "nhac-dao-han"]) == 0
    out = capsys.readouterr().out
    assert "Mẫu dùng được." in out and "Đã thử điền" in out
