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
from dataclasses import dataclass, field

from .docx_letter import Letter, squash
from .fidelity import PdfFont

# Blocks converted past the first one page 1 cannot hold whole: what a keep-with-next or widow
# rule at the foot of page 1 looks at.
SPILL_BLOCKS = 2
# Lines compared on each side of the page break.
BOUNDARY_LINES = 3
# Groups (templates) a long-lived converter keeps stand-ins for, and stand-ins it tries to make
# for one group (one per audience whose later pages differ).
KEPT_GROUPS = 16
STAND_INS_PER_GROUP = 8


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


def kept_markers(letter: Letter, keep: int) -> frozenset[str]:
    """The short lines of what a spliced letter converted with ``keep`` blocks puts in the merged
    document."""
    return frozenset().union(*letter.block_markers[:keep])


def _lines(text: str) -> list[str]:
    return [line for line in map(squash, text.splitlines()) if line]


class StandIns:
    """The stand-ins of a converter, by group, shared by its chunks (threads) and kept between its
    calls.  A group may have several (one template, several audiences whose later pages differ);
    one of a group is made at a time, so that a chunk waiting for it can splice on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: OrderedDict[str, _Group] = OrderedDict()

    def find(self, letter: Letter) -> tuple[StandIn, ...]:
        """The stand-ins of its group ``letter`` fits (several: page 1 of the stand-ins of one
        audience may break at different places, after a long name or a short one)."""
        with self._lock:
            group = self._groups.get(letter.group)
            found = [] if group is None or group.dropped else list(group.stand_ins)
        return tuple(stand_in for stand_in in found if stand_in.fits(letter))

    def may_add(self, group: str) -> bool:
        with self._lock:
            known = self._groups.get(group)
            return known is None or (not known.dropped and known.attempts < STAND_INS_PER_GROUP)

    def making(self, group: str) -> threading.Lock:
        """Held while one of the group's stand-ins is made."""
        with self._lock:
            return self._group(group).making

    def add(self, group: str, stand_in: StandIn | None) -> None:
        """A stand-in made, or None for a letter that could not be one (it counts as an attempt)."""
        with self._lock:
            known = self._group(group)
            known.attempts += 1
            if stand_in is not None and not known.dropped:
                known.stand_ins.append(stand_in)

    def drop(self, group: str) -> None:
        """After a doubt about the group's splices: its letters are converted whole from now on."""
        with self._lock:
            self._group(group).dropped = True

    def _group(self, group: str) -> _Group:
        known = self._groups.get(group)
        if known is None:
            known = self._groups[group] = _Group()
            while len(self._groups) > KEPT_GROUPS:
                self._groups.popitem(last=False)
        self._groups.move_to_end(group)
        return known


@dataclass
class _Group:
    making: threading.Lock = field(default_factory=threading.Lock)
    stand_ins: list[StandIn] = field(default_factory=list)
    attempts: int = 0
    dropped: bool = False
