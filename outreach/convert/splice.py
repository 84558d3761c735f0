"""Letters that differ from another only on some pages: those pages converted, the others
taken from the other letter's PDF (a "stand-in").

Every copy of a công văn repeats most of its pages word for word: an employer's letter differs
from the next only on page 1 (Kính gửi, the number); a commune's also on the page whose sentence
names the commune.  So the first letter of a group (one template) is converted whole, with a
bookmark at the start of each body block, and becomes a stand-in: it tells the page each block
starts on.  A letter of the group whose blocks differ from the stand-in's only in blocks that lie
wholly on one page, none of them the first block of a page after the first (whose start could not
be checked), and whose last section (page setup, headers, footers) is the stand-in's, is converted
as ``runs``: for each run of such pages, their blocks and a little of the next page's, in a section
of its own numbered as in the whole letter.  A converted page is used in place of the stand-in's
when all of these hold:

* it ends with the same lines as the stand-in's page, and (after page 1) starts with them; the
  page after the run (the overflow) starts as the stand-in's next page does, or, for the last page,
  there is none: the breaks fall at the same places in the same text, so the pages taken from the
  stand-in are laid out as this letter's own would be;
* every short line of the run's blocks that lie wholly on those pages is on them (``chunk`` also
  checks, as for any merged conversion, that no neighbouring letter's line is there);
* one letter of a spliced chunk (of each of a group's first chunks, then of one in
  ``CANARY_EVERY``), converted whole on its own in the same call, gives the same text page by page
  as its spliced PDF (else none of the chunk is spliced, and the group is converted whole from
  then on).

Where page 1 breaks depends on how long its name is (one line or two), so a group has several
stand-ins; a letter is tried first on the one whose differing blocks are nearest in length.
Otherwise the letter is converted whole, as any other: never a wrong letter.

Internal to the package (``outreach/convert/__init__.py`` says what its names mean).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from .docx_letter import Letter, squash
from .fidelity import PdfContent, PdfFont
from .merge import Run

# Blocks converted past the first one page 1 cannot hold whole: what a keep-with-next or widow
# rule at the foot of page 1 looks at.
SPILL_BLOCKS = 2
# Lines compared on each side of the page break.
BOUNDARY_LINES = 3
# Groups (templates) a long-lived converter keeps stand-ins for, and stand-ins it tries to make
# for one group (one per audience whose later pages differ).
KEPT_GROUPS = 16
STAND_INS_PER_GROUP = 8
# Spliced chunks of a group that bring a canary (one letter also converted whole on its own): each
# of the first few, then one in so many.  A canary costs a whole letter's conversion, a third of a
# chunk's; every spliced page is checked against its stand-in and every letter by the gate anyway.
FIRST_CANARIES = 3
CANARY_EVERY = 5


@dataclass(frozen=True, eq=False)  # each is itself: plans are keyed by the stand-ins they use
class StandIn:
    """A letter converted whole, which the other letters of its group splice."""

    blocks: tuple[bytes, ...]  # its block digests
    block_sizes: tuple[int, ...]
    section: bytes  # its last section's digest (page setup, headers and footers)
    starts: tuple[int | None, ...]  # the page each block starts on (None: not known)
    pdf: bytes  # its PDF, as written for its recipient
    page_texts: tuple[str, ...]
    page_fonts: tuple[tuple[PdfFont, ...], ...]

    def distance(self, letter: Letter) -> int:
        """How far the length of ``letter``'s blocks is from the stand-in's, where they differ."""
        return sum(abs(own - theirs) for own, theirs, a, b in
                   zip(letter.block_sizes, self.block_sizes, letter.block_digests, self.blocks) if a != b)

    def page_start(self, page: int) -> int:
        """The first block that starts on ``page`` (or after it)."""
        return next((i for i, start in enumerate(self.starts) if start is not None and start >= page),
                    len(self.blocks))

    def runs_for(self, letter: Letter) -> tuple[Run, ...] | None:
        """The runs of ``letter`` to convert (each a few pages and a little more), or None if it
        cannot be spliced on this stand-in: it differs in a block that is not wholly on one page
        of the stand-in, or that starts a page after the first (whose start then cannot be told)."""
        if len(letter.block_digests) != len(self.blocks) or letter.section_digest != self.section:
            return None
        differing = [i for i, (own, theirs) in enumerate(zip(letter.block_digests, self.blocks)) if own != theirs]
        pages = set()
        last_page = len(self.page_texts) - 1
        for block in differing:
            page = self.starts[block]
            next_start = self.starts[block + 1] if block + 1 < len(self.blocks) else last_page
            if page is None or next_start != page or (page > 0 and self.page_start(page) == block):
                return None
            pages.add(page)
        if len(pages) > 1 and not letter.single_section:
            return None  # runs are sections of their own: a letter's own sections would be lost
        runs: list[Run] = []
        for page in sorted(pages or {0}):
            if runs and runs[-1].first_page + self.pages_of(runs[-1]) == page:
                first = runs.pop().first_page
            else:
                first = page
            stop = min(self.page_start(page + 1) + SPILL_BLOCKS - 1, len(self.blocks))
            runs.append(Run(self.page_start(first) if first else 0, stop, first))
        return tuple(runs)

    def pages_of(self, run: Run) -> int:
        """How many pages of the stand-in ``run`` covers (its spill left out)."""
        return next(page for page in range(run.first_page + 1, len(self.page_texts) + 1)
                    if self.page_start(page) + SPILL_BLOCKS - 1 >= run.stop or page == len(self.page_texts)) \
            - run.first_page

    def holds(self, letter: Letter, run: Run, converted: Sequence[str]) -> bool:
        """Whether ``converted`` (the text of the pages ``run`` gave, its spill included) may stand
        for the stand-in's pages: see the module's docstring."""
        pages = self.pages_of(run)
        if len(converted) < pages:
            return False
        lines = [_lines(text) for text in converted[:pages + 1]]
        for offset in range(pages):
            page = run.first_page + offset
            own, theirs = lines[offset], self.page_lines[page]
            if len(own) < BOUNDARY_LINES or own[-BOUNDARY_LINES:] != theirs[-BOUNDARY_LINES:]:
                return False
            if page and own[:BOUNDARY_LINES] != theirs[:BOUNDARY_LINES]:
                return False
        after = run.first_page + pages
        if after < len(self.page_texts):
            if len(converted) <= pages:
                return False
            spill, theirs = lines[pages], self.page_lines[after]
            head = min(BOUNDARY_LINES, len(spill))
            if len(spill) < min(2, len(theirs)) or spill[:head] != theirs[:head]:
                return False
        elif len(converted) != pages:
            return False
        printed = "".join(line for page_lines in lines[:pages] for line in page_lines)
        whole = range(run.start, self.page_start(after) - 1)  # the last block may go on over the page
        return all(marker in printed for block in whole for marker in letter.block_markers[block])

    @cached_property
    def page_lines(self) -> tuple[list[str], ...]:
        """Its pages' lines as ``holds`` compares them (worked out once: every letter is compared)."""
        return tuple(_lines(text) for text in self.page_texts)

    def spliced(self, converted: dict[int, str], fonts: tuple[PdfFont, ...]) -> PdfContent:
        """A spliced letter's content: its converted pages (by page), the stand-in's others."""
        texts = tuple(converted.get(page, text) for page, text in enumerate(self.page_texts))
        kept = [font for page, page_fonts in enumerate(self.page_fonts) if page not in converted
                for font in page_fonts]
        return PdfContent(texts, tuple(dict.fromkeys((*fonts, *kept))))


