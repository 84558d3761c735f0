"""DOCX → PDF with LibreOffice: a pool of workers, chunked merge + split, never a silent drop.

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
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import posixpath
import queue
import secrets
import shutil
import tempfile
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
import pikepdf

from outreach.convert.fidelity import PdfContent, pdf_fonts, pdf_page_texts, read_pdf
from outreach.convert.office import Office, OfficeFailure, find_soffice, open_office

__all__ = [
    "ConversionError",
    "ConversionJob",
    "ConversionResult",
    "PdfConverter",
    "convert_one",
]

_log = logging.getLogger(__name__)

# A multi-file call silently drops files past ~247, and a hang costs the whole call.
_BATCH_FILES = 50
# A paragraph this short fits on one line, so it never straddles a page break.
_MARKER_MAX_CHARS = 60

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
_DC = "http://purl.org/dc/elements/1.1/"
_OFFICE_DOCUMENT = _R + "/officeDocument"
_CORE_TO_PDF = {  # docProps/core.xml → PDF Info, as LibreOffice maps them
    "/Title": f"{{{_DC}}}title", "/Subject": f"{{{_DC}}}subject",
    "/Author": f"{{{_DC}}}creator", "/Keywords": f"{{{_CP}}}keywords",
}
_CORE_PROPERTIES = _PR + "/metadata/core-properties"
# Compiled once (lxml serialises calls, so threads may share them): run for every letter,
# they were most of the cost of reading one.
_HAS_UNPRINTED_OR_FIELD = etree.XPath(
    "boolean(.//w:instrText | .//w:fldSimple | .//w:vanish | .//w:webHidden | .//w:sym"
    " | .//w:txbxContent)", namespaces={"w": _W})
_RELATIONSHIP_ATTRIBUTES = etree.XPath(".//@r:*", namespaces={"r": _R})
_SECT_PR_ORDER = (
    "headerReference", "footerReference", "footnotePr", "endnotePr", "type", "pgSz", "pgMar",
    "paperSrc", "pgBorders", "lnNumType", "pgNumType", "cols", "formProt", "vAlign",
    "noEndnote", "titlePg", "textDirection", "bidi", "rtlGutter", "docGrid",
    "printerSettings", "sectPrChange",
)
# Things whose meaning changes once letters share one document.
_DOCUMENT_WIDE_REFERENCES = ("footnoteReference", "endnoteReference", "commentReference")
_MERGE_SAFE_FIELDS = frozenset({"PAGE"})
_UNCOUNTED_NUMBER_FORMATS = frozenset({"bullet", "none"})


def _w(name: str) -> str:
    return f"{{{_W}}}{name}"


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


def convert_one(docx: Path, pdf: Path, timeout_s: float = 120) -> int:
    """Convert one file; returns its page count or raises ConversionError."""
    job = ConversionJob(key=str(docx), docx=Path(docx), pdf=Path(pdf))
    (result,) = PdfConverter(workers=1, timeout_s=timeout_s).convert([job])
    if result.error is not None:
        raise ConversionError(result.error)
    return result.pages


class PdfConverter:
    """Converts many DOCX files with one LibreOffice worker per core (``workers``), each on a
    LibreOffice profile of its own.  Jobs are cut into chunks of at most ``chunk_size``
    letters; ``timeout_s`` bounds every LibreOffice call (a merged chunk, a batch of files or
    one file), after which the process group is killed and the work retried as described in
    the module docstring."""

    # With LibreOffice kept running a call costs little: chunks of 25 reference letters convert
    # as fast as 50 or 100 (measured against the machine's speed at the time) and keep the
    # whole process tree under 500 MB (459 MB PSS, against 521 MB for 50 and 573 MB for 100).
    DEFAULT_CHUNK_SIZE = 25

    def __init__(
        self,
        workers: int | None = None,
        timeout_s: float = 120,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        soffice: str | None = None,
    ) -> None:
        if chunk_size < 1 or timeout_s <= 0 or (workers is not None and workers < 1):
            raise ValueError("workers, chunk_size and timeout_s must be positive")
        self.workers = workers or os.cpu_count() or 1
        self.timeout_s = timeout_s
        self.chunk_size = chunk_size
        self.soffice = soffice or find_soffice()

    def convert(
        self,
        jobs: Sequence[ConversionJob],
        progress: Callable[[int], None] | None = None,
    ) -> list[ConversionResult]:
        """One result per job, in order; a job that fails has ``error`` set, never a gap.
        ``progress`` gets the number of jobs finished so far, on the caller's thread."""
        results: list[ConversionResult | None] = [None] * len(jobs)
        for done, (index, result) in enumerate(self.convert_iter(jobs), start=1):
            results[index] = result
            if progress is not None:
                progress(done)
        assert all(r is not None for r in results), "a job has no result"
        return results  # type: ignore[return-value]

    def convert_iter(self, jobs: Sequence[ConversionJob]) -> Iterator[tuple[int, ConversionResult]]:
        """(index of the job, its result) for every job, chunk by chunk as chunks finish, so
        the caller can use the first letters while LibreOffice converts the next ones."""
        chunks = self._chunks(len(jobs))
        offices = _OfficePool()
        write_lock = threading.Lock()
        with ExitStack() as stack:
            for _ in range(min(self.workers, len(chunks))):
                offices.put(stack.enter_context(open_office(self.soffice, self.timeout_s)))
            # Two chunks per office: while one is in LibreOffice, the other is written, merged
            # or split, so that LibreOffice never waits for Python.
            pool = ThreadPoolExecutor(max_workers=max(1, min(2 * self.workers, len(chunks))))
            # On an error, Ctrl-C or a caller that stops early, finish only the chunks running.
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            running = {
                pool.submit(self._convert_chunk, offices, write_lock, [(i, jobs[i]) for i in chunk])
                for chunk in chunks
            }
            for future in as_completed(running):
                # A finished future keeps its results (page texts included): let each go once
                # yielded, or memory grows with the number of letters.
                running.discard(future)
                yield from future.result()

    def _chunks(self, count: int) -> list[range]:
        # Spread small runs over all workers instead of filling one chunk.
        size = max(1, min(self.chunk_size, math.ceil(count / self.workers)))
        return [range(start, min(start + size, count)) for start in range(0, count, size)]

    def _convert_chunk(
        self,
        offices: _OfficePool,
        write_lock: threading.Lock,
        items: list[tuple[int, ConversionJob]],
    ) -> list[tuple[int, ConversionResult]]:
        with tempfile.TemporaryDirectory(prefix="outreach-chunk-") as tmp:
            return _ChunkRun(offices, Path(tmp), self.timeout_s, write_lock).run(items)


