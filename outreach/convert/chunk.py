"""One chunk of letters, DOCX → PDF, never a silent drop: merged where possible, then files as
they are, then one file at a time (``ChunkRun.run`` is that ladder).

Throughput comes from converting many letters in ONE LibreOffice call: the letters of a chunk
are merged into one DOCX, one section per letter (next-page break, page numbers restarting at
1, each letter's own section properties and headers kept), converted once, then split back
into one PDF per letter.

Page ranges come from two bookmarks per letter (one in its first paragraph, one at the end of
its last paragraph) that LibreOffice exports as PDF named destinations.  A split is used only
if every check passes:

* both destinations exist for every letter, the ranges are contiguous and cover every page
  (a blank or overflow page between two letters breaks contiguity);
* each segment has text, holds every short line of its own letter and no line that only a
  neighbouring letter has;
* a "canary" letter of the chunk, converted on its own in the same call, gives the same page
  count and the same text page by page as its segment.

On any doubt the chunk's letters are converted file by file (first several files in one call,
then one call per file with a retry), so a wrong split is never written and no job is dropped.

Every PDF written is read back (text with pdftotext, fonts from its pages) into the result's
``content`` for the fidelity gate; a split letter's content is read from the chunk's PDF, whose
pages the letter's file copies unchanged.  A job may bring ``write_docx``: the letter is then
written (rendered) by a worker just before its chunk is converted, so that rendering overlaps
LibreOffice instead of running before it.

Internal to the package (``outreach/convert/__init__.py`` says what its names mean).
"""

from __future__ import annotations

import io
import logging
import secrets
import shutil
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from .docx_letter import Letter, ReadCache, read_letter
from .fidelity import PdfContent, pdf_fonts, pdf_page_texts, read_pdf
from .jobs import ConversionError, ConversionJob, ConversionResult
from .merge import Run, merge
from .office import OfficeFailure, OfficePool
from .splice import StandIn, StandIns, kept_markers, measure
from .split import check_canary, check_segments, destination_pages, page_ranges, write_pages

# One logger for the whole package, whichever of its modules logs: callers (and tests) listen
# to "outreach.convert".
_log = logging.getLogger("outreach.convert")

# A multi-file call silently drops files past ~247, and a hang costs the whole call.
_BATCH_FILES = 50
# LibreOffice calls for a chunk's spliced pages: the second for letters whose page 1 broke
# elsewhere than on the stand-ins they were tried on, on one made meanwhile from the first of them.
SPLICE_ATTEMPTS = 2


@dataclass(frozen=True)
class _MergePlan:
    letters: list[Letter]
    token: str  # prefix of this group's bookmark names
    docx: Path
    canary: int  # index of the letter also converted on its own
    canary_docx: Path


@dataclass(frozen=True)
class _SplicePlan:
    stand_ins: tuple[tuple[StandIn, tuple[Run, ...]], ...]  # each with its own runs for these letters
    runs: tuple[Run, ...]  # what the letters are converted as: the stand-ins' runs, the longest spill
    letters: list[Letter]
    token: str
    docx: Path
    canary: int | None  # None: a chunk without a canary (``splice.StandIns.canary_due``)
    canary_docx: Path | None