def measure(letter: Letter, block_start_pages: Sequence[int | None], pdf: bytes, page_texts: Sequence[str],
            page_fonts: Sequence[tuple[PdfFont, ...]]) -> StandIn | None:
    """``letter`` as its group's stand-in, given the page (0-based, within the letter) each of its
    blocks starts on (None: not known); None for a letter of one page (nothing to splice)."""
    if len(page_texts) < 2:
        return None
    return StandIn(letter.block_digests, letter.block_sizes, letter.section_digest, tuple(block_start_pages), pdf,
                   tuple(page_texts), tuple(page_fonts))


def kept_markers(letter: Letter, runs: Sequence[Run]) -> frozenset[str]:
    """The short lines of what a spliced letter converted as ``runs`` puts in the merged document."""
    return frozenset().union(*(letter.block_markers[i] for run in runs for i in range(run.start, run.stop)))


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
            found = [] if group is None or group.dropped else [(s, group.hits[s]) for s in group.stand_ins]
        # Where page 1 breaks depends on how long what differs is (a name on one line or two): the
        # stand-in whose differing blocks are nearest in length is the likeliest to hold.
        fitting = [(stand_in.distance(letter), -hits, number, stand_in)
                   for number, (stand_in, hits) in enumerate(found) if stand_in.runs_for(letter) is not None]
        return tuple(stand_in for *_, stand_in in sorted(fitting))

    def hit(self, group: str, stand_in: StandIn) -> None:
        """A letter was spliced on ``stand_in``: the stand-ins that serve most are tried first."""
        with self._lock:
            self._group(group).hits[stand_in] += 1

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
                known.hits[stand_in] = 0

    def canary_due(self, group: str) -> bool:
        """Whether the group's next spliced chunk brings a canary."""
        with self._lock:
            known = self._group(group)
            known.chunks += 1
            return known.chunks <= FIRST_CANARIES or known.chunks % CANARY_EVERY == 0

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
    hits: Counter[StandIn] = field(default_factory=Counter)
    attempts: int = 0
    chunks: int = 0  # spliced chunks planned
    dropped: bool = False