class _OfficePool:
    """The workers' LibreOffice processes, lent out for one call at a time."""

    def __init__(self) -> None:
        self._idle: queue.SimpleQueue[Office] = queue.SimpleQueue()

    def put(self, office: Office) -> None:
        self._idle.put(office)

    def convert(self, inputs: Sequence[Path], outdir: Path) -> str:
        office = self._idle.get()
        try:
            return office.convert(inputs, outdir)
        finally:
            self._idle.put(office)


# --------------------------------------------------------------------------- one chunk


_ListRulesCache = dict[tuple[object, ...], "_ListRules"]


@dataclass
class _Letter:
    """What a chunk needs to know of one letter.  Its package is parsed only while open:
    a chunk's parsed trees would otherwise all be in memory at once."""

    slot: int
    job: ConversionJob
    main_part: str = ""  # e.g. "word/document.xml"
    metadata: dict[str, str] = field(default_factory=dict)  # PDF metadata LibreOffice takes from docProps/core.xml
    group: str | None = None  # letters with equal groups can share one document; None: never
    markers: frozenset[str] = frozenset()  # see _markers
    text_size: int = 0
    # While open:
    package: zipfile.ZipFile | None = None
    document: etree._Element | None = None
    rels: dict[str, etree._Element] = field(default_factory=dict)  # Id → Relationship of the main part

    @property
    def body(self) -> etree._Element:
        return self.document.find(_w("body"))

    def open(self) -> etree._Element:
        """Parse the package (again); returns the ``_rels/.rels`` of the package."""
        self.package = zipfile.ZipFile(self.job.docx)
        package_rels = _parse(self.package, "_rels/.rels")
        self.main_part = _target_of(package_rels, _OFFICE_DOCUMENT, "")
        self.document = _parse(self.package, self.main_part)
        if self.document.find(_w("body")) is None:
            raise ValueError("không có phần thân văn bản")
        rels_xml = _parse_optional(self.package, _rels_name(self.main_part))
        self.rels = {} if rels_xml is None else {rel.get("Id"): rel for rel in rels_xml}
        return package_rels

    def release(self) -> None:
        if self.package is not None:
            self.package.close()
        self.package, self.document, self.rels = None, None, {}


@dataclass(frozen=True)
class _MergePlan:
    letters: list[_Letter]
    token: str  # prefix of this group's bookmark names
    docx: Path
    canary: int  # index of the letter also converted on its own
    canary_docx: Path


