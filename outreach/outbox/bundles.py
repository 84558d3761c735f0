"""Paper letters grouped for whoever hands them over, with a list sheet for each group.

A voluntary-insurance participant without e-mail gets their letter from the collection-service
organisation that collects from them, or else through their commune: their letters form one
bundle each, headed by a list sheet the person handing them over signs. Letters to offices and
organisations stay in one bundle without a sheet, as before: the post delivers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from ..convert import ConversionJob, PdfConverter
from ..errors import UserError
from ..recipients import Recipient
from ..text import fold_diacritics
from .manifest import Draft

NO_GROUP = "(chưa rõ tổ chức dịch vụ thu, xã/phường)"


@dataclass(frozen=True)
class PaperBundle:
    handed_by: str  # "Bưu điện huyện Cam Lâm", "Xã Vĩnh Lương"; "" for letters the post delivers
    drafts: tuple[Draft, ...]

    @property
    def has_sheet(self) -> bool:
        return bool(self.handed_by)


def handed_by(recipient: Recipient) -> str:
    """Who hands a paper letter over: a participant's collection organisation, else their commune."""
    participation = recipient.participation
    if participation is None:
        return ""
    return participation.collector or participation.commune or NO_GROUP


def paper_bundles(drafts: Sequence[Draft], recipients: Mapping[str, Recipient]) -> list[PaperBundle]:
    """The letters without e-mail in print order: the post's bundle first, then one per organisation or
    commune by name; within a bundle, the drafts' own order."""
    groups: dict[str, list[Draft]] = {}
    for draft in drafts:
        groups.setdefault(handed_by(recipients[draft.key]), []).append(draft)
    order = sorted(groups, key=lambda name: (name != "", name == NO_GROUP, fold_diacritics(name)))
    return [PaperBundle(name, tuple(groups[name])) for name in order]


def write_list_sheet(path: Path, bundle: PaperBundle, recipients: Mapping[str, Recipient], heading: str,
                     campaign_title: str, document_number: str) -> None:
    """One A4 sheet (or more) listing the bundle's letters, to sign when they are handed over. The IDs are
    masked: the sheet travels with the bundle, and the letters inside carry the IDs whole."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(20), Mm(15)
    section.top_margin = section.bottom_margin = Mm(15)
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(12)
    for text, size, bold in ((heading, 12, True), ("DANH SÁCH THƯ GIAO TẬN TAY", 14, True),
                             (f"{campaign_title} — công văn số {document_number.strip()}", 12, False),
                             (f"Nơi giao thư: {bundle.handed_by} — {len(bundle.drafts)} thư", 12, True)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.bold, run.font.size = bold, Pt(size)
    table = document.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, title in zip(table.rows[0].cells, ("STT", "Họ và tên", "Mã số", "Địa chỉ", "Ký nhận")):
        cell.paragraphs[0].add_run(title).bold = True
    for number, draft in enumerate(bundle.drafts, start=1):
        recipient = recipients[draft.key]
        for cell, value in zip(table.add_row().cells, (str(number), recipient.name, recipient.masked_code,
                                                       recipient.address or "(chưa có địa chỉ)", "")):
            cell.text = value
    table.autofit = False
    for column, width in zip(table.columns, (12, 42, 32, 59, 30)):
        column.width = Mm(width)  # the grid, which LibreOffice lays the table out by
        for cell in column.cells:
            cell.width = Mm(width)
    closing = document.add_paragraph()
    closing.paragraph_format.space_before = Pt(18)
    closing.add_run("Người giao thư ký, ghi rõ họ tên: ………………………    Ngày giao: ………………")
    document.save(str(path))


def list_sheet_pdfs(folder: Path, bundles: Sequence[PaperBundle], recipients: Mapping[str, Recipient],
                    converter: PdfConverter, heading: str, campaign_title: str, document_number: str) -> dict[str, Path]:
    """Each bundle's list sheet as a PDF in ``folder`` (``danh-sach-1.pdf``, …), by who hands it over."""
    jobs, sheets = [], {}
    for number, bundle in enumerate((b for b in bundles if b.has_sheet), start=1):
        docx = folder / f"danh-sach-{number}.docx"
        write_list_sheet(docx, bundle, recipients, heading, campaign_title, document_number)
        jobs.append(ConversionJob(bundle.handed_by, docx, docx.with_suffix(".pdf")))
        sheets[bundle.handed_by] = docx.with_suffix(".pdf")
    for result in converter.convert(jobs):
        if result.pdf is None:
            raise UserError(f"Không tạo được danh sách giao thư cho {result.key}: {result.error}")
    return sheets


def print_order(bundles: Sequence[PaperBundle], sheets: Mapping[str, Path], root: Path) -> list[Path]:
    """The PDFs of the print file in order: each bundle's list sheet, then its letters."""
    return [path for bundle in bundles
            for path in ([sheets[bundle.handed_by]] if bundle.has_sheet else [])
            + [draft.path(root, "letter.pdf") for draft in bundle.drafts]]
