"""One letter's DOCX as the chunk sees it: where its parts are, whether it can share a merged
document with other letters (and with which), the short lines that must be found on its pages,
and the PDF metadata LibreOffice would give it.

Internal to the package (``outreach/convert/__init__.py`` says what its names mean).
"""

from __future__ import annotations

import hashlib
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lxml import etree

from .jobs import ConversionError, ConversionJob
from .ooxml import (
    CORE_PROPERTIES,
    CP,
    DC,
    OFFICE_DOCUMENT,
    RELATIONSHIP_ATTRIBUTES,
    R,
    W,
    parse,
    parse_optional,
    rels_name,
    resolve,
    target_of,
    w,
)

# A paragraph this short fits on one line, so it never straddles a page break.
_MARKER_MAX_CHARS = 60
CORE_TO_PDF = {  # docProps/core.xml → PDF Info, as LibreOffice maps them
    "/Title": f"{{{DC}}}title", "/Subject": f"{{{DC}}}subject",
    "/Author": f"{{{DC}}}creator", "/Keywords": f"{{{CP}}}keywords",
}
# Compiled once (lxml serialises calls, so threads may share it): run for every letter, it and
# ooxml.RELATIONSHIP_ATTRIBUTES were most of the cost of reading one.
_HAS_UNPRINTED_OR_FIELD = etree.XPath(
    "boolean(.//w:instrText | .//w:fldSimple | .//w:vanish | .//w:webHidden | .//w:sym"
    " | .//w:txbxContent)", namespaces={"w": W})
# Things whose meaning changes once letters share one document.
_DOCUMENT_WIDE_REFERENCES = ("footnoteReference", "endnoteReference", "commentReference")
_MERGE_SAFE_FIELDS = frozenset({"PAGE"})
_UNCOUNTED_NUMBER_FORMATS = frozenset({"bullet", "none"})

ListRulesCache = dict[tuple[object, ...], "_ListRules"]


@dataclass
class ReadCache:
    """What letters of one template share, kept while a chunk reads its letters: the list rules
    of their styles and numbering, and the markers and text size of each block by its digest
    (most blocks of a copy are the same in every letter: computing them was a third of reading one)."""

    list_rules: ListRulesCache = field(default_factory=dict)
    blocks: dict[bytes, tuple[frozenset[str], int]] = field(default_factory=dict)

    def block(self, digest: bytes, block: etree._Element) -> tuple[frozenset[str], int]:
        known = self.blocks.get(digest)
        if known is None:
            known = self.blocks[digest] = (frozenset(_markers(block)),
                                           sum(len(t.text or "") for t in block.iter(w("t"))))
        return known


@dataclass
class Letter:
    """What a chunk needs to know of one letter.  Its package is parsed only while open:
    a chunk's parsed trees would otherwise all be in memory at once."""

    slot: int
    job: ConversionJob
    main_part: str = ""  # e.g. "word/document.xml"
    metadata: dict[str, str] = field(default_factory=dict)  # PDF metadata LibreOffice takes from docProps/core.xml
    group: str | None = None  # letters with equal groups can share one document; None: never
    markers: frozenset[str] = frozenset()  # see _markers
    # Per body block (the final sectPr left out): a digest of what it prints (its XML and the
    # parts it points to) and its markers.  Two letters of one group whose digests differ only on
    # some blocks differ only there: what ``splice`` needs to know.
    block_digests: tuple[bytes, ...] = ()
    block_markers: tuple[frozenset[str], ...] = ()
    section_digest: bytes = b""  # the final sectPr's, its headers and footers included
    single_section: bool = True
    block_sizes: tuple[int, ...] = ()  # characters of text per block
    text_size: int = 0
    # While open:
    package: zipfile.ZipFile | None = None
    document: etree._Element | None = None
    rels: dict[str, etree._Element] = field(default_factory=dict)  # Id → Relationship of the main part

    @property
    def body(self) -> etree._Element:
        return self.document.find(w("body"))

    def open(self) -> etree._Element:
        """Parse the package (again); returns the ``_rels/.rels`` of the package."""
        self.package = zipfile.ZipFile(self.job.docx)
        package_rels = parse(self.package, "_rels/.rels")
        self.main_part = target_of(package_rels, OFFICE_DOCUMENT, "")
        self.document = parse(self.package, self.main_part)
        if self.document.find(w("body")) is None:
            raise ValueError("không có phần thân văn bản")
        rels_xml = parse_optional(self.package, rels_name(self.main_part))
        self.rels = {} if rels_xml is None else {rel.get("Id"): rel for rel in rels_xml}
        return package_rels

    def release(self) -> None:
        if self.package is not None:
            self.package.close()
        self.package, self.document, self.rels = None, None, {}


