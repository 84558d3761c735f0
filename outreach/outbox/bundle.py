"""Print bundles: letters one after another in one PDF, each starting on a fresh sheet when printed
double-sided (a letter of odd length is followed by a blank page). ``build`` writes one as a preview
of every letter without e-mail; the paper channel writes one per batch of approved letters."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

if TYPE_CHECKING:  # the recipients stage reads lists with pandas: a send needs none of it
    from ..recipients import Recipient


def sheet_pages(pages: int) -> int:
    """The pages a letter of ``pages`` takes in a bundle, its blank back page included."""
    return pages + pages % 2


def write_bundle(letters: Iterable[bytes], target: Path) -> list[tuple[int, int]]:
    """Write the letters (PDF bytes) as one bundle, atomically; returns each letter's first and last
    page in it (1-based, blank pages not included)."""
    ranges: list[tuple[int, int]] = []
    temporary = target.with_name(target.name + ".tmp")
    with pikepdf.new() as bundle:
        for data in letters:
            with pikepdf.open(BytesIO(data)) as letter:
                _hold_streams(letter)
                first = len(bundle.pages) + 1
                # With its form: a signed letter's signature and seal images are widgets of its AcroForm,
                # which a plain pages.extend() leaves unreachable (Acrobat would print the letter without them).
                bundle.add_pages_from(letter)
            ranges.append((first, len(bundle.pages)))
            if len(bundle.pages) % 2:
                last = bundle.pages[-1].mediabox
                bundle.add_blank_page(page_size=(float(last[2]), float(last[3])))
        bundle.save(temporary)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    temporary.replace(target)
    return ranges


def _hold_streams(letter: pikepdf.Pdf) -> None:
    """Each stream of ``letter`` held as its encoded bytes. qpdf copies a stream that holds its bytes
    at once, and one still in its file only when the bundle is saved, so every letter would have
    to stay open until then: 200 letters of a 10,000-letter build then cost ~90 MB, the build's
    peak; copied this way, ~45 MB, and each letter is closed once copied."""
    for stream in (o for o in letter.objects if isinstance(o, pikepdf.Stream)):
        stream.write(stream.read_raw_bytes(), filter=stream.get("/Filter"), decode_parms=stream.get("/DecodeParms"))


def write_address_labels(path: Path, recipients: Sequence[Recipient]) -> None:
    """Two labels a row on A4, in the letter's font: addressee and postal address."""
    from docx import Document
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Mm(12)
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(12)
    table = document.add_table(rows=0, cols=2)
    for pair in (recipients[i:i + 2] for i in range(0, len(recipients), 2)):
        cells = table.add_row().cells
        for cell, recipient in zip(cells, pair):
            cell.paragraphs[0].add_run(f"Kính gửi: {recipient.salutation}").bold = True
            cell.add_paragraph(recipient.address or "(chưa có địa chỉ)")
            cell.add_paragraph(f"{recipient.masked_code} — {recipient.source_file.rsplit('/', 1)[-1]} dòng {recipient.source_row}")
    document.save(str(path))
