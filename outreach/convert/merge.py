"""Merging letters into one DOCX: one section per letter (next-page break, page numbers
restarting at 1, the letter's own section properties and headers kept), with a bookmark at the
start and the end of each letter, which LibreOffice exports as the named destinations the split
finds each letter's pages by.

Internal to the package (``outreach/convert/__init__.py`` says what its names mean).
"""

from __future__ import annotations

import copy
import hashlib
import posixpath
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .docx_letter import Letter
from .ooxml import (
    CT,
    PR,
    RELATIONSHIP_ATTRIBUTES,
    ContentTypes,
    extension,
    parse,
    parse_optional,
    rels_name,
    resolve,
    type_defaults,
    w,
    xml_bytes,
)

_SECT_PR_ORDER = (
    "headerReference", "footerReference", "footnotePr", "endnotePr", "type", "pgSz", "pgMar",
    "paperSrc", "pgBorders", "lnNumType", "pgNumType", "cols", "formProt", "vAlign",
    "noEndnote", "titlePg", "textDirection", "bidi", "rtlGutter", "docGrid",
    "printerSettings", "sectPrChange",
)



@dataclass(frozen=True)
class Run:
    """Body blocks ``start`` to ``stop`` (excluded) of a letter, laid out from its page
    ``first_page`` (0-based) on: the pages ``splice`` converts of a letter."""

    start: int
    stop: int
    first_page: int


def merge(letters: list[Letter], out: Path, token: str, runs: Sequence[Sequence[Run] | None] = (),
          mark_blocks: bool = False) -> None:
    """Write one DOCX holding ``letters`` as consecutive sections, with bookmarks
    ``{token}s{i}``/``{token}e{i}`` at the start and end of letter ``i``.

    ``runs[i]``, when given and not None, keeps only those blocks of letter ``i``, each run after
    the first in a section of its own that starts a page numbered as in the whole letter, with a
    bookmark ``{token}r{i}x{k}`` at the start of run ``k``; ``mark_blocks`` puts a bookmark ``{token}b{i}x{j}`` at
    the start of each block ``j``, to learn on which page each block starts.  (LibreOffice loses
    some bookmarks put at a paragraph's end, and writes "_" in a destination's name as "5F".)

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
        head, tail = _wrapper_halves(base.document)
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
                    _add_letter(content, index, index == len(letters) - 1, token, bookmark_ids,
                                runs[index] if index < len(runs) else None, mark_blocks)
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


def _wrapper_halves(document: etree._Element) -> tuple[bytes, bytes]:
    """``document``, its body emptied, serialised up to and from where the body's content goes.

    A comment put in the body marks the place: what lxml writes before and after it is what it
    writes around each letter's content later put in the body, which ``merge`` checks."""
    body = document.find(w("body"))
    assert not len(body), "the body must be empty"
    marker = etree.Comment("outreach-merge")
    body.append(marker)
    halves = etree.tostring(document, encoding="UTF-8").split(etree.tostring(marker))
    body.remove(marker)
    assert len(halves) == 2, "the marker must occur once"
    return halves[0], halves[1]


def _add_letter(content: list[etree._Element], index: int, last: bool, token: str,
                bookmark_ids: Iterator[int], runs: Sequence[Run] | None, mark_blocks: bool) -> None:
    """Make ``content`` (a letter's body) one section run of the merged document."""
    # docx_letter._merge_blocker guarantees a body-level sectPr last.
    final_section = content.pop()
    if runs is not None:
        final_section = _keep_runs(content, final_section, runs, token, index, bookmark_ids)
    _renumber_bookmarks(content, bookmark_ids)
    if mark_blocks:
        for number, block in enumerate(content):
            paragraph = block if block.tag == w("p") else block.find(f".//{w('p')}")
            if paragraph is not None:
                _add_bookmark(paragraph, f"{token}b{index}x{number}", next(bookmark_ids), 0)
    _start_letter(content, final_section)
    closing = _closing_paragraph(content)
    _add_bookmark(_first_paragraph(content), f"{token}s{index}", next(bookmark_ids), 0)
    _add_bookmark(closing, f"{token}e{index}", next(bookmark_ids), len(closing))
    if last:
        content.append(final_section)
    else:
        _paragraph_properties(closing).append(final_section)


