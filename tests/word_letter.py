"""The leadership's letter as staff type it in Word (written with python-docx): Mẫu 1.5's two borderless
tables, the reference letter's text, Times New Roman set on the styles and on every run, no tag."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

REFERENCE = Path("/work/shared/seed/cong-van-bhxh-khanh-hoa-2022.txt")
SUBJECT = ("đơn đốc tham gia BHXH tự nguyện, BHYT hộ gia đình; mở tài khoản cá nhân để giao dịch điện tử về "
           "BHXH, BHTN, BHYT; sử dụng Ứng dụng VssID - BHXH")
COPIES = ("UBND tỉnh (để báo cáo)", "Sở Y tế", "Báo Khánh Hòa")


def _times_everywhere(document) -> None:
    """What choosing Times New Roman for the whole document in Word does: every style's font, no theme font."""
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for element in (defaults, document.styles["Normal"].element.get_or_add_rPr()):
        if element.find(qn("w:rFonts")) is None:
            element.insert(0, OxmlElement("w:rFonts"))
    for fonts in document.styles.element.iter(qn("w:rFonts")):
        fonts.attrib.clear()
        fonts.set(qn("w:ascii"), "Times New Roman")
        fonts.set(qn("w:hAnsi"), "Times New Roman")
        fonts.set(qn("w:eastAsia"), "Times New Roman")
        fonts.set(qn("w:cs"), "Times New Roman")


def _line(container, text: str, size: int = 13, *, bold: bool = False, italic: bool = False, first: bool = False,
          center: bool = True):
    paragraph = container.paragraphs[0] if first else container.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for index, piece in enumerate(text.split("\n")):
        if index:
            paragraph.runs[-1].add_break()
        run = paragraph.add_run(piece)
        run.font.size, run.font.bold, run.font.italic = Pt(size), bold or None, italic or None
        run.font.name = "Times New Roman"
    return paragraph


def body_paragraphs(count: int = 6) -> list[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index("Nhằm thực hiện")
    return [block.strip() for block in text[start:].split("\n\n") if block.strip()][:count]


def word_letter(path: Path, *, addressees=("Các đơn vị sử dụng lao động do BHXH tỉnh quản lý;",
                                           "Các Tổ chức dịch vụ thu BHXH, BHYT;",
                                           "UBND các xã, phường, thị trấn."),
                number: str = "Số: 1234/BHXH-QLT", date: str = "Khánh Hòa, ngày 05 tháng 12 năm 2022",
                noi_nhan_in_one_paragraph: bool = False) -> Path:
    document = docx.Document()
    _times_everywhere(document)
    header = document.add_table(rows=2, cols=2)
    left, right = header.cell(0, 0), header.cell(0, 1)
    _line(left, "BẢO HIỂM XÃ HỘI VIỆT NAM", 12, first=True)
    _line(left, "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA", 12, bold=True)
    _line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True, first=True)
    _line(right, "Độc lập - Tự do - Hạnh phúc", 13, bold=True)
    left, right = header.cell(1, 0), header.cell(1, 1)
    _line(left, number, 13, first=True)
    half = SUBJECT.index("mở tài khoản")
    _line(left, "V/v " + SUBJECT[:half].strip(), 12)  # staff wrap the long V/v with Enter
    _line(left, SUBJECT[half:], 12)
    _line(right, date, 14, italic=True, first=True)
    if len(addressees) == 1:
        _line(document, f"Kính gửi: {addressees[0]}", 14)
    else:
        _line(document, "Kính gửi:", 14)
        for addressee in addressees:
            _line(document, f"- {addressee}", 14)
    for text in body_paragraphs():
        paragraph = _line(document, text, 14, center=False)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    footer = document.add_table(rows=1, cols=2)
    left, right = footer.cell(0, 0), footer.cell(0, 1)
    entries = [f"- {entry}" for entry in ("Như trên;", *(f"{copy};" for copy in COPIES), "Lưu: VT, QLT.")]
    if noi_nhan_in_one_paragraph:  # Shift+Enter after each line
        _line(left, "\n".join(["Nơi nhận:", *entries]), 11, first=True, center=False)
    else:
        _line(left, "Nơi nhận:", 12, bold=True, italic=True, first=True, center=False)
        for entry in entries:
            _line(left, entry, 11, center=False)
    _line(right, "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC", 14, bold=True, first=True)
    for _ in range(4):
        _line(right, "", 14)
    _line(right, "Lê Hùng Chính", 14, bold=True)
    document.save(path)
    return path
