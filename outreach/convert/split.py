"""Splitting a merged chunk's PDF back into one PDF per letter, and the checks a split must
pass before it is used (listed in ``chunk``'s docstring).  Each check raises ``_SplitMismatch``
with what it found; the chunk then converts the letters file by file instead.

Internal to the package (``outreach/convert/__init__.py`` says what its names mean).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import pikepdf

from .docx_letter import CORE_TO_PDF, Letter, squash


class _SplitMismatch(Exception):
    pass


def page_ranges(source: pikepdf.Pdf, token: str, count: int) -> list[range]:
    """Each letter's pages from its start/end destinations; raises _SplitMismatch unless the
    ranges are in order, contiguous and cover every page."""
    pages = destination_pages(source, token)
    ranges = []
    expected_start = 0
    for index in range(count):
        start, end = pages.get(f"{token}s{index}"), pages.get(f"{token}e{index}")
        if start != expected_start or end is None or end < start:
            raise _SplitMismatch(f"letter {index}: pages {start}..{end}")
        ranges.append(range(start, end + 1))
        expected_start = end + 1
    if expected_start != len(source.pages):
        raise _SplitMismatch(f"{len(source.pages) - expected_start} pages after the last letter")
    return ranges


def destination_pages(source: pikepdf.Pdf, prefix: str) -> dict[str, int | None]:
    """The page (0-based) of each named destination whose name starts with ``prefix``."""
    page_numbers = {page.obj.objgen: number for number, page in enumerate(source.pages)}
    pages = {}
    for name, destination in _named_destinations(source):
        if name.startswith(prefix):
            if isinstance(destination, pikepdf.Dictionary):  # { /D [page /XYZ ...] }
                destination = destination.get("/D")
            if isinstance(destination, pikepdf.Array) and len(destination):
                pages[name] = page_numbers.get(destination[0].objgen)
    return pages


def _named_destinations(source: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Object]]:
    """Both places a PDF keeps named destinations: the catalog's /Dests (PDF 1.1, as
    LibreOffice writes them) and the /Names /Dests name tree."""
    root = source.Root
    if isinstance(root.get("/Dests"), pikepdf.Dictionary):
        for name, destination in root.Dests.items():
            yield name.lstrip("/"), destination
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/Dests" in names:
        for name, destination in pikepdf.NameTree(names.Dests).items():
            yield str(name), destination


def check_segments(letters: list[Letter], ranges: list[range], page_texts: list[str],
                   markers: Sequence[frozenset[str]] = ()) -> None:
    """Each segment has text, all of its letter's short lines, and no line that only a
    neighbouring letter has.  ``markers``, when given, are the short lines of what each letter
    put in the merged document (the first blocks of a spliced letter)."""
    markers = list(markers) or [letter.markers for letter in letters]
    for index, pages in enumerate(ranges):
        lines = [squash(line) for p in pages for line in page_texts[p].splitlines()]
        if not any(lines):
            raise _SplitMismatch(f"letter {index}: no text")
        text = "".join(lines)
        if any(marker not in text for marker in markers[index]):
            raise _SplitMismatch(f"letter {index}: some of its own text is missing")
        # Whole lines, so that a neighbour "Công ty A" is not found inside "Công ty AB".
        printed = set(lines)
        for neighbour in markers[max(index - 1, 0) : index] + markers[index + 1 : index + 2]:
            if not printed.isdisjoint(neighbour - markers[index]):
                raise _SplitMismatch(f"letter {index}: holds text of a neighbouring letter")


def check_canary(pages: range, merged_texts: list[str], alone_texts: list[str]) -> None:
    segment = [" ".join(merged_texts[p].split()) for p in pages]
    alone = [" ".join(text.split()) for text in alone_texts]
    if segment != alone:
        raise _SplitMismatch("the canary letter differs when converted alone")


def write_pages(letter: Letter, *pieces: tuple[pikepdf.Pdf, range]) -> None:
    """The letter's PDF: the given pages of each source, in order; the PDF's information (its
    producer, its dates) from the first."""
    source = pieces[0][0]
    with pikepdf.new() as document:
        for piece, pages in pieces:
            document.pages.extend(piece.pages[pages.start : pages.stop])
        # The merged file carries the first letter's title and author; each letter gets its own.
        for key, value in source.docinfo.items():
            if key not in CORE_TO_PDF:
                document.docinfo[key] = value
        for key, value in letter.metadata.items():
            document.docinfo[key] = value
        target = letter.job.pdf
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        document.save(partial, deterministic_id=True)
    os.replace(partial, target)