def _keep_runs(content: list[etree._Element], final_section: etree._Element, runs: Sequence[Run], token: str,
               index: int, bookmark_ids: Iterator[int]) -> etree._Element:
    """Replace ``content`` by the runs' blocks; returns the section properties of the last run.

    Section properties close the section they belong to: each run but the last is closed by a
    paragraph carrying a copy of the letter's own, the page numbering of the run it closes."""
    blocks = list(content)
    content.clear()
    sections = []
    for number, run in enumerate(runs):
        part = blocks[run.start:run.stop]
        if number:
            _add_bookmark(_first_paragraph(part), f"{token}r{index}x{number}", next(bookmark_ids), 0)
        content.extend(part)
        section = copy.deepcopy(final_section)
        if run.first_page:  # a later page: no first-page header, its own number
            for title_page in section.findall(w("titlePg")):
                section.remove(title_page)
            _child(section, "type").set(w("val"), "nextPage")
            _child(section, "pgNumType").set(w("start"), str(run.first_page + 1))
        sections.append(section)
        if number < len(runs) - 1:
            closing = etree.Element(w("p"))
            _paragraph_properties(closing).append(section)
            content.append(closing)
    return sections[-1]


def _first_paragraph(content: list[etree._Element]) -> etree._Element:
    for element in content:
        paragraph = element if element.tag == w("p") else element.find(f".//{w('p')}")
        if paragraph is not None:
            return paragraph
    raise AssertionError("unreachable: _closing_paragraph guarantees a paragraph")


def _renumber_bookmarks(content: list[etree._Element], ids: Iterator[int]) -> None:
    # Bookmark ids must be unique in the merged document or starts pair with wrong ends.
    mapping: dict[str, str] = {}
    for element in content:
        for node in element.iter(w("bookmarkStart"), w("bookmarkEnd")):
            node.set(w("id"), mapping.setdefault(node.get(w("id")), str(next(ids))))


def _start_letter(content: list[etree._Element], final_section: etree._Element) -> None:
    """Make the letter's first section start a new page numbered 1, as it does on its own."""
    first_section = next(
        (s for element in content for s in element.iter(w("sectPr"))), final_section
    )
    _child(first_section, "type").set(w("val"), "nextPage")
    numbering = _child(first_section, "pgNumType")
    if numbering.get(w("start")) is None:
        numbering.set(w("start"), "1")


def _closing_paragraph(content: list[etree._Element]) -> etree._Element:
    """The body-level paragraph that ends the letter and will carry its section break."""
    last = content[-1] if content else None
    if (last is not None and last.tag == w("p")
            and last.find(f"{w('pPr')}/{w('sectPr')}") is None):
        return last
    # Writer, too, ends a document whose last block is a table with an empty paragraph.
    paragraph = etree.Element(w("p"))
    content.append(paragraph)
    return paragraph


def _add_bookmark(paragraph: etree._Element, name: str, bookmark_id: int, position: int) -> None:
    if len(paragraph) and paragraph[0].tag == w("pPr"):
        position = max(position, 1)
    paragraph.insert(position, etree.Element(w("bookmarkEnd"), {w("id"): str(bookmark_id)}))
    paragraph.insert(position, etree.Element(
        w("bookmarkStart"), {w("id"): str(bookmark_id), w("name"): name}
    ))


def _paragraph_properties(paragraph: etree._Element) -> etree._Element:
    properties = paragraph.find(w("pPr"))
    if properties is None:
        properties = etree.Element(w("pPr"))
        paragraph.insert(0, properties)
    return properties


