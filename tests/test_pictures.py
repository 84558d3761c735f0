"""A picture a template places with a tag: written as docxtpl's InlineImage writes it, in a letter that
LibreOffice prints with the picture in it."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from lxml import etree

from outreach.config import load_config
from outreach.errors import UserError
from outreach.letters.pictures import Picture
from outreach.letters import LetterTemplate, build_context, render_text_template
from outreach.letters.sandbox import environment
from outreach.letters.skeleton import write_skeleton
from outreach.payment.qr_image import qr_png
from outreach.recipients.model import Recipient

REPO = Path(__file__).resolve().parent.parent
PNG = qr_png("00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA5303704540618000058"
             "02VN62340107NPS68690819thanh toan don hang63042E2E")


@pytest.fixture()
def variables():
    config = load_config(REPO)
    recipient = Recipient(kind="communes", code="22327", name="Phường Vĩnh Hòa")
    context = build_context(config, config.campaign("vssid-2022"), recipient, 5, dt.date(2023, 1, 5))
    return {**context.as_template_vars(), "hinh": Picture(PNG, 30, "Mã VietQR thử")}


def template(tmp_path: Path) -> Path:
    path = tmp_path / "hinh.docx"
    write_skeleton(path, ["Trước hình.", "|{{ hinh }}", "Sau hình."])
    return path


def test_the_picture_is_in_the_letter_at_its_width(tmp_path, variables):
    letter = LetterTemplate(template(tmp_path)).render(variables)
    document = Document(io.BytesIO(letter))
    (shape,) = document.inline_shapes
    assert shape.width == Mm(30) and shape.height == Mm(30)  # a QR code is square
    assert shape._inline.docPr.get("descr") == "Mã VietQR thử"
    blip = shape._inline.graphic.graphicData.pic.blipFill.blip
    assert document.part.related_parts[blip.embed].blob == PNG
    assert LetterTemplate(template(tmp_path)).render(variables) == letter  # same inputs, same bytes


def test_the_drawing_is_the_one_docxtpl_writes(tmp_path, variables):
    ours = etree.fromstring(zipfile.ZipFile(io.BytesIO(LetterTemplate(template(tmp_path)).render(variables)))
                            .read("word/document.xml"))
    reference = DocxTemplate(str(template(tmp_path)))
    reference.render({**variables, "hinh": InlineImage(reference, io.BytesIO(PNG), width=Mm(30))},
                     jinja_env=environment(True), autoescape=True)
    reference.save(tmp_path / "docxtpl.docx")
    theirs = etree.fromstring(zipfile.ZipFile(tmp_path / "docxtpl.docx").read("word/document.xml"))

    def drawing(root):  # what differs by nature: relationship ids, names, alt text
        inline = root.find(".//{*}drawing/{*}inline")
        for element in inline.iter():
            for attribute in ("id", "name", "descr", "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"):
                element.attrib.pop(attribute, None)
        text = etree.tostring(inline, method="c14n")  # and the blanks between elements python-docx indents with
        return etree.tostring(etree.fromstring(text, etree.XMLParser(remove_blank_text=True)), method="c14n")

    assert drawing(ours) == drawing(theirs)


def test_a_picture_cannot_go_into_an_email(variables):
    with pytest.raises(UserError, match="chỉ đặt được trong thư Word"):
        render_text_template("{{ hinh }}", variables)
