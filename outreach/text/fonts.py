"""The letters' typeface. Decree 30/2020 (Appendix I) writes administrative documents in Times New
Roman (Unicode, TCVN 6909:2001); on Linux, LibreOffice sets it in Liberation Serif, its
metric-compatible stand-in (same widths, so the same line and page breaks). One list, read by the
template check (which fonts a template may ask for) and by the PDF gate (which fonts a letter may use).
"""

from __future__ import annotations

import re

LETTER_FONTS = ("Times New Roman", "Liberation Serif")
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")


def font_key(name: str) -> str:
    """The family a font name belongs to, comparable across spellings: ``BAAAAA+LiberationSerif-Bold``,
    ``TimesNewRomanPS-BoldMT``, ``Times New Roman,Bold`` and ``Times New Roman`` compare by their family."""
    family = re.split(r"[-,]", _SUBSET_TAG.sub("", name), maxsplit=1)[0]
    return family.replace(" ", "").casefold()


def is_letter_font(name: str) -> bool:
    family = font_key(name)
    return any(family.startswith(font_key(allowed)) for allowed in LETTER_FONTS)
