"""Pictures a DOCX template places with a tag, as docxtpl's InlineImage does: ``{{ payment.qr }}``.

docxtpl's InlineImage adds its image to the python-docx package it renders. Letters are rendered
without one (``render.LetterTemplate`` writes the template's zip with the rendered parts), so a
:class:`Picture` in the context writes the same ``<w:drawing>`` as InlineImage while a letter is
rendered, and :func:`placing` collects what the letter's zip then needs: the image part, its
relationship, and the content type of PNG.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.shape import CT_Inline
from docx.shared import Mm
from lxml import etree

from ..errors import UserError

_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"


@dataclass(frozen=True)
class Picture:
    """A PNG image and the width it is printed at; its height follows the image's proportions."""

    png: bytes = field(repr=False)
    width_mm: float
    description: str  # alt text, read aloud by screen readers
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        # In the repr, so that a letter's inputs digest changes when its picture does.
        object.__setattr__(self, "sha256", hashlib.sha256(self.png).hexdigest())

    def __html__(self) -> str:
        placement = _CURRENT.get(None)
        if placement is None:
            raise UserError(f"Hình «{self.description}» chỉ đặt được trong thư Word (.docx), không đặt được trong "
                            "thư điện tử. Cách sửa: xóa thẻ của hình khỏi mẫu thư điện tử.")
        return placement.place(self)

    __str__ = __html__  # a text template, too, must not print the picture's repr


@dataclass(frozen=True)
class _Placed:
    part: str  # the rendered part the picture is in, e.g. word/document.xml
    rel_id: str
    member: str  # the image part, e.g. word/media/outreach-picture1.png
    png: bytes


class Placement:
    """The pictures one letter's rendering has placed, part by part."""

    def __init__(self) -> None:
        self.part = ""
        self._placed: list[_Placed] = []

    def place(self, picture: Picture) -> str:
        number = len(self._placed) + 1
        folder = posixpath.dirname(self.part)
        placed = _Placed(self.part, f"rIdOutreachPicture{number}",
                         posixpath.join(folder, f"media/outreach-picture{number}.png"), picture.png)
        self._placed.append(placed)
        image = Image.from_blob(picture.png)
        width = Mm(picture.width_mm)
        height = int(width * image.px_height / image.px_width)
        inline = CT_Inline.new_pic_inline(number, placed.rel_id, posixpath.basename(placed.member), width, height)
        inline.docPr.set("descr", picture.description)
        # The same run surgery as docxtpl's InlineImage: close the tag's text run, add the drawing's own.
        xml = etree.tostring(inline, encoding="unicode")
        return f'</w:t></w:r><w:r><w:drawing>{xml}</w:drawing></w:r><w:r><w:t xml:space="preserve">'

    def members(self, template: bytes) -> dict[str, bytes]:
        """The zip members this letter needs beyond its rendered parts: images, and the relationship
        and content-type parts that name them (read from ``template`` and extended)."""
        if not self._placed:
            return {}
        with zipfile.ZipFile(io.BytesIO(template)) as archive:
            names = set(archive.namelist())
            result = {p.member: p.png for p in self._placed}
            for part in dict.fromkeys(p.part for p in self._placed):
                rels_name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
                rels = etree.fromstring(archive.read(rels_name)) if rels_name in names else \
                    etree.Element(f"{{{_RELATIONSHIPS}}}Relationships", nsmap={None: _RELATIONSHIPS})
                for placed in (p for p in self._placed if p.part == part):
                    etree.SubElement(rels, f"{{{_RELATIONSHIPS}}}Relationship", Id=placed.rel_id,
                                     Type=RELATIONSHIP_TYPE.IMAGE,
                                     Target=posixpath.relpath(placed.member, posixpath.dirname(part)))
                result[rels_name] = _xml(rels)
            types = etree.fromstring(archive.read("[Content_Types].xml"))
            if not any(d.get("Extension", "").lower() == "png" for d in types.iter(f"{{{_CONTENT_TYPES}}}Default")):
                etree.SubElement(types, f"{{{_CONTENT_TYPES}}}Default", Extension="png", ContentType="image/png")
            result["[Content_Types].xml"] = _xml(types)
        return result


_CURRENT: contextvars.ContextVar[Placement] = contextvars.ContextVar("outreach_picture_placement")


@contextlib.contextmanager
def placing() -> Iterator[Placement]:
    """Collect the pictures placed while one letter is rendered."""
    placement = Placement()
    token = _CURRENT.set(placement)
    try:
        yield placement
    finally:
        _CURRENT.reset(token)


def _xml(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)
