"""Print bundles: letters one after another in one PDF, each starting on a fresh sheet when printed
double-sided (a letter of odd length is followed by a blank page). ``build`` writes one as a preview
of every letter without e-mail; the paper channel writes one per batch of approved letters."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import ExitStack
from io import BytesIO
from pathlib import Path

import pikepdf


def sheet_pages(pages: int) -> int:
    """The pages a letter of ``pages`` takes in a bundle, its blank back page included."""
    return pages + pages % 2


def write_bundle(letters: Iterable[bytes], target: Path) -> list[tuple[int, int]]:
    """Write the letters (PDF bytes) as one bundle, atomically; returns each letter's first and last
    page in it (1-based, blank pages not included)."""
    ranges: list[tuple[int, int]] = []
    temporary = target.with_name(target.name + ".tmp")
    with ExitStack() as opened, pikepdf.new() as bundle:
        for data in letters:
            # Copied pages are read from their letter when the bundle is saved, so every letter
            # stays open until then: in memory, not as one open file each.
            letter = opened.enter_context(pikepdf.open(BytesIO(data)))
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