@dataclass
class ChunkRun:
    """One chunk: spliced letters where possible (``splice``'s docstring), merged documents of
    whole letters, then the remaining files as they are, several per call, then one call per
    file with a retry."""

    offices: OfficePool
    tmp: Path
    timeout_s: float
    write_lock: threading.Lock
    stand_ins: StandIns | None = None  # None: no letter is spliced
    results: dict[int, ConversionResult] = field(default_factory=dict)
    read_cache: ReadCache = field(default_factory=ReadCache)

    def run(self, items: list[tuple[int, ConversionJob]]) -> list[tuple[int, ConversionResult]]:
        letters = []
        # The chunk's letters written in one go, not interleaved with the other chunks': the first
        # chunk reaches LibreOffice after its own letters are written, not after everyone's.
        with self.write_lock:
            written = [(slot, job) for slot, job in items if job.write_docx is None or self._write_docx(slot, job)]
        for slot, job in written:
            try:
                letters.append(read_letter(slot, job, self.read_cache))
            except ConversionError as exc:
                self._fail(slot, job, str(exc))
        if self.stand_ins is not None:
            letters = self._spliced(letters)
        pending, office_failed = self._merged(letters)
        if len(pending) > 1 and not office_failed:
            pending = self._batches(pending)
        for letter in pending:
            self._single(letter)
        return sorted(self.results.items())

    def _write_docx(self, slot: int, job: ConversionJob) -> bool:
        try:
            job.write_docx(job.docx)
        except Exception as exc:  # the writer's reason (a UserError's message) goes to the caller
            self._fail(slot, job, getattr(exc, "message", None) or str(exc))
            return False
        return True

    def _fail(self, slot: int, job: ConversionJob, reason: str) -> None:
        self.results[slot] = ConversionResult(job.key, None, 0, reason)

    def _spliced(self, letters: list[Letter]) -> list[Letter]:
        """Convert the letters their group's stand-ins allow to splice; returns the others.  A
        letter whose page 1 breaks elsewhere than on the stand-ins it was tried on is tried once
        more, on a stand-in made meanwhile (from the first such letter)."""
        rest = [letter for letter in letters if letter.group is None]
        pending = [letter for letter in letters if letter.group is not None]
        tried: dict[int, set[StandIn]] = {}
        for attempt in range(SPLICE_ATTEMPTS):
            if not pending:
                break
            pending = self._splice_attempt(pending, rest, tried, attempt)
        return sorted(rest + pending, key=lambda letter: letter.slot)

    def _splice_attempt(self, letters: list[Letter], rest: list[Letter], tried: dict[int, set[StandIn]],
                        attempt: int) -> list[Letter]:
        """One LibreOffice call for the letters' spliced pages; returns those to try again."""
        groups: dict[str, list[Letter]] = {}
        for letter in letters:
            groups.setdefault(letter.group, []).append(letter)
        workdir = self._fresh_dir(f"spliced-{attempt}")
        plans, inputs = [], []
        for group, members in groups.items():
            for (stand_ins, runs), fitting in self._families(group, members, rest, tried):
                number = len(plans)
                canary = max(range(len(fitting)), key=lambda i: fitting[i].text_size) \
                    if self.stand_ins.canary_due(group) else None
                plan = _SplicePlan(stand_ins, runs, fitting, f"OutreachSplice{secrets.token_hex(4)}g{number}",
                                   workdir / f"spliced-{number}.docx", canary,
                                   None if canary is None else _stage(fitting[canary], workdir / f"canary-{number}.docx"))
                try:
                    merge(fitting, plan.docx, plan.token, runs=[runs] * len(fitting))
                except Exception as exc:  # a package we do not understand: convert them whole
                    _log.warning("could not merge %d letters to splice (%r)", len(fitting), exc)
                    rest += fitting
                    continue
                plans.append((group, plan))
                inputs += [plan.docx] if plan.canary_docx is None else [plan.docx, plan.canary_docx]
                for letter in fitting:
                    tried.setdefault(letter.slot, set()).update(stand_in for stand_in, _ in stand_ins)
        if inputs:
            try:
                self.offices.convert(inputs, workdir)
            except OfficeFailure:
                rest += [letter for _, plan in plans for letter in plan.letters]
                return []
        again = []
        for group, plan in plans:
            left = self._splice(group, plan)
            if left is None:
                self.stand_ins.drop(group)
                rest += plan.letters
                continue
            if left and self.stand_ins.may_add(group):
                # Page 1 breaks elsewhere for these: the first, converted whole as it must be,
                # becomes a stand-in that the others (and later letters) may splice on.
                with self.stand_ins.making(group):
                    self.stand_ins.add(group, self._make_stand_in(left[0]))
            again += [letter for letter in left if letter.slot not in self.results]
        return again

    def _families(self, group: str, members: list[Letter], rest: list[Letter],
                  tried: dict[int, set[StandIn]]) -> list[tuple[tuple, list[Letter]]]:
        """The group's letters by the stand-ins they can be spliced on with the same runs (not
        those ``tried`` already), a stand-in made (from the first of them) for those that fit
        none; a letter no stand-in can serve goes to ``rest``."""
        families: dict[tuple, list[Letter]] = {}
        for letter in members:
            if letter.slot in tried:  # a second attempt: on a stand-in made since, or whole
                untried = tuple(s for s in self.stand_ins.find(letter) if s not in tried[letter.slot])
                if untried:
                    families.setdefault(_family(letter, untried), []).append(letter)
                else:
                    rest.append(letter)
                continue
            stand_ins = self.stand_ins.find(letter)
            if not stand_ins and self.stand_ins.may_add(group):
                with self.stand_ins.making(group):
                    stand_ins = self.stand_ins.find(letter)  # made by another chunk meanwhile?
                    if not stand_ins:
                        self.stand_ins.add(group, self._make_stand_in(letter))
                if letter.slot in self.results:  # it was converted whole, as a stand-in
                    continue
                stand_ins = stand_ins or self.stand_ins.find(letter)
            if stand_ins:
                families.setdefault(_family(letter, stand_ins), []).append(letter)
            else:
                rest.append(letter)
        return list(families.items())

    def _make_stand_in(self, letter: Letter) -> StandIn | None:
        """Convert ``letter`` whole, learning the page each block starts on; the letter's result is
        saved if the conversion passes the checks of any merged one."""
        workdir = self._fresh_dir(f"stand-in-{letter.slot}")
        token = f"OutreachStandIn{secrets.token_hex(4)}"
        docx = workdir / "stand-in.docx"
        try:
            merge([letter], docx, token, mark_blocks=True)
            self.offices.convert([docx], workdir)
        except OfficeFailure:
            return None
        except Exception as exc:  # a package we do not understand: converted whole later
            _log.warning("could not prepare a stand-in (%r); converting its group whole", exc)
            return None
        pdf = docx.with_suffix(".pdf")
        try:
            with pikepdf.open(pdf) as source:
                (pages,) = page_ranges(source, token, 1)
                page_texts = pdf_page_texts(pdf)
                check_segments([letter], [pages], page_texts)
                starts = destination_pages(source, f"{token}b0x")
                content = PdfContent(tuple(page_texts), pdf_fonts(source, pages))
                page_fonts = [pdf_fonts(source, [page]) for page in pages]
                self._save(letter, content, lambda: write_pages(letter, (source, pages)))
        except Exception as exc:  # any doubt: this group is converted whole, as before
            _log.warning("stand-in not used (%s); converting its group whole", exc)
            return None
        if letter.slot not in self.results or self.results[letter.slot].pdf is None:
            return None
        block_starts = [starts.get(f"{token}b0x{index}") for index in range(len(letter.block_digests))]
        return measure(letter, block_starts, letter.job.pdf.read_bytes(), page_texts, page_fonts)

    def _splice(self, group: str, plan: _SplicePlan) -> list[Letter] | None:
        """Save each spliced letter that passes the checks on one of its stand-ins; returns those
        that did not, or None if the chunk's canary says splicing cannot be trusted."""
        pdf = plan.docx.with_suffix(".pdf")
        try:
            source = pikepdf.open(pdf)
        except pikepdf.PdfError as exc:
            _log.warning("spliced PDF of %d letters unreadable (%s)", len(plan.letters), exc)
            return plan.letters
        with source, ExitStack() as opened:
            try:
                ranges = page_ranges(source, plan.token, len(plan.letters))
                page_texts = pdf_page_texts(pdf)
                check_segments(plan.letters, ranges, page_texts,
                               [kept_markers(letter, plan.runs) for letter in plan.letters])
                run_starts = destination_pages(source, f"{plan.token}r")
                splices = [_chosen(plan, index, pages, run_starts, page_texts, source)
                           for index, pages in enumerate(ranges)]
                if plan.canary is not None and splices[plan.canary] is not None:
                    spliced = splices[plan.canary][2].page_texts
                    check_canary(range(len(spliced)), list(spliced),
                                 pdf_page_texts(plan.canary_docx.with_suffix(".pdf")))
            except Exception as exc:  # any doubt about this chunk: its letters converted whole
                _log.warning("spliced conversion of %d letters not used (%s); converting them whole",
                             len(plan.letters), exc)
                return None
            later: dict[int, pikepdf.Pdf] = {}
            left = []
            for index, (letter, chosen) in enumerate(zip(plan.letters, splices)):
                if chosen is None:
                    # The canary was converted whole already.
                    if index != plan.canary or not self._take_output(letter, plan.canary_docx.with_suffix(".pdf")):
                        left.append(letter)
                    continue
                stand_in, converted, content = chosen
                self.stand_ins.hit(group, stand_in)
                if id(stand_in) not in later:
                    later[id(stand_in)] = opened.enter_context(pikepdf.open(io.BytesIO(stand_in.pdf)))
                pieces = [(source, range(converted[page], converted[page] + 1)) if page in converted
                          else (later[id(stand_in)], range(page, page + 1)) for page in range(len(stand_in.page_texts))]
                self._save(letter, content, lambda: write_pages(letter, *pieces))
        return left

    def _merged(self, letters: list[Letter]) -> tuple[list[Letter], bool]:
        """Convert each group of compatible letters as one document; returns the letters still
        to do and whether LibreOffice failed (timed out or stopped)."""
        groups: dict[str, list[Letter]] = {}
        for letter in letters:
            groups.setdefault(letter.group or f"alone-{letter.slot}", []).append(letter)
        merged = [group for group in groups.values() if len(group) > 1]
        pending = [group[0] for group in groups.values() if len(group) == 1]
        if not merged:
            return pending, False
        workdir = self._fresh_dir("merged")
        inputs: list[Path] = []
        plans: list[_MergePlan] = []
        for number, group in enumerate(merged):
            # The largest letter is the likeliest to show a layout difference.
            canary = max(range(len(group) - 1), key=lambda i: group[i].text_size)
            plan = _MergePlan(group, f"OutreachSplit{secrets.token_hex(4)}g{number}",
                              workdir / f"merged-{number}.docx", canary,
                              _stage(group[canary], workdir / f"canary-{number}.docx"))
            try:
                merge(group, plan.docx, plan.token)
            except Exception as exc:  # a package we do not understand: convert file by file
                _log.warning("could not merge %d letters (%r); converting them one by one",
                             len(group), exc)
                pending += group
                continue
            inputs += [plan.docx, plan.canary_docx]
            plans.append(plan)
        if not plans:
            return pending, False
        try:
            self.offices.convert(inputs, workdir)
        except OfficeFailure:
            return pending + [letter for plan in plans for letter in plan.letters], True
        for plan in plans:
            if not self._split(plan):
                pending += plan.letters
        return sorted(pending, key=lambda letter: letter.slot), False

    def _split(self, plan: _MergePlan) -> bool:
        pdf = plan.docx.with_suffix(".pdf")
        try:
            source = pikepdf.open(pdf)
        except pikepdf.PdfError as exc:
            _log.warning("merged PDF of %d letters unreadable (%s); converting them one by one",
                         len(plan.letters), exc)
            return False
        with source:
            try:
                ranges = page_ranges(source, plan.token, len(plan.letters))
                page_texts = pdf_page_texts(pdf)
                check_segments(plan.letters, ranges, page_texts)
                alone = pdf_page_texts(plan.canary_docx.with_suffix(".pdf"))
                check_canary(ranges[plan.canary], page_texts, alone)
            except Exception as exc:  # any doubt about the split: convert these letters one by one
                _log.warning("merged conversion of %d letters not used (%s); converting them "
                             "one by one", len(plan.letters), exc)
                return False
            for letter, pages in zip(plan.letters, ranges):
                content = PdfContent(tuple(page_texts[p] for p in pages), pdf_fonts(source, pages))
                self._save(letter, content, lambda: write_pages(letter, (source, pages)))
        return True

    def _batches(self, letters: list[Letter]) -> list[Letter]:
        """Convert files as they are, many per call; returns the letters that failed."""
        pending: list[Letter] = []
        for start in range(0, len(letters), _BATCH_FILES):
            batch = letters[start : start + _BATCH_FILES]
            workdir = self._fresh_dir(f"batch-{start}")
            inputs = [_stage(letter, workdir / f"{letter.slot}.docx") for letter in batch]
            try:
                self.offices.convert(inputs, workdir)
            except OfficeFailure:
                pending += batch
                continue
            pending += [
                letter for letter, docx in zip(batch, inputs)
                if not self._take_output(letter, docx.with_suffix(".pdf"))
            ]
        return pending

    def _single(self, letter: Letter) -> None:
        """Convert one file alone, retrying once; records a failure with its reason."""
        docx = letter.job.docx
        reason = ""
        for attempt in range(2):
            workdir = self._fresh_dir(f"single-{letter.slot}-{attempt}")
            staged = _stage(letter, workdir / f"{letter.slot}.docx")
            try:
                said = self.offices.convert([staged], workdir)
            except OfficeFailure as failure:
                if failure.timed_out:
                    reason = (f"LibreOffice không chuyển được tệp {docx} sang PDF sau "
                              f"{self.timeout_s:g} giây (đã thử 2 lần).")
                    continue
                said = failure.detail or "LibreOffice dừng đột ngột"
            if self._take_output(letter, staged.with_suffix(".pdf")):
                return
            detail = _last_line(said)
            reason = f"LibreOffice không chuyển được tệp {docx} sang PDF (đã thử 2 lần)" + (
                f": {detail}" if detail else "."
            )
        self._fail(letter.slot, letter.job, reason)

    def _take_output(self, letter: Letter, produced: Path) -> bool:
        try:
            content = read_pdf(produced) if produced.is_file() else None
        except ValueError:  # unreadable output: the caller tries again
            return False
        if content is None or not content.page_texts:
            return False
        self._save(letter, content, lambda: _move(produced, letter.job.pdf))
        return True

    def _save(self, letter: Letter, content: PdfContent, write: Callable[[], None]) -> None:
        try:
            write()
        except OSError as exc:
            self._fail(letter.slot, letter.job, f"Không ghi được tệp {letter.job.pdf}: {exc}")
        else:
            self.results[letter.slot] = ConversionResult(
                letter.job.key, letter.job.pdf, len(content.page_texts), None, content
            )

    def _fresh_dir(self, name: str) -> Path:
        path = self.tmp / name
        path.mkdir()
        return path


