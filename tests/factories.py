"""Small builders shared by the tests that fake a built campaign."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf

REPO = Path(__file__).resolve().parent.parent

OFFICE = {
    "agency": {"parent_body": "BẢO HIỂM XÃ HỘI VIỆT NAM", "issuing_body": "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
               "abbreviation": "BHXH", "place": "Khánh Hòa"},
    "signer": {"authority": "KT. GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC", "name": "Lê Hùng Chính"},
}


def tiny_pdf(title: str) -> bytes:
    """A one-page A4 PDF whose bytes differ per title."""
    buffer = io.BytesIO()
    with pikepdf.new() as document:
        document.add_blank_page(page_size=(595, 842))
        document.docinfo["/Title"] = title
        document.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def copy_sample_office(target: Path) -> Path:
    """A copy of the repository's sample working folder: config.toml, templates/ and recipients/."""
    for item in ("config.toml", "templates", "recipients"):
        source = REPO / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target / item)
    return target
