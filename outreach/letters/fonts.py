"""Which fonts a DOCX template sets its text in, and which of them a letter cannot be made with.

A run's font is Word's cascade: the run's own ``w:rFonts``, else its character style, else its
paragraph's style (or the default paragraph style), each through ``basedOn``, else the document
defaults; a theme font (``minorHAnsi``) is the theme's typeface. Only runs with text count, so a
style nobody uses asks for nothing. A font outside the letter fonts (``text.LETTER_FONTS``) is
refused by the PDF gate whatever happens, and a letter font is set in what fontconfig has: if
neither Times New Roman nor its stand-in is installed, LibreOffice would substitute another.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from typing import Any, Iterable

from docx.oxml.ns import qn
from lxml import etree

from ..text import LETTER_FONTS, font_key, is_letter_font

_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_W_VAL = qn("w:val")
# The slots Vietnamese text is set in: ASCII letters, and the Latin Extended letters with diacritics.
_SLOTS = ("hAnsi", "ascii")


@dataclass(frozen=True)
class _Style:
    fonts: Any  # the style's w:rFonts, or None
    based_on: str | None


class _Cascade:
    """The fonts of one template's styles, theme and defaults."""

    def __init__(self, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            styles = etree.fromstring(archive.read("word/styles.xml"), _XML) if "word/styles.xml" in names else None
            theme_name = next((n for n in sorted(names) if n.startswith("word/theme/") and n.endswith(".xml")), None)
            theme = etree.fromstring(archive.read(theme_name), _XML) if theme_name else None
        self.theme = {}
        if theme is not None:
            for kind in ("major", "minor"):
                latin = theme.find(f".//{{*}}{kind}Font/{{*}}latin")
                if latin is not None and latin.get("typeface"):
                    self.theme[kind] = latin.get("typeface")
        self.styles: dict[str, _Style] = {}
        self.default_paragraph = self.default_character = None
        self.defaults = None
        if styles is None:
            return
        self.defaults = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
        for style in styles.iter(qn("w:style")):
            style_id = style.get(qn("w:styleId"), "")
            based_on = style.find(qn("w:basedOn"))
            self.styles[style_id] = _Style(style.find(f"{qn('w:rPr')}/{qn('w:rFonts')}"),
                                           based_on.get(_W_VAL) if based_on is not None else None)
            if style.get(qn("w:default")) in ("1", "true"):
                kind = style.get(qn("w:type"))
                if kind == "paragraph":
                    self.default_paragraph = style_id
                elif kind == "character":
                    self.default_character = style_id

    def font(self, fonts: Any) -> str | None:
        """The font a ``w:rFonts`` names for Vietnamese text, or None when it leaves it to the next level."""
        if fonts is None:
            return None
        for slot in _SLOTS:
            theme = fonts.get(qn(f"w:{slot}Theme"))
            if theme:  # the theme attribute wins over the name, as in Word
                return self.theme.get("major" if theme.startswith("major") else "minor")
            name = fonts.get(qn(f"w:{slot}"))
            if name:
                return name
        return None

    def style_font(self, style_id: str | None) -> str | None:
        seen = set()
        while style_id and style_id not in seen and style_id in self.styles:
            seen.add(style_id)
            style = self.styles[style_id]
            found = self.font(style.fonts)
            if found:
                return found
            style_id = style.based_on
        return None

    def run_font(self, run: Any, paragraph_style: str | None) -> str | None:
        properties = run.find(qn("w:rPr"))
        own = self.font(properties.find(qn("w:rFonts"))) if properties is not None else None
        if own:
            return own
        character = properties.find(qn("w:rStyle")) if properties is not None else None
        return (self.style_font(character.get(_W_VAL) if character is not None else self.default_character)
                or self.style_font(paragraph_style or self.default_paragraph)
                or self.font(self.defaults))


def template_fonts(data: bytes, parts: Iterable[tuple[Any, list[tuple[str, str]]]]) -> dict[str, str]:
    """Font → where it is first used ("đoạn 3: «…»"), for every run with text in ``parts``
    (each the root of a body, header or footer and its paragraphs' (location, text))."""
    cascade = _Cascade(data)
    used: dict[str, str] = {}
    for root, locations in parts:
        for paragraph, (where, text) in zip(root.iter(qn("w:p")), locations):
            style = paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            style_id = style.get(_W_VAL) if style is not None else None
            for run in paragraph.iter(qn("w:r")):
                if not "".join(t.text or "" for t in run.iter(qn("w:t"))).strip():
                    continue
                font = cascade.run_font(run, style_id) or LETTER_FONTS[0]  # nothing named: LibreOffice's default
                used.setdefault(font, f"{where}: «{' '.join(text.split())[:80]}»")
    return used


@functools.cache
def installed_families() -> frozenset[str] | None:
    """The font families fontconfig knows (as :func:`font_key`), or None without fontconfig."""
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(["fc-list", "--format", "%{family}\n"], capture_output=True, text=True, timeout=30)
    return frozenset(font_key(name) for line in listed.stdout.splitlines() for name in line.split(","))


def substitute(font: str) -> str | None:
    """What fontconfig (and so LibreOffice) sets ``font`` in when it is not installed."""
    if shutil.which("fc-match") is None:
        return None
    matched = subprocess.run(["fc-match", "--format", "%{family[0]}", font], capture_output=True, text=True, timeout=30)
    return matched.stdout.strip() or None


def font_problems(fonts: dict[str, str]) -> list[tuple[str, str, str]]:
    """(what, fix, where) for each font a letter could not be made with."""
    installed = installed_families()
    problems = []
    fix = ("trong Word chọn cả văn bản (Ctrl+A), chọn phông Times New Roman rồi lưu lại; kiểm tra cả đầu trang, "
           "chân trang và các kiểu (Styles) đang dùng")
    for font, where in fonts.items():
        if not is_letter_font(font):
            missing = installed is not None and font_key(font) not in installed
            instead = substitute(font) if missing else None
            told = (f"phông «{font}» chưa cài trên máy này nên LibreOffice sẽ thay bằng «{instead}»" if instead
                    else f"phông «{font}» chưa cài trên máy này nên LibreOffice sẽ thay bằng phông khác" if missing
                    else f"mẫu dùng phông «{font}»")
            problems.append((f"{told}; công văn theo Nghị định 30 dùng phông Times New Roman, nên bước kiểm tra "
                             "PDF sẽ dừng mọi thư dùng phông này", fix, where))
        elif installed is not None and not any(font_key(name) in installed for name in LETTER_FONTS):
            instead = substitute(font)
            problems.append((f"máy này chưa cài phông {' hoặc '.join(LETTER_FONTS)} nên LibreOffice sẽ thay "
                             f"«{font}» bằng «{instead or 'phông khác'}» và bước kiểm tra PDF sẽ dừng mọi thư",
                             "cài phông (Debian: apt-get install fonts-liberation) rồi kiểm tra lại", where))
    return problems