def _chosen(plan: _SplicePlan, index: int, pages: range, run_starts: dict[str, int | None],
            page_texts: list[str], source: pikepdf.Pdf) -> tuple[StandIn, dict[int, int], PdfContent] | None:
    """The first of the plan's stand-ins letter ``index``'s converted pages hold on: it, the
    letter's pages converted (page of the letter → page of the chunk's PDF), the letter's content."""
    starts = [pages.start] + [run_starts.get(f"{plan.token}r{index}x{k}") for k in range(1, len(plan.runs))]
    if any(start is None or not pages.start <= start < pages.stop for start in starts):
        return None
    ends = starts[1:] + [pages.stop]
    letter = plan.letters[index]
    for stand_in, runs in plan.stand_ins:
        if all(stand_in.holds(letter, run, page_texts[start:end]) for run, start, end in zip(runs, starts, ends)):
            converted = {run.first_page + offset: start + offset
                         for run, start in zip(runs, starts) for offset in range(stand_in.pages_of(run))}
            fonts = pdf_fonts(source, sorted(converted.values()))
            content = stand_in.spliced({page: page_texts[at] for page, at in converted.items()}, fonts)
            return stand_in, converted, content
    return None


def _family(letter: Letter, stand_ins: tuple[StandIn, ...]) -> tuple:
    """What a plan of spliced letters shares: the stand-ins whose runs for ``letter`` start where
    the first one's do (each with its runs), and the runs the letter is converted as."""
    candidates = [(stand_in, stand_in.runs_for(letter)) for stand_in in stand_ins]
    shape = [(run.start, run.first_page) for run in candidates[0][1]]
    agreeing = tuple((stand_in, runs) for stand_in, runs in candidates
                     if [(run.start, run.first_page) for run in runs] == shape)
    runs = tuple(Run(start, max(runs[k].stop for _, runs in agreeing), first)
                 for k, (start, first) in enumerate(shape))
    return agreeing, runs


def _move(produced: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(produced, target)


def _stage(letter: Letter, link: Path) -> Path:
    # LibreOffice names its output after the input; a unique link avoids clashes between
    # the many inputs that are all called "letter.docx".
    link.symlink_to(letter.job.docx.resolve())
    return link


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and "javaldx" not in line]
    return lines[-1].strip() if lines else ""