def _child(section: etree._Element, name: str) -> etree._Element:
    """The child ``name`` of a sectPr, created in schema order if missing."""
    existing = section.find(w(name))
    if existing is not None:
        return existing
    rank = _SECT_PR_ORDER.index(name)
    element = etree.Element(w(name))
    for index, sibling in enumerate(section):
        local = etree.QName(sibling).localname
        if local in _SECT_PR_ORDER and _SECT_PR_ORDER.index(local) > rank:
            section.insert(index, element)
            return element
    section.append(element)
    return element


class _MergedPackage:
    """The base letter's package, plus the parts the other letters' content points to."""

    def __init__(self, base: Letter, out: Path) -> None:
        self._base = base
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_STORED)
        self._rels = parse(base.package, rels_name(base.main_part))
        self._types = parse(base.package, "[Content_Types].xml")
        self._defaults = {d.get("Extension").lower() for d in type_defaults(self._types)}
        self._names = set(base.package.namelist())
        self._rel_count = len(self._rels)
        self._leaves: dict[tuple[str, bytes], str] = {}  # e.g. a logo shared by all letters
        self._letters = 0

    def import_relationships(self, letter: Letter, elements: list[etree._Element]) -> None:
        """Re-point every r:* reference in ``elements`` at a relationship of the merged part."""
        self._letters += 1
        copier = _PartCopier(self, letter, f"m{self._letters}-")
        new_ids: dict[str, str] = {}
        for element in elements:
            for value in RELATIONSHIP_ATTRIBUTES(element):  # "smart" strings: they know their element
                if value in letter.rels:
                    if value not in new_ids:
                        new_ids[value] = self._relate(copier, letter.rels[value])
                    value.getparent().set(value.attrname, new_ids[value])

    def _relate(self, copier: _PartCopier, rel: etree._Element) -> str:
        attributes = dict(rel.attrib)
        if rel.get("TargetMode") != "External":
            part = copier.copy(resolve(copier.letter.main_part, rel.get("Target")))
            attributes["Target"] = posixpath.relpath(part, posixpath.dirname(self._base.main_part))
        self._rel_count += 1
        attributes["Id"] = f"rIdMerged{self._rel_count}"
        etree.SubElement(self._rels, f"{{{PR}}}Relationship", attributes)
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
            etree.SubElement(self._types, f"{{{CT}}}Override",
                             {"PartName": "/" + name, "ContentType": content_type})
        elif extension(name) not in self._defaults:
            self._defaults.add(extension(name))
            etree.SubElement(self._types, f"{{{CT}}}Default",
                             {"Extension": extension(name), "ContentType": content_type})

    def write(self, main_xml: Path) -> None:
        """Finish the package with the merged main part, already written to ``main_xml``."""
        base = self._base
        generated = {
            rels_name(base.main_part): self._rels,
            "[Content_Types].xml": self._types,
        }
        for info in base.package.infolist():
            if info.filename not in generated and info.filename != base.main_part:
                self._zip.writestr(info.filename, base.package.read(info))
        for name, element in generated.items():
            self._zip.writestr(name, xml_bytes(element))
        self._zip.write(main_xml, base.main_part)
        self._zip.close()
        main_xml.unlink()


@dataclass
class _PartCopier:
    """Copies parts of one letter (with the parts they point to) into the merged package."""

    merged: _MergedPackage
    letter: Letter
    prefix: str
    types: ContentTypes = field(init=False)
    copied: dict[str, str] = field(default_factory=dict)  # source part → new name

    def __post_init__(self) -> None:
        self.types = ContentTypes.read(self.letter.package)

    def copy(self, source: str) -> str:
        if source in self.copied:
            return self.copied[source]
        package = self.letter.package
        blob = package.read(source)
        content_type = self.types.of(source)
        rels = parse_optional(package, rels_name(source))
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
                    target = self.copy(resolve(source, rel.get("Target")))
                    rel.set("Target", posixpath.relpath(target, folder))
            self.merged.add_part(rels_name(new_name), xml_bytes(rels),
                                 self.types.of(rels_name(source)), override=False)
        self.merged.add_part(new_name, blob, content_type, source in self.types.overrides,
                             leaf_key if rels is None else None)
        return new_name