@dataclass
class _ChunkRun:
    """One chunk: merged documents where possible, then the remaining files as
    they are, several per call, then one call per file with a retry."""

    offices: _OfficePool
    tmp: Path
    timeout_s: float
    write_lock: threading.Lock
    results: dict[int, ConversionResult] = field(default_factory=dict)
    list_rules: _ListRulesCache = field(default_factory=dict)

    def run(self, items: list[tuple[int, ConversionJob]]) -> list[tuple[int, ConversionResult]]:
        letters = []
        for slot, job in items:
            if job.write_docx is not None and not self._write_docx(slot, job):
                continue
            try:
                letters.append(_read_letter(slot, job, self.list_rules))
            except ConversionError as exc:
                self._fail(slot, job, str(exc))
        pending, office_failed = self._merged(letters)
        if len(pending) > 1 and not office_failed:
            pending = self._batches(pending)
        for letter in pending:
            self._single(letter)
        return sorted(self.results.items())

    def _write_docx(self, slot: int, job: ConversionJob) -> bool:
        try:
            with self.write_lock:
                job.write_docx(job.docx)
        except Exception as exc:  # the writer's reason (a UserError's message) goes to the caller
            self._fail(slot, job, getattr(exc, "message", None) or str(exc))
            return False
        return True

    def _fail(self, slot: int, job: ConversionJob, reason: str) -> None:
        self.results[slot] = ConversionResult(job.key, None, 0, reason)

    def _merged(self, letters: list[_Letter]) -> tuple[list[_Letter], bool]:
        """Convert each group of compatible letters as one document; returns the letters still
        to do and whether LibreOffice failed (timed out or stopped)."""
        groups: dict[str, list[_Letter]] = {}
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
                _merge(group, plan.docx, plan.token)
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
                ranges = _page_ranges(source, plan.token, len(plan.letters))
                page_texts = pdf_page_texts(pdf)
                _check_segments(plan.letters, ranges, page_texts)
                alone = pdf_page_texts(plan.canary_docx.with_suffix(".pdf"))
                _check_canary(ranges[plan.canary], page_texts, alone)
            except Exception as exc:  # any doubt about the split: convert these letters one by one
                _log.warning("merged conversion of %d letters not used (%s); converting them "
                             "one by one", len(plan.letters), exc)
                return False
            for letter, pages in zip(plan.letters, ranges):
                content = PdfContent(tuple(page_texts[p] for p in pages), pdf_fonts(source, pages))
                self._save(letter, content, lambda: _write_pages(source, pages, letter))
        return True

    def _batches(self, letters: list[_Letter]) -> list[_Letter]:
        """Convert files as they are, many per call; returns the letters that failed."""
        pending: list[_Letter] = []
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

    def _single(self, letter: _Letter) -> None:
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

    def _take_output(self, letter: _Letter, produced: Path) -> bool:
        try:
            content = read_pdf(produced) if produced.is_file() else None
        except ValueError:  # unreadable output: the caller tries again
            return False
        if content is None or not content.page_texts:
            return False
        self._save(letter, content, lambda: _move(produced, letter.job.pdf))
        return True

    def _save(self, letter: _Letter, content: PdfContent, write: Callable[[], None]) -> None:
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


def _move(produced: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(produced, target)


def _stage(letter: _Letter, link: Path) -> Path:
    # LibreOffice names its output after the input; a unique link avoids clashes between
    # the many inputs that are all called "letter.docx".
    link.symlink_to(letter.job.docx.resolve())
    return link


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and "javaldx" not in line]
    return lines[-1].strip() if lines else ""


# --------------------------------------------------------------------------- reading a DOCX


def _read_letter(slot: int, job: ConversionJob, list_rules: _ListRulesCache) -> _Letter:
    if not job.docx.is_file():
        raise ConversionError(f"Không tìm thấy tệp {job.docx}; hãy tạo lại thư.")
    letter = _Letter(slot=slot, job=job)
    try:
        package_rels = letter.open()
        core_part = _target_of(package_rels, _CORE_PROPERTIES, "", required=False)
        letter.metadata = _pdf_metadata(_parse_optional(letter.package, core_part) if core_part else None)
        letter.group = _merge_group(letter, list_rules)
        letter.markers = frozenset(_markers(letter.body))
        letter.text_size = sum(len(t.text or "") for t in letter.body.iter(_w("t")))
        return letter
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise _broken(job, exc) from exc
    finally:
        letter.release()


