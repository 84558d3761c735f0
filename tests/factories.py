"""Small builders shared by the tests that fake a built campaign."""

from __future__ import annotations

import io

from pypdf import PdfWriter

OFFICE = {
    "agency": {"parent_body": "BẢO HIỂM XÃ HỘI VIỆT NAM", "issuing_body": "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
               "abbreviation": "BHXH", "place": "Khánh Hòa"},
    "signer": {"authority": "KT. GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC", "name": "Lê Hùng Chính"},
}


def tiny_pdf(title: str) -> bytes:
    """A one-page A4 PDF whose bytes differ per title."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
