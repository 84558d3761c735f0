"""Decree-30 (Mẫu 1.5) công văn and appendix documents, written with python-docx.

One layout serves both the blank skeleton of ``outreach template new`` and the shipped templates
(``tools/make_templates.py`` passes the reference letter's text), so there is one layout to keep
right. Header, footer, number and date are docxtpl placeholders filled per letter.

Body paragraphs are plain text with light markup: ``**bold**``, ``*italic*`` and ``<https://…>``
(a clickable link, printed as its address). A line holding a docxtpl paragraph tag
(``{%p if … %}``) becomes a paragraph of its own, which docxtpl removes when it renders. A line
starting with ``|`` is centred, without the first-line indent (e.g. a picture's tag, ``|{{ payment.qr }}``).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
PAGE_MM = (210, 297)  # A4 portrait
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]
BODY_STYLE = "Body Text"  # a built-in style, so text staff add in Word keeps the Decree-30 format
BODY_SIZE = 14

# Header table columns: the issuer (12 pt bold, ≈ 78 mm for "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA") and
# the national title (12 pt bold, ≈ 88 mm) each fit on one line; the table reaches 3 mm into the
# left margin and 2 mm into the right one, as the Mẫu 1.5 header usually does.
HEADER_COLUMNS_MM = (80, 90)
HEADER_INDENT_MM = -3
FOOTER_COLUMNS_MM = (85, TEXT_WIDTH_MM - 85)
ISSUER_RULE_MM = 30  # 1/3–1/2 of a typical issuer name; the name itself is a placeholder
MOTTO = "Độc lập - Tự do - Hạnh phúc"
MOTTO_WIDTH_MM = 56  # the motto at 13 pt bold, measured with Liberation Serif (metric-compatible)

PLACEHOLDER_BODY = (
    "[Lý do, căn cứ ban hành công văn.]",
    "[Nội dung chính: việc cần làm, thời hạn, đầu mối liên hệ.]",
    "[Đề nghị đơn vị, cá nhân phối hợp thực hiện.]./.",
)

_MARKUP = re.compile(r"\*\*(?P<bold>.+?)\*\*|\*(?P<italic>[^*]+?)\*|<(?P<url>https?://[^>\s]+)>")


def write_skeleton(path: Path, body: Sequence[str] | None = None) -> None:
    """A công văn template: Decree-30 header, ``Kính gửi:`` one recipient, ``body``, Nơi nhận and signer.

    The Nơi nhận block is ``- Như trên;``, then one ``- …;`` line for each of the campaign's copy
    recipients (the variable ``noi_nhan``), then ``- Lưu: VT, …``: what it prints is who gets the
    letter. Without ``body`` the paragraphs are placeholders to overwrite.
    """
    document = _new_document()
    _letter_header(document)
    kinh_gui = _paragraph(document.add_paragraph(), align=WD_ALIGN_PARAGRAPH.CENTER, before=18, after=12)
    _add_text(kinh_gui, "Kính gửi: {{ recipient.salutation }}", BODY_SIZE)
    _body(document, body or PLACEHOLDER_BODY)
    document.paragraphs[-1].paragraph_format.keep_with_next = True  # never a signature page without text
    _letter_footer(document)
    _save(document, path)


def write_appendix(path: Path, heading: str, title: str, body: Sequence[str]) -> None:
    """A guidance appendix (``Phụ lục 1``) attached to the letter, headed with the letter's number and date."""
    document = _new_document()
    for text, bold, italic in (
        (heading, True, False),
        (title, True, False),
        ("(Kèm theo Công văn số {{ so_ky_hieu }} {{ ngay_thang }} của {{ ten_co_quan }})", False, True),
    ):
        paragraph = _paragraph(document.add_paragraph(), align=WD_ALIGN_PARAGRAPH.CENTER)
        _add_text(paragraph, text, BODY_SIZE, bold=bold, italic=italic)
    _rule(document.add_paragraph(), length_mm=40, column_mm=TEXT_WIDTH_MM, after=12)
    _body(document, body)
    _save(document, path)


# --- document ------------------------------------------------------------------------------

def _new_document() -> DocxDocument:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side, millimetres in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(millimetres))
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    _set_default_font(document)
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_SIZE)
    _set_fonts(normal.element.get_or_add_rPr())
    _paragraph_format(normal.paragraph_format, before=0, after=0, line=1.0)
    body = document.styles[BODY_STYLE]
    body.font.size = Pt(BODY_SIZE)
    # Single spacing, the usual setting of provincial công văn (Decree 30 allows single to 1.5 lines):
    # the reference letter takes 5 pages instead of 6 at 1.15, which also means fewer pages to convert.
    _paragraph_format(body.paragraph_format, align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=0, after=6, line=1.0)
    body.paragraph_format.first_line_indent = Cm(1.27)
    _page_numbers(section)
    properties = document.core_properties
    properties.author = properties.last_modified_by = properties.comments = ""
    properties.title = "Công văn"
    return document