def _broken(job: ConversionJob, exc: Exception) -> ConversionError:
    return ConversionError(
        f"Tệp {job.docx} bị hỏng hoặc không phải tệp DOCX ({exc}); hãy tạo lại thư."
    )


def _parse(package: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(package.read(name), etree.XMLParser(huge_tree=True))


def _parse_optional(package: zipfile.ZipFile, name: str) -> etree._Element | None:
    return _parse(package, name) if name in package.NameToInfo else None


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _target_of(rels: etree._Element, rel_type: str, source: str, required: bool = True) -> str:
    for rel in rels:
        if rel.get("Type") == rel_type:
            return _resolve(source, rel.get("Target"))
    if required:
        raise ValueError(f"thiếu quan hệ {rel_type.rsplit('/', 1)[-1]}")
    return ""


def _merge_group(letter: _Letter, list_rules: _ListRulesCache) -> str | None:
    """Key shared by letters that can go into one document, or None if this one cannot.

    Letters are merged only with letters whose document-wide parts (styles, numbering,
    settings, fonts, theme, ...) are byte-identical, so the base letter's parts serve all."""
    if _merge_blocker(letter, list_rules):
        return None
    used = _referenced_ids(letter.body)
    digest = hashlib.sha256()
    for rel_id, rel in sorted(letter.rels.items()):
        if rel_id in used or rel.get("TargetMode") == "External":
            continue
        info = letter.package.getinfo(_resolve(letter.main_part, rel.get("Target")))
        digest.update(f"{rel.get('Type')}|{info.CRC}|{info.file_size}\n".encode())
    digest.update(repr(_header_types(letter.body[-1])).encode())
    # The base letter's root element (namespaces, background) stands for all letters.
    digest.update(repr(sorted(letter.document.attrib.items())).encode())
    for child in letter.document:
        if child.tag != _w("body"):
            digest.update(etree.tostring(child))
    return digest.hexdigest()


def _merge_blocker(letter: _Letter, list_rules: _ListRulesCache) -> bool:
    """True if merging could change how this letter looks (so it is converted on its own)."""
    body = letter.body
    if not len(body) or body[-1].tag != _w("sectPr"):
        return True
    for name in _DOCUMENT_WIDE_REFERENCES:
        if body.find(f".//{_w(name)}") is not None:
            return True
    if any(link.get(_w("anchor")) for link in body.iter(_w("hyperlink"))):
        return True  # a bookmark name may exist in several letters; the link could jump letters
    if any(_field_name(code) not in _MERGE_SAFE_FIELDS
           for story in _stories(letter) for code in _field_codes(story)):
        return True  # e.g. NUMPAGES would count the pages of the whole chunk
    # Headers and footers a section leaves out are inherited from the previous section, which
    # would be the previous letter's; so every section must name the same kinds.
    sections = body.iter(_w("sectPr"))
    if len({_header_types(section) for section in sections}) != 1:
        return True
    return _list_rules(letter, list_rules).counts_in(body)


def _stories(letter: _Letter) -> Iterator[etree._Element]:
    """The body and the headers and footers its sections use."""
    yield letter.body
    for reference in letter.body.iter(_w("headerReference"), _w("footerReference")):
        rel = letter.rels.get(reference.get(f"{{{_R}}}id"))
        if rel is not None:
            yield _parse(letter.package, _resolve(letter.main_part, rel.get("Target")))


def _field_codes(story: etree._Element) -> Iterator[str]:
    for simple in story.iter(_w("fldSimple")):
        yield simple.get(_w("instr"), "")
    open_codes: list[str] = []  # complex fields nest and may span runs and paragraphs
    for node in story.iter(_w("fldChar"), _w("instrText")):
        if node.tag == _w("instrText"):
            if open_codes:
                open_codes[-1] += node.text or ""
        elif node.get(_w("fldCharType")) == "begin":
            open_codes.append("")
        elif node.get(_w("fldCharType")) == "end" and open_codes:
            yield open_codes.pop()
    yield from open_codes


def _field_name(code: str) -> str:
    words = code.split()
    return words[0].upper() if words else ""


def _header_types(section: etree._Element) -> tuple[str, ...]:
    return tuple(sorted(
        f"{etree.QName(ref).localname}:{ref.get(_w('type'), 'default')}"
        for ref in section
        if ref.tag in (_w("headerReference"), _w("footerReference"))
    ))


@dataclass(frozen=True)
class _ListRules:
    """Which numbering a template's paragraphs use, and which of it counts (1, 2, 3 …).

    A counted list would keep counting from the previous letter once letters are merged."""

    counted: frozenset[str]  # numIds of lists that count
    style_num_ids: dict[str, frozenset[str]]  # styleId → numIds it reaches through basedOn

    def counts_in(self, body: etree._Element) -> bool:
        num_ids = {node.get(_w("val")) for node in body.iter(_w("numId"))}
        for node in body.iter(_w("pStyle")):
            num_ids |= self.style_num_ids.get(node.get(_w("val")), frozenset())
        return not num_ids.isdisjoint(self.counted)

    @classmethod
    def read(cls, numbering: etree._Element | None, styles: etree._Element | None) -> _ListRules:
        if numbering is None:
            return cls(frozenset(), {})
        counted_abstract = {
            abstract.get(_w("abstractNumId"))
            for abstract in numbering.iter(_w("abstractNum"))
            if any(fmt.get(_w("val")) not in _UNCOUNTED_NUMBER_FORMATS
                   for fmt in abstract.iter(_w("numFmt")))
        }
        counted = frozenset(
            num.get(_w("numId"))
            for num in numbering.iter(_w("num"))
            for abstract_id in num.iterchildren(_w("abstractNumId"))
            if abstract_id.get(_w("val")) in counted_abstract
        )
        return cls(counted, {} if styles is None else _style_num_ids(styles))


def _style_num_ids(styles: etree._Element) -> dict[str, frozenset[str]]:
    by_id = {style.get(_w("styleId")): style for style in styles.iter(_w("style"))}
    reached: dict[str, frozenset[str]] = {}
    for style_id in by_id:
        found: set[str] = set()
        seen: set[str] = set()
        current: str | None = style_id
        while current in by_id and current not in seen:
            seen.add(current)
            found |= {node.get(_w("val")) for node in by_id[current].iter(_w("numId"))}
            based_on = by_id[current].find(_w("basedOn"))
            current = None if based_on is None else based_on.get(_w("val"))
        if found:
            reached[style_id] = frozenset(found)
    return reached


def _list_rules(letter: _Letter, cache: _ListRulesCache) -> _ListRules:
    """The template's _ListRules; letters of one template share them, so they are cached by
    the parts' checksums (parsing styles.xml for every letter would dominate the merge)."""
    package = letter.package
    parts = {
        kind: _resolve(letter.main_part, rel.get("Target"))
        for rel in letter.rels.values()
        if (kind := rel.get("Type").rsplit("/", 1)[-1]) in ("numbering", "styles")
        and rel.get("TargetMode") != "External"
    }
    key = tuple(sorted(
        (kind, package.getinfo(part).CRC, package.getinfo(part).file_size)
        for kind, part in parts.items()
    ))
    if key not in cache:
        cache[key] = _ListRules.read(
            *(_parse(package, parts[kind]) if kind in parts else None
              for kind in ("numbering", "styles"))
        )
    return cache[key]


def _referenced_ids(element: etree._Element) -> set[str]:
    return set(_RELATIONSHIP_ATTRIBUTES(element))


def _markers(body: etree._Element) -> Iterator[str]:
    """Short lines of the letter's body-level paragraphs, as they appear in the PDF text (see
    _squash).  Such a line is a single line of print, so no page break (and no page header
    text) can fall inside it; lines in table cells may wrap and are left out."""
    for paragraph in body.iterchildren(_w("p")):
        if _HAS_UNPRINTED_OR_FIELD(paragraph):
            continue
        for line in map(_squash, _paragraph_lines(paragraph)):
            if 0 < len(line) <= _MARKER_MAX_CHARS:
                yield line


def _paragraph_lines(paragraph: etree._Element) -> list[str]:
    lines = [""]
    for node in paragraph.iter(_w("t"), _w("br"), _w("cr"), _w("tab")):
        if node.tag == _w("t"):
            lines[-1] += node.text or ""
        elif node.tag == _w("tab"):
            lines[-1] += " "
        else:
            lines.append("")
    return lines


def _squash(text: str) -> str:
    # Line wrapping, justification and capitals styles change spacing and case, not letters.
    return "".join(unicodedata.normalize("NFC", text).casefold().split())


def _pdf_metadata(core: etree._Element | None) -> dict[str, str]:
    if core is None:
        return {}
    found = {key: core.findtext(tag) for key, tag in _CORE_TO_PDF.items()}
    return {key: value for key, value in found.items() if value}


# --------------------------------------------------------------------------- merging


def _merge(letters: list[_Letter], out: Path, token: str) -> None:
    """Write one DOCX holding ``letters`` as consecutive sections, with bookmarks
    ``{token}s{i}``/``{token}e{i}`` at the start and end of letter ``i``.

    Letters are opened one at a time and their body written out at once, so memory holds one
    letter, not the chunk.  The base letter's root stays as the wrapper each letter's content
    is serialised in: the namespaces it declares are then not repeated on every paragraph."""
    base = letters[0]
    base.open()
    try:
        merged = _MergedPackage(base, out)
        body = base.body
        base_content = list(body)
        for child in base_content:
            body.remove(child)
        marker = etree.Comment("outreach-merge")
        body.append(marker)
        head, tail = etree.tostring(base.document, encoding="UTF-8").split(etree.tostring(marker))
        body.remove(marker)
        main_xml = out.with_name(out.name + ".xml")
        bookmark_ids = iter(range(1, 1 << 30))
        with main_xml.open("wb") as stream:
            stream.write(b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n" + head)
            for index, letter in enumerate(letters):
                try:
                    if index == 0:
                        content = base_content
                    else:
                        letter.open()
                        content = list(letter.body)
                        merged.import_relationships(letter, content)
                    _add_letter(content, index, index == len(letters) - 1, token, bookmark_ids)
                    body.extend(content)
                    text = etree.tostring(base.document, encoding="UTF-8")
                    assert text.startswith(head) and text.endswith(tail), "wrapper changed"
                    stream.write(text[len(head):len(text) - len(tail)])
                    for child in content:
                        body.remove(child)
                finally:
                    if index > 0:
                        letter.release()
            stream.write(tail)
        merged.write(main_xml)
    finally:
        base.release()


def _add_letter(content: list[etree._Element], index: int, last: bool, token: str,
                bookmark_ids: Iterator[int]) -> None:
    """Make ``content`` (a letter's body) one section run of the merged document."""
    final_section = content.pop()  # _merge_blocker guarantees a body-level sectPr last
    _renumber_bookmarks(content, bookmark_ids)
    _start_letter(content, final_section)
    closing = _closing_paragraph(content)
    _add_bookmark(_first_paragraph(content), f"{token}s{index}", next(bookmark_ids), 0)
    _add_bookmark(closing, f"{token}e{index}", next(bookmark_ids), len(closing))
    if last:
        content.append(final_section)
    else:
        _paragraph_properties(closing).append(final_section)


def _first_paragraph(content: list[etree._Element]) -> etree._Element:
    for element in content:
        paragraph = element if element.tag == _w("p") else element.find(f".//{_w('p')}")
        if paragraph is not None:
            return paragraph
    raise AssertionError("unreachable: _closing_paragraph guarantees a paragraph")


def _renumber_bookmarks(content: list[etree._Element], ids: Iterator[int]) -> None:
    # Bookmark ids must be unique in the merged document or starts pair with wrong ends.
    mapping: dict[str, str] = {}
    for element in content:
        for node in element.iter(_w("bookmarkStart"), _w("bookmarkEnd")):
            node.set(_w("id"), mapping.setdefault(node.get(_w("id")), str(next(ids))))


def _start_letter(content: list[etree._Element], final_section: etree._Element) -> None:
    """Make the letter's first section start a new page numbered 1, as it does on its own."""
    first_section = next(
        (s for element in content for s in element.iter(_w("sectPr"))), final_section
    )
    _child(first_section, "type").set(_w("val"), "nextPage")
    numbering = _child(first_section, "pgNumType")
    if numbering.get(_w("start")) is None:
        numbering.set(_w("start"), "1")


def _closing_paragraph(content: list[etree._Element]) -> etree._Element:
    """The body-level paragraph that ends the letter and will carry its section break."""
    last = content[-1] if content else None
    if (last is not None and last.tag == _w("p")
            and last.find(f"{_w('pPr')}/{_w('sectPr')}") is None):
        return last
    # Writer, too, ends a document whose last block is a table with an empty paragraph.
    paragraph = etree.Element(_w("p"))
    content.append(paragraph)
    return paragraph


def _add_bookmark(paragraph: etree._Element, name: str, bookmark_id: int, position: int) -> None:
    if len(paragraph) and paragraph[0].tag == _w("pPr"):
        position = max(position, 1)
    paragraph.insert(position, etree.Element(_w("bookmarkEnd"), {_w("id"): str(bookmark_id)}))
    paragraph.insert(position, etree.Element(
        _w("bookmarkStart"), {_w("id"): str(bookmark_id), _w("name"): name}
    ))


def _paragraph_properties(paragraph: etree._Element) -> etree._Element:
    properties = paragraph.find(_w("pPr"))
    if properties is None:
        properties = etree.Element(_w("pPr"))
        paragraph.insert(0, properties)
    return properties


def _child(section: etree._Element, name: str) -> etree._Element:
    """The child ``name`` of a sectPr, created in schema order if missing."""
    existing = section.find(_w(name))
    if existing is not None:
        return existing
    rank = _SECT_PR_ORDER.index(name)
    element = etree.Element(_w(name))
    for index, sibling in enumerate(section):
        local = etree.QName(sibling).localname
        if local in _SECT_PR_ORDER and _SECT_PR_ORDER.index(local) > rank:
            section.insert(index, element)
            return element
    section.append(element)
    return element


@dataclass(frozen=True)
class _ContentTypes:
    defaults: dict[str, str]  # extension → content type
    overrides: dict[str, str]  # part name → content type

    @classmethod
    def read(cls, package: zipfile.ZipFile) -> _ContentTypes:
        types = _parse(package, "[Content_Types].xml")
        return cls(
            {d.get("Extension").lower(): d.get("ContentType") for d in _defaults(types)},
            {o.get("PartName").lstrip("/"): o.get("ContentType")
             for o in types.iter(f"{{{_CT}}}Override")},
        )

    def of(self, part: str) -> str:
        return self.overrides.get(part) or self.defaults.get(_extension(part), "")


def _defaults(types: etree._Element) -> Iterator[etree._Element]:
    return types.iter(f"{{{_CT}}}Default")


def _extension(part: str) -> str:
    return posixpath.splitext(part)[1].lstrip(".").lower()


class _MergedPackage:
    """The base letter's package, plus the parts the other letters' content points to."""

    def __init__(self, base: _Letter, out: Path) -> None:
        self._base = base
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_STORED)
        self._rels = _parse(base.package, _rels_name(base.main_part))
        self._types = _parse(base.package, "[Content_Types].xml")
        self._defaults = {d.get("Extension").lower() for d in _defaults(self._types)}
        self._names = set(base.package.namelist())
        self._rel_count = len(self._rels)
        self._leaves: dict[tuple[str, bytes], str] = {}  # e.g. a logo shared by all letters
        self._letters = 0

    def import_relationships(self, letter: _Letter, elements: list[etree._Element]) -> None:
        """Re-point every r:* reference in ``elements`` at a relationship of the merged part."""
        self._letters += 1
        copier = _PartCopier(self, letter, f"m{self._letters}-")
        new_ids: dict[str, str] = {}
        for element in elements:
            for value in _RELATIONSHIP_ATTRIBUTES(element):  # "smart" strings: they know their element
                if value in letter.rels:
                    if value not in new_ids:
                        new_ids[value] = self._relate(copier, letter.rels[value])
                    value.getparent().set(value.attrname, new_ids[value])

    def _relate(self, copier: _PartCopier, rel: etree._Element) -> str:
        attributes = dict(rel.attrib)
        if rel.get("TargetMode") != "External":
            part = copier.copy(_resolve(copier.letter.main_part, rel.get("Target")))
            attributes["Target"] = posixpath.relpath(part, posixpath.dirname(self._base.main_part))
        self._rel_count += 1
        attributes["Id"] = f"rIdMerged{self._rel_count}"
        etree.SubElement(self._rels, f"{{{_PR}}}Relationship", attributes)
        return attributes["Id"]

    def shared_leaf(self, content_type: str, blob: bytes) -> tuple[tuple[str, bytes], str | None]:
        key = (content_type, hashlib.sha256(blob).digest())
        return key, self._leaves.get(key)

    def add_part(self, name: str, data: bytes, content_type: str, override: bool,
                 leaf_key: tuple[str, bytes] | None = None) -> None:
        assert name not in self._names, f"duplicate part {name}"
        self._names.add(name)
        self._zip.writestr(name, data)
        if leaf_key is not None:
            self._leaves[leaf_key] = name
        if override:
            etree.SubElement(self._types, f"{{{_CT}}}Override",
                             {"PartName": "/" + name, "ContentType": content_type})
        elif _extension(name) not in self._defaults:
            self._defaults.add(_extension(name))
            etree.SubElement(self._types, f"{{{_CT}}}Default",
                             {"Extension": _extension(name), "ContentType": content_type})

    def write(self, main_xml: Path) -> None:
        """Finish the package with the merged main part, already written to ``main_xml``."""
        base = self._base
        generated = {
            _rels_name(base.main_part): self._rels,
            "[Content_Types].xml": self._types,
        }
        for info in base.package.infolist():
            if info.filename not in generated and info.filename != base.main_part:
                self._zip.writestr(info.filename, base.package.read(info))
        for name, element in generated.items():
            self._zip.writestr(name, _xml_bytes(element))
        self._zip.write(main_xml, base.main_part)
        self._zip.close()
        main_xml.unlink()


@dataclass
class _PartCopier:
    """Copies parts of one letter (with the parts they point to) into the merged package."""

    merged: _MergedPackage
    letter: _Letter
    prefix: str
    types: _ContentTypes = field(init=False)
    copied: dict[str, str] = field(default_factory=dict)  # source part → new name

    def __post_init__(self) -> None:
        self.types = _ContentTypes.read(self.letter.package)

    def copy(self, source: str) -> str:
        if source in self.copied:
            return self.copied[source]
        package = self.letter.package
        blob = package.read(source)
        content_type = self.types.of(source)
        rels = _parse_optional(package, _rels_name(source))
        leaf_key, shared = self.merged.shared_leaf(content_type, blob)
        if rels is None and shared is not None:
            self.copied[source] = shared
            return shared
        folder, name = posixpath.split(source)
        new_name = posixpath.join(folder, self.prefix + name)
        self.copied[source] = new_name
        if rels is not None:
            for rel in rels:
                if rel.get("TargetMode") != "External":
                    target = self.copy(_resolve(source, rel.get("Target")))
                    rel.set("Target", posixpath.relpath(target, folder))
            self.merged.add_part(_rels_name(new_name), _xml_bytes(rels),
                                 self.types.of(_rels_name(source)), override=False)
        self.merged.add_part(new_name, blob, content_type, source in self.types.overrides,
                             leaf_key if rels is None else None)
        return new_name


def _xml_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


# --------------------------------------------------------------------------- splitting


class _SplitMismatch(Exception):
    pass


def _page_ranges(source: pikepdf.Pdf, token: str, count: int) -> list[range]:
    """Each letter's pages from its start/end destinations; raises _SplitMismatch unless the
    ranges are in order, contiguous and cover every page."""
    page_numbers = {page.obj.objgen: number for number, page in enumerate(source.pages)}
    pages = {}
    for name, destination in _named_destinations(source):
        if name.startswith(token):
            if isinstance(destination, pikepdf.Dictionary):  # { /D [page /XYZ ...] }
                destination = destination.get("/D")
            if isinstance(destination, pikepdf.Array) and len(destination):
                pages[name] = page_numbers.get(destination[0].objgen)
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


def _check_segments(letters: list[_Letter], ranges: list[range], page_texts: list[str]) -> None:
    """Each segment has text, all of its letter's short lines, and no line that only a
    neighbouring letter has."""
    for index, (letter, pages) in enumerate(zip(letters, ranges)):
        lines = [_squash(line) for p in pages for line in page_texts[p].splitlines()]
        if not any(lines):
            raise _SplitMismatch(f"letter {index}: no text")
        text = "".join(lines)
        if any(marker not in text for marker in letter.markers):
            raise _SplitMismatch(f"letter {index}: some of its own text is missing")
        # Whole lines, so that a neighbour "Công ty A" is not found inside "Công ty AB".
        printed = set(lines)
        for neighbour in letters[max(index - 1, 0) : index] + letters[index + 1 : index + 2]:
            if not printed.isdisjoint(neighbour.markers - letter.markers):
                raise _SplitMismatch(f"letter {index}: holds text of a neighbouring letter")


def _check_canary(pages: range, merged_texts: list[str], alone_texts: list[str]) -> None:
    segment = [" ".join(merged_texts[p].split()) for p in pages]
    alone = [" ".join(text.split()) for text in alone_texts]
    if segment != alone:
        raise _SplitMismatch("the canary letter differs when converted alone")


def _write_pages(source: pikepdf.Pdf, pages: range, letter: _Letter) -> None:
    with pikepdf.new() as document:
        document.pages.extend(source.pages[pages.start : pages.stop])
        # The merged file carries the first letter's title and author; each letter gets its own.
        for key, value in source.docinfo.items():
            if key not in _CORE_TO_PDF:
                document.docinfo[key] = value
        for key, value in letter.metadata.items():
            document.docinfo[key] = value
        target = letter.job.pdf
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        document.save(partial, deterministic_id=True)
    os.replace(partial, target)
