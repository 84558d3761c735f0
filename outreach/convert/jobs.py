"""What goes into the converter and what comes out of it: a job per letter, a result per job,
and the error ``convert_one`` raises.  Its own module because ``pool`` hands out the jobs and
``chunk`` makes the results, and ``pool`` runs ``chunk``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .fidelity import PdfContent

__all__ = ["ConversionError", "ConversionJob", "ConversionResult"]


@dataclass(frozen=True)
class ConversionJob:
    key: str  # caller's id, e.g. "employers/TZH490L"
    docx: Path
    pdf: Path  # where the PDF must be written
    # Writes ``docx`` first; called on a worker thread, one job at a time.  The message of
    # what it raises (a UserError's ``message``) becomes the result's error.
    write_docx: Callable[[Path], None] | None = None


@dataclass(frozen=True)
class ConversionResult:
    key: str
    pdf: Path | None
    pages: int
    error: str | None  # Vietnamese reason when pdf is None
    content: PdfContent | None = None  # text and fonts of the pages written, when pdf is set


class ConversionError(Exception):
    """A DOCX could not be turned into a PDF; the message is Vietnamese."""