def read_letter(slot: int, job: ConversionJob, cache: ReadCache) -> Letter:
    if not job.docx.is_file():
        raise ConversionError(f"Không tìm thấy tệp {job.docx}; hãy tạo lại thư.")
    letter = Letter(slot=slot, job=job)
    try:
        package_rels = letter.open()
        core_part = target_of(package_rels, CORE_PROPERTIES, "", required=False)
        letter.metadata = _pdf_metadata(parse_optional(letter.package, core_part) if core_part else None)
        letter.group = _merge_group(letter, cache.list_rules)
        if letter.group is not None:
            blocks = list(letter.body)  # a group's letters end with their body-level sectPr
            references = _references_by_block(letter.body)
            digests = [_block_digest(letter, block, references.get(block, ())) for block in blocks]
            letter.block_digests, letter.section_digest = tuple(digests[:-1]), digests[-1]
            facts = [cache.block(digest, block) for digest, block in zip(digests[:-1], blocks)]
            letter.block_markers = tuple(markers for markers, _ in facts)
            letter.block_sizes = tuple(size for _, size in facts)
            letter.single_section = sum(1 for _ in letter.body.iter(w("sectPr"))) == 1
            letter.markers = frozenset().union(*letter.block_markers)
            letter.text_size = sum(letter.block_sizes)  # the final sectPr prints no text
        else:
            letter.markers = frozenset(marker for block in letter.body for marker in _markers(block))
            letter.text_size = sum(len(t.text or "") for t in letter.body.iter(w("t")))
        return letter
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise _broken(job, exc) from exc
    finally:
        letter.release()


def _broken(job: ConversionJob, exc: Exception) -> ConversionError:
    return ConversionError(
        f"Tệp {job.docx} bị hỏng hoặc không phải tệp DOCX ({exc}); hãy tạo lại thư."
    )


def _merge_group(letter: Letter, list_rules: ListRulesCache) -> str | None:
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
        info = letter.package.getinfo(resolve(letter.main_part, rel.get("Target")))
        digest.update(f"{rel.get('Type')}|{info.CRC}|{info.file_size}\n".encode())
    digest.update(repr(_header_types(letter.body[-1])).encode())
    # The base letter's root element (namespaces, background) stands for all letters.
    digest.update(repr(sorted(letter.document.attrib.items())).encode())
    for child in letter.document:
        if child.tag != w("body"):
            digest.update(etree.tostring(child))
    return digest.hexdigest()


def _merge_blocker(letter: Letter, list_rules: ListRulesCache) -> bool:
    """True if merging could change how this letter looks (so it is converted on its own)."""
    body = letter.body
    if not len(body) or body[-1].tag != w("sectPr"):
        return True
    for name in _DOCUMENT_WIDE_REFERENCES:
        if body.find(f".//{w(name)}") is not None:
            return True
    if any(link.get(w("anchor")) for link in body.iter(w("hyperlink"))):
        return True  # a bookmark name may exist in several letters; the link could jump letters
    if any(_field_name(code) not in _MERGE_SAFE_FIELDS
           for story in _stories(letter) for code in _field_codes(story)):
        return True  # e.g. NUMPAGES would count the pages of the whole chunk
    # Headers and footers a section leaves out are inherited from the previous section, which
    # would be the previous letter's; so every section must name the same kinds.
    sections = body.iter(w("sectPr"))
    if len({_header_types(section) for section in sections}) != 1:
        return True
    return _list_rules(letter, list_rules).counts_in(body)


def _stories(letter: Letter) -> Iterator[etree._Element]:
    """The body and the headers and footers its sections use."""
    yield letter.body
    for reference in letter.body.iter(w("headerReference"), w("footerReference")):
        rel = letter.rels.get(reference.get(f"{{{R}}}id"))
        if rel is not None:
            yield parse(letter.package, resolve(letter.main_part, rel.get("Target")))


def _field_codes(story: etree._Element) -> Iterator[str]:
    for simple in story.iter(w("fldSimple")):
        yield simple.get(w("instr"), "")
    open_codes: list[str] = []  # complex fields nest and may span runs and paragraphs
    for node in story.iter(w("fldChar"), w("instrText")):
        if node.tag == w("instrText"):
            if open_codes:
                open_codes[-1] += node.text or ""
        elif node.get(w("fldCharType")) == "begin":
            open_codes.append("")
        elif node.get(w("fldCharType")) == "end" and open_codes:
            yield open_codes.pop()
    yield from open_codes


def _field_name(code: str) -> str:
    words = code.split()
    return words[0].upper() if words else ""


def _header_types(section: etree._Element) -> tuple[str, ...]:
    return tuple(sorted(
        f"{etree.QName(ref).localname}:{ref.get(w('type'), 'default')}"
        for ref in section
        if ref.tag in (w("headerReference"), w("footerReference"))
    ))


