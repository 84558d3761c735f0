"""DOCX → PDF with LibreOffice, many letters per call, and the checks a PDF must pass.

Modules, from the entry point down:

* ``pool``: ``PdfConverter`` (one LibreOffice per worker, chunks in flight) and ``convert_one``;
* ``jobs``: what goes in and comes out (``ConversionJob``, ``ConversionResult``, ``ConversionError``);
* ``chunk``: one chunk, merged → batches of files → one file at a time; its docstring is the
  contract of a conversion (when a merged PDF is split, when it is not);
* ``docx_letter``: what a chunk knows of one letter's DOCX, and whether it may be merged;
* ``merge``: many letters → one DOCX, one section per letter, bookmarks at each letter's ends;
* ``split``: the merged PDF → one PDF per letter, and the checks a split must pass;
* ``ooxml``: the package format (namespaces, parts, relationships, content types);
* ``office`` (with ``office_bridge``, which it runs): the LibreOffice processes;
* ``fidelity``: reading a PDF's text and fonts, and the gate a letter's PDF must pass.

Names follow httpx's habit, with the privacy on the package rather than on each name: inside
``outreach.convert`` a name without a leading underscore is one the package's other modules
import; a name with one is used only in its own module.  Other packages use only what this
module re-exports; tests may reach into the modules.
"""

from .fidelity import (
    PdfContent,
    PdfFont,
    check_pdf,
    page_count,
    pdf_page_texts,
    pdf_text,
    read_pdf,
    signed_fields,
)
from .jobs import ConversionError, ConversionJob, ConversionResult
from .office import Office, OfficeFailure, find_soffice, open_office
from .pool import PdfConverter, convert_one

__all__ = [
    "ConversionError",
    "ConversionJob",
    "ConversionResult",
    "Office",
    "OfficeFailure",
    "PdfContent",
    "PdfConverter",
    "PdfFont",
    "check_pdf",
    "convert_one",
    "find_soffice",
    "open_office",
    "page_count",
    "pdf_page_texts",
    "pdf_text",
    "read_pdf",
    "signed_fields",
]
