"""letters.render re-implements the steps DocxTemplate.render applies after Jinja (it compiles each
part once instead of once per letter). This pins it to docxtpl itself: a docxtpl release that changes
its post-render clean-up makes this fail instead of letters drifting silently."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from docxtpl import DocxTemplate
from lxml import etree

from outreach.config import load_config
from outreach.letters import LetterTemplate, build_context
from outreach.letters.sandbox import environment
from outreach.recipients import Recipient

REPO = Path(__file__).resolve().parent.parent


def _parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return {name: etree.tostring(etree.fromstring(archive.read(name)), method="c14n")
                for name in archive.namelist() if name.startswith("word/") and name.endswith(".xml")}


def test_a_letter_is_the_document_docxtpl_itself_renders(tmp_path: Path) -> None:
    config = load_config(REPO)
    campaign = config.campaign("vssid-2022")
    # a line break and a tab in a printed value take docxtpl's listing pass, which letters skips otherwise
    recipient = Recipient(kind="employers", code="TA1234X", name="Công ty TNHH\tThủy sản\nHòn Khói",
                          address="12 Trần Phú, Nha Trang", source_file="e.xlsx", source_row=3)
    context = build_context(config, campaign, recipient, 5, dt.date(2023, 1, 5))

    ours = _parts(LetterTemplate(campaign.template).render(context))

    reference = DocxTemplate(str(campaign.template))
    reference.render(context.as_template_vars(), jinja_env=environment(True), autoescape=True)
    reference.save(tmp_path / "docxtpl.docx")
    theirs = _parts((tmp_path / "docxtpl.docx").read_bytes())

    assert "Hòn Khói" in ours["word/document.xml"].decode() and b"<w:br" in ours["word/document.xml"]
    for name, xml in theirs.items():
        assert ours[name] == xml, name
