"""The parts of an OOXML package (DOCX) the converter reads and writes: namespaces, parsing a
part, relationships and their targets, content types.

Internal to the package (``outreach/convert/__init__.py`` says what its names mean).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
DC = "http://purl.org/dc/elements/1.1/"
OFFICE_DOCUMENT = R + "/officeDocument"
CORE_PROPERTIES = PR + "/metadata/core-properties"
# Compiled once (lxml serialises calls, so threads may share it): run for every letter, it and
# docx_letter._HAS_UNPRINTED_OR_FIELD were most of the cost of reading one.
RELATIONSHIP_ATTRIBUTES = etree.XPath(".//@r:*", namespaces={"r": R})


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def parse(package: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(package.read(name), etree.XMLParser(huge_tree=True))


def parse_optional(package: zipfile.ZipFile, name: str) -> etree._Element | None:
    return parse(package, name) if name in package.NameToInfo else None


def rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def target_of(rels: etree._Element, rel_type: str, source: str, required: bool = True) -> str:
    for rel in rels:
        if rel.get("Type") == rel_type:
            return resolve(source, rel.get("Target"))
    if required:
        raise ValueError(f"thiếu quan hệ {rel_type.rsplit('/', 1)[-1]}")
    return ""


@dataclass(frozen=True)
class ContentTypes:
    defaults: dict[str, str]  # extension → content type
    overrides: dict[str, str]  # part name → content type

    @classmethod
    def read(cls, package: zipfile.ZipFile) -> ContentTypes:
        types = parse(package, "[Content_Types].xml")
        return cls(
            {d.get("Extension").lower(): d.get("ContentType") for d in type_defaults(types)},
            {o.get("PartName").lstrip("/"): o.get("ContentType")
             for o in types.iter(f"{{{CT}}}Override")},
        )

    def of(self, part: str) -> str:
        return self.overrides.get(part) or self.defaults.get(extension(part), "")


def type_defaults(types: etree._Element) -> Iterator[etree._Element]:
    return types.iter(f"{{{CT}}}Default")


def extension(part: str) -> str:
    return posixpath.splitext(part)[1].lstrip(".").lower()


def xml_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)