def _set_default_font(document: DocxDocument) -> None:
    """Times New Roman for every script and Vietnamese proofing, in the document defaults themselves."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr)
    for lang in rpr.findall(qn("w:lang")):
        rpr.remove(lang)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.append(lang)


def _set_fonts(rpr) -> None:
    """Name the font for all four slots and drop theme fonts, which would override the names."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{slot}"), FONT)


def _page_numbers(section) -> None:
    """Arabic page number centred in the top margin from page 2 on; page 1 has an empty header."""
    section.different_first_page_header_footer = True
    first = section.first_page_header.paragraphs[0]
    first.text = ""
    paragraph = _paragraph(section.header.paragraphs[0], align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph.text = ""
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        run = _run(paragraph, 13)
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = text
            run._r.append(instruction)
        else:
            run.text = text  # the cached result, shown until the viewer updates the field


def _save(document: DocxDocument, path: Path) -> None:
    _drop_unused_styles(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stable_bytes(document))


def stable_bytes(document: DocxDocument) -> bytes:
    """The .docx with fixed zip timestamps: made again from the same content, the same bytes."""
    buffer, out = io.BytesIO(), io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)),
                            source.read(info.filename), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _drop_unused_styles(document: DocxDocument) -> None:
    """Keep only the styles the document uses, the defaults, and the styles those build on.

    python-docx starts from Word's blank document, whose 164 style definitions are 350 KB of XML
    that every letter would carry and LibreOffice would read for every file it converts (loading
    one letter: 0.08 → 0.05 s).  Word adds a built-in style's definition again when staff use it."""
    styles = document.styles.element
    by_id = {style.get(qn("w:styleId")): style for style in styles.iterchildren(qn("w:style"))}
    wanted = [style_id for style_id, style in by_id.items() if style.get(qn("w:default")) in ("1", "true", "on")]
    for part in document.part.package.iter_parts():
        if isinstance(part, XmlPart) and part.element is not styles:
            wanted += part.element.xpath(
                "//w:pStyle/@w:val | //w:rStyle/@w:val | //w:tblStyle/@w:val"
                " | //w:numStyleLink/@w:val | //w:styleLink/@w:val")
    kept: set[str] = set()
    while wanted:
        style_id = wanted.pop()
        if style_id in by_id and style_id not in kept:
            kept.add(style_id)
            wanted += by_id[style_id].xpath("w:basedOn/@w:val | w:next/@w:val | w:link/@w:val")
    for style_id, style in by_id.items():
        if style_id not in kept:
            styles.remove(style)


# --- header and footer ---------------------------------------------------------------------

def _letter_header(document: DocxDocument) -> None:
    table = _borderless_table(document, 2, HEADER_COLUMNS_MM, HEADER_INDENT_MM)
    left, right = table.cell(0, 0), table.cell(0, 1)
    _cell_line(left, "{{ agency.parent_body }}", 12, caps=True, first=True)
    _cell_line(left, "{{ agency.issuing_body }}", 12, bold=True, caps=True)
    _rule(left.add_paragraph(), ISSUER_RULE_MM, HEADER_COLUMNS_MM[0])
    _cell_line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True, first=True)
    _cell_line(right, MOTTO, 13, bold=True)
    _rule(right.add_paragraph(), MOTTO_WIDTH_MM, HEADER_COLUMNS_MM[1])
    left, right = table.cell(1, 0), table.cell(1, 1)
    _cell_line(left, "Số: {{ so_ky_hieu }}", 13, first=True, before=6)
    _cell_line(left, "V/v {{ campaign.subject }}", 12, before=6)
    _cell_line(right, "{{ dia_danh_ngay }}", 14, italic=True, first=True, before=6)


