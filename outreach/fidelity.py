"""Checks that a letter PDF is fit to send: pages, fonts, text, no template leftovers.

Problems are returned as Vietnamese sentences for staff; an empty list means the PDF passes.
Fonts come from ``pdffonts`` and text from ``pdftotext`` (poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from pypdf import PdfReader

from outreach.errors import UserError

__all__ = ["check_pdf", "page_count", "pdf_page_texts", "pdf_text"]

DEFAULT_FONTS = ("LiberationSerif", "TimesNewRoman", "Times New Roman", "Liberation Serif")
_TEMPLATE_TAGS = ("{{", "}}", "{%", "%}")
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")


def check_pdf(
    pdf: Path,
    *,
    expected_pages: int | None,
    must_contain: Sequence[str],
    allowed_fonts: Sequence[str] = DEFAULT_FONTS,
) -> list[str]:
    """Vietnamese descriptions of what is wrong with ``pdf``; empty if nothing is."""
    pdf = Path(pdf)
    if not pdf.is_file():
        return [f"Không tìm thấy tệp PDF {pdf}."]
    try:
        pages = page_count(pdf)
    except Exception as exc:  # pypdf raises many types for a damaged file
        return [f"Không mở được tệp PDF {pdf}: {exc}."]
    problems = []
    if expected_pages is not None and pages != expected_pages:
        problems.append(f"Tệp PDF {pdf.name} có {pages} trang, cần {expected_pages} trang.")
    try:
        problems += _font_problems(pdf, allowed_fonts)
        problems += _text_problems(pdf_text(pdf), must_contain)
    except ValueError as exc:
        problems.append(f"Không đọc được nội dung tệp PDF {pdf}: {exc}.")
    return problems


def page_count(pdf: Path) -> int:
    return len(PdfReader(pdf).pages)


def pdf_text(pdf: Path) -> str:
    """The text of all pages in reading order, NFC, pages separated by form feeds."""
    return "\f".join(pdf_page_texts(pdf))


def pdf_page_texts(pdf: Path) -> list[str]:
    """The text of each page in reading order, NFC."""
    # Reading order (not -layout) keeps each table cell's lines together, so a name that
    # wraps inside a cell is not interleaved with the next column.
    text = _run("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    return unicodedata.normalize("NFC", text).split("\f")[:-1]


def _font_problems(pdf: Path, allowed_fonts: Sequence[str]) -> list[str]:
    allowed = {_font_key(name) for name in allowed_fonts}
    problems = []
    for name, embedded in _fonts(pdf):
        family = _font_key(name)
        if not any(family.startswith(key) for key in allowed):
            problems.append(
                f"PDF dùng phông “{name}” thay cho phông của mẫu (chỉ cho phép: "
                f"{', '.join(allowed_fonts)}): phông trong mẫu chưa được cài nên LibreOffice "
                "đã thay phông khác. Hãy cài phông đó hoặc sửa mẫu dùng Times New Roman."
            )
        elif not embedded:
            problems.append(f"Phông “{name}” không được nhúng vào PDF; máy người nhận có thể "
                            "hiển thị sai.")
    return problems


def _fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(name without subset tag, embedded) for each font ``pdffonts`` lists."""
    lines = _run("pdffonts", str(pdf)).splitlines()
    fonts = []
    for line in lines[2:]:  # a header and a dashed rule come first
        # Names have no spaces; the columns after type and encoding are emb, sub, uni, id, gen.
        fields = line.split()
        if len(fields) >= 6:
            fonts.append((_SUBSET_TAG.sub("", fields[0]), fields[-5] == "yes"))
    return fonts


def _font_key(name: str) -> str:
    # "BAAAAA+LiberationSerif-Bold", "TimesNewRomanPS-BoldMT", "Times New Roman,Bold" → family
    family = re.split(r"[-,]", _SUBSET_TAG.sub("", name), maxsplit=1)[0]
    return family.replace(" ", "").casefold()


def _text_problems(text: str, must_contain: Sequence[str]) -> list[str]:
    flat = _collapse(text)
    problems = [
        f"Không tìm thấy “{wanted}” trong nội dung PDF."
        for wanted in must_contain
        if _collapse(wanted) not in flat
    ]
    for tag in _TEMPLATE_TAGS:
        at = flat.find(tag)
        if at >= 0:
            snippet = flat[max(at - 20, 0) : at + 30]
            problems.append(f"PDF còn thẻ mẫu chưa được thay “{tag}”: …{snippet}…")
    return problems


def _collapse(text: str) -> str:
    # Names may wrap across lines; PDF text may use decomposed diacritics.
    return " ".join(unicodedata.normalize("NFC", text).split())


def _run(program: str, *args: str) -> str:
    if shutil.which(program) is None:
        raise UserError(
            f"Không tìm thấy lệnh {program} để kiểm tra PDF. "
            "Cài bằng lệnh: sudo apt-get install -y poppler-utils"
        )
    completed = subprocess.run(
        [program, *args], capture_output=True, check=False, timeout=120
    )
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip()
        raise ValueError(f"{program} thất bại: {detail}")
    return completed.stdout.decode("utf-8", errors="replace")
