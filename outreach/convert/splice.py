"""Letters that differ from another only on their first page: that page converted, the others
taken from the other letter's PDF (a "stand-in").

Every copy of a công văn repeats its later pages word for word: only page 1 (Kính gửi, the
number) differs between the recipients of one template.  So the first letter of a group is
converted whole, with a bookmark at the start of each body block, and becomes the group's
stand-in: it tells which blocks are wholly on page 1 (``cut``: the first block that may not be,
the last one to start there).  A
letter of the same group whose blocks from ``cut`` on are the stand-in's, byte for byte (and
whose last section, headers and footers included, is the stand-in's), is converted only up to
``keep`` blocks: page 1 and a little of page 2.  Its page 1 is used, with the stand-in's pages
after it, when all of these hold:

* its page 1 ends with the same lines as the stand-in's page 1, and its page 2 starts with the
  same lines as the stand-in's page 2: the page break falls at the same place in the same text,
  so everything after it is laid out as in the stand-in;
* every short line of the blocks before ``cut`` is on its page 1 (``chunk`` also checks, as for
  any merged conversion, that no neighbouring letter's line is there);
* one letter of each spliced chunk, converted whole on its own in the same call, gives the same
  text page by page as its spliced PDF (else none of the chunk is spliced, and the group's
  stand-in is dropped).

Otherwise the letter is converted whole, as any other: never a wrong letter.

Internal to the package (``outreach/convert/__init__.py`` says what its names mean).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from .docx_letter import Letter, squash
from .fidelity import PdfFont

# Blocks converted past the first one page 1 cannot hold whole: what a keep-with-next or widow
# rule at the foot of page 1 looks at.
SPILL_BLOCKS = 2
# Lines compared on each side of the page break.
BOUNDARY_LINES = 3
# Stand-ins a long-lived converter keeps (one per template and audience in use).
KEPT_STAND_INS = 32


@dataclass(frozen=True)
class StandIn:
    """A letter converted whole, which the other letters of its group splice."""

    blocks: tuple[bytes, ...]  # its block digests
    section: bytes  # its last section's digest (page setup, headers and footers)
    cut: int  # the first block that may not end on page 1
    pdf: bytes  # its PDF, as written for its recipient
    page_texts: tuple[str, ...]
    later_fonts: tuple[PdfFont, ...]  # fonts of the pages after the first

    @property
    def keep(self) -> int:
        """Blocks a spliced letter is converted with."""
        return self.cut + SPILL_BLOCKS

    def fits(self, letter: Letter) -> bool:
        """True if ``letter`` may differ from the stand-in only before ``cut``."""
        return (len(letter.block_digests) == len(self.blocks) and letter.section_digest == self.section
                and letter.block_digests[self.cut:] == self.blocks[self.cut:])

    def kept_markers(self, letter: Letter) -> frozenset[str]:
        """The short lines of what a spliced letter puts in the merged document."""
        return frozenset().union(*letter.block_markers[: self.keep])

    def holds(self, letter: Letter, first: str, second: str) -> bool:
        """Whether ``letter``'s converted page 1 (``first``, with ``second`` the page after it)
        may be followed by the stand-in's later pages: see the module's docstring."""
        own, spill = _lines(first), _lines(second)
        theirs_first, theirs_second = _lines(self.page_texts[0]), _lines(self.page_texts[1])
        if len(own) < BOUNDARY_LINES or len(spill) < min(2, len(theirs_second)):
            return False
        if own[-BOUNDARY_LINES:] != theirs_first[-BOUNDARY_LINES:]:
            return False
        head = min(BOUNDARY_LINES, len(spill))
        if spill[:head] != theirs_second[:head]:
            return False
        printed = "".join(own)
        return all(marker in printed for block in letter.block_markers[: self.cut] for marker in block)

    def texts_after(self, first: str) -> tuple[str, ...]:
        """A spliced letter's page texts."""
        return (first, *self.page_texts[1:])


def measure(letter: Letter, block_start_pages: Sequence[int | None], pdf: bytes, page_texts: Sequence[str],
            later_fonts: tuple[PdfFont, ...]) -> StandIn | None:
    """``letter`` as its group's stand-in, given the page (0-based, within the letter) each of its
    blocks starts on (None: not known); None when splicing it would gain nothing (one page, or
    page 1 holding no whole block, or nearly everything)."""
    after = next((index for index, page in enumerate(block_start_pages) if page != 0), len(block_start_pages))
    cut = after - 1  # the last block starting on page 1 may go on over the page
    if len(page_texts) < 2 or cut < 1 or cut + SPILL_BLOCKS >= len(letter.block_digests):
        return None
    return StandIn(letter.block_digests, letter.section_digest, cut, pdf, tuple(page_texts), later_fonts)


def _lines(text: str) -> list[str]:
    return [line for line in map(squash, text.splitlines()) if line]


class StandIns:
    """The stand-ins of a converter, by group, shared by its chunks (threads) and kept between its
    calls.  The first chunk to meet a group makes its stand-in; the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: OrderedDict[str, StandIn | None] = OrderedDict()
        self._making: dict[str, threading.Event] = {}

    def claim(self, group: str, timeout_s: float) -> tuple[bool, StandIn | None]:
        """(True, None) if the caller must make the group's stand-in and ``publish`` it; else
        (False, the group's stand-in, or None if it has none)."""
        with self._lock:
            if group in self._made:
                self._made.move_to_end(group)
                return False, self._made[group]
            making = self._making.get(group)
            if making is None:
                self._making[group] = threading.Event()
                return True, None
        making.wait(timeout_s)
        with self._lock:
            return False, self._made.get(group)

    def publish(self, group: str, stand_in: StandIn | None) -> None:
        with self._lock:
            self._made[group] = stand_in
            while len(self._made) > KEPT_STAND_INS:
                self._made.popitem(last=False)
            making = self._making.pop(group, None)
        if making is not None:
            making.set()

    def drop(self, group: str) -> None:
        """After a doubt about the group's splices: its letters are converted whole from now on."""
        self.publish(group, None)