def _letter_footer(document: DocxDocument) -> None:
    table = _borderless_table(document, 1, FOOTER_COLUMNS_MM, 0)
    _cant_split(table.rows[0])
    left, right = table.cell(0, 0), table.cell(0, 1)
    _cell_line(left, "Nơi nhận:", 12, bold=True, italic=True, first=True, before=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in ("- Như trên;", "{%p for nhan in noi_nhan %}", "- {{ nhan }};", "{%p endfor %}",
                 "- Lưu: VT, {{ ky_hieu_phong }}."):
        _cell_line(left, line, 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell_line(right, "{{ signer.authority }}", 14, bold=True, caps=True, first=True, before=12)
    _cell_line(right, "{{ signer.title }}", 14, bold=True, caps=True)
    _cell_line(right, "{{ signer.name }}", 14, bold=True, before=84)  # room for signature and seal


def _borderless_table(document: DocxDocument, rows: int, widths_mm: Sequence[int], indent_mm: int):
    table = document.add_table(rows=rows, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    properties = table._tbl.tblPr
    for tag, attributes in (
        ("w:tblW", {"w:w": str(_twips(sum(widths_mm))), "w:type": "dxa"}),
        ("w:tblInd", {"w:w": str(_twips(indent_mm)), "w:type": "dxa"}),
    ):
        element = properties.find(qn(tag))
        if element is None:
            element = OxmlElement(tag)
            properties.append(element)
        for key, value in attributes.items():
            element.set(qn(key), value)
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        border = OxmlElement(f"w:{side}")
        border.set(qn("w:val"), "nil")
        borders.append(border)
    properties.append(borders)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    properties.append(layout)
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "0")
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    properties.append(margins)
    for column, width in zip(table.columns, widths_mm):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)
    return table


def _cant_split(row) -> None:
    row_properties = row._tr.get_or_add_trPr()
    row_properties.append(OxmlElement("w:cantSplit"))


def _cell_line(cell: _Cell, text: str, size: int, *, bold: bool = False, italic: bool = False, caps: bool = False,
               first: bool = False, before: int = 0, align=WD_ALIGN_PARAGRAPH.CENTER) -> Paragraph:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    _paragraph(paragraph, align=align, before=before)
    _add_text(paragraph, text, size, bold=bold, italic=italic, caps=caps)
    return paragraph


def _rule(paragraph: Paragraph, length_mm: float, column_mm: float, after: int = 0) -> None:
    """A solid line ``length_mm`` long, centred: the bottom border of an empty, indented paragraph."""
    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    properties.append(borders)  # before spacing/ind/jc, which python-docx inserts in schema order
    _paragraph(paragraph, align=WD_ALIGN_PARAGRAPH.CENTER, before=3, after=after)
    mark = OxmlElement("w:rPr")  # a 1 pt paragraph mark keeps the empty line thin without clipping it
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "2")
    mark.append(size)
    properties.append(mark)
    side = Mm(max(column_mm - length_mm, 0) / 2)
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = side


# --- paragraphs and runs -------------------------------------------------------------------

CENTRED = "|"


def _body(document: DocxDocument, lines: Sequence[str]) -> None:
    for line in lines:
        paragraph = document.add_paragraph(style=BODY_STYLE)
        if line.startswith(CENTRED):
            line = line[len(CENTRED):]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.first_line_indent = Cm(0)
        _add_text(paragraph, line, BODY_SIZE)


def _paragraph(paragraph: Paragraph, *, align=None, before: int = 0, after: int = 0) -> Paragraph:
    _paragraph_format(paragraph.paragraph_format, align=align, before=before, after=after)
    return paragraph


def _paragraph_format(fmt, *, align=None, before: int | None = None, after: int | None = None,
                      line: float | None = None) -> None:
    if align is not None:
        fmt.alignment = align
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if line is not None:
        fmt.line_spacing = line


def _add_text(paragraph: Paragraph, text: str, size: int, *, bold: bool = False, italic: bool = False,
              caps: bool = False) -> None:
    """Append ``text`` with its markup resolved; every run names its font and size explicitly."""
    position = 0
    for match in _MARKUP.finditer(text):
        if match.start() > position:
            _run(paragraph, size, text[position:match.start()], bold=bold, italic=italic, caps=caps)
        if match["url"]:
            _link(paragraph, match["url"], size)
        else:
            _run(paragraph, size, match["bold"] or match["italic"], bold=bold or bool(match["bold"]),
                 italic=italic or bool(match["italic"]), caps=caps)
        position = match.end()
    if position < len(text):
        _run(paragraph, size, text[position:], bold=bold, italic=italic, caps=caps)


def _run(paragraph: Paragraph, size: int, text: str = "", *, bold: bool = False, italic: bool = False,
         caps: bool = False):
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold or None
    run.font.italic = italic or None
    run.font.all_caps = caps or None
    _set_fonts(run._r.get_or_add_rPr())
    return run


def _link(paragraph: Paragraph, url: str, size: int) -> None:
    relationship = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), relationship)
    run = _run(paragraph, size, url)
    hyperlink.append(run._r)  # moves the run from the paragraph into the link
    paragraph._p.append(hyperlink)


def _twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)