@dataclass(frozen=True)
class _ListRules:
    """Which numbering a template's paragraphs use, and which of it counts (1, 2, 3 …).

    A counted list would keep counting from the previous letter once letters are merged."""

    counted: frozenset[str]  # numIds of lists that count
    style_num_ids: dict[str, frozenset[str]]  # styleId → numIds it reaches through basedOn

    def counts_in(self, body: etree._Element) -> bool:
        num_ids = {node.get(w("val")) for node in body.iter(w("numId"))}
        for node in body.iter(w("pStyle")):
            num_ids |= self.style_num_ids.get(node.get(w("val")), frozenset())
        return not num_ids.isdisjoint(self.counted)

    @classmethod
    def read(cls, numbering: etree._Element | None, styles: etree._Element | None) -> _ListRules:
        if numbering is None:
            return cls(frozenset(), {})
        counted_abstract = {
            abstract.get(w("abstractNumId"))
            for abstract in numbering.iter(w("abstractNum"))
            if any(fmt.get(w("val")) not in _UNCOUNTED_NUMBER_FORMATS
                   for fmt in abstract.iter(w("numFmt")))
        }
        counted = frozenset(
            num.get(w("numId"))
            for num in numbering.iter(w("num"))
            for abstract_id in num.iterchildren(w("abstractNumId"))
            if abstract_id.get(w("val")) in counted_abstract
        )
        return cls(counted, {} if styles is None else _style_num_ids(styles))


def _style_num_ids(styles: etree._Element) -> dict[str, frozenset[str]]:
    by_id = {style.get(w("styleId")): style for style in styles.iter(w("style"))}
    reached: dict[str, frozenset[str]] = {}
    for style_id in by_id:
        found: set[str] = set()
        seen: set[str] = set()
        current: str | None = style_id
        while current in by_id and current not in seen:
            seen.add(current)
            found |= {node.get(w("val")) for node in by_id[current].iter(w("numId"))}
            based_on = by_id[current].find(w("basedOn"))
            current = None if based_on is None else based_on.get(w("val"))
        if found:
            reached[style_id] = frozenset(found)
    return reached


def _list_rules(letter: Letter, cache: ListRulesCache) -> _ListRules:
    """The template's _ListRules; letters of one template share them, so they are cached by
    the parts' checksums (parsing styles.xml for every letter would dominate the merge)."""
    package = letter.package
    parts = {
        kind: resolve(letter.main_part, rel.get("Target"))
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
            *(parse(package, parts[kind]) if kind in parts else None
              for kind in ("numbering", "styles"))
        )
    return cache[key]


def _referenced_ids(element: etree._Element) -> set[str]:
    return set(RELATIONSHIP_ATTRIBUTES(element))


def _references_by_block(body: etree._Element) -> dict[etree._Element, set[str]]:
    """The relationship ids each body block refers to (one search of the body, not one per block)."""
    found: dict[etree._Element, set[str]] = {}
    for value in RELATIONSHIP_ATTRIBUTES(body):
        block = value.getparent()
        while block.getparent() is not body:
            block = block.getparent()
        found.setdefault(block, set()).add(str(value))
    return found


def _block_digest(letter: Letter, block: etree._Element, rel_ids: Iterable[str]) -> bytes:
    digest = hashlib.sha256(etree.tostring(block))
    for rel_id in sorted(rel_ids):
        rel = letter.rels.get(rel_id)
        if rel is None:
            continue
        if rel.get("TargetMode") == "External":
            digest.update(f"{rel_id}|{rel.get('Target')}\n".encode())
        else:
            info = letter.package.getinfo(resolve(letter.main_part, rel.get("Target")))
            digest.update(f"{rel_id}|{info.CRC}|{info.file_size}\n".encode())
    return digest.digest()


def _markers(block: etree._Element) -> Iterator[str]:
    """Short lines of a body-level paragraph, as they appear in the PDF text (see squash).
    Such a line is a single line of print, so no page break (and no page header text) can
    fall inside it; lines in table cells may wrap and are left out."""
    if block.tag != w("p") or _HAS_UNPRINTED_OR_FIELD(block):
        return
    for line in map(squash, _paragraph_lines(block)):
        if 0 < len(line) <= _MARKER_MAX_CHARS:
            yield line


def _paragraph_lines(paragraph: etree._Element) -> list[str]:
    lines = [""]
    for node in paragraph.iter(w("t"), w("br"), w("cr"), w("tab")):
        if node.tag == w("t"):
            lines[-1] += node.text or ""
        elif node.tag == w("tab"):
            lines[-1] += " "
        else:
            lines.append("")
    return lines


def squash(text: str) -> str:
    # Line wrapping, justification and capitals styles change spacing and case, not letters.
    return "".join(unicodedata.normalize("NFC", text).casefold().split())


def _pdf_metadata(core: etree._Element | None) -> dict[str, str]:
    if core is None:
        return {}
    found = {key: core.findtext(tag) for key, tag in CORE_TO_PDF.items()}
    return {key: value for key, value in found.items() if value}
