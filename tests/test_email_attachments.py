"""The e-mail says what is actually attached: its list of files (``tep_dinh_kem``) is made by the build
from the letter and the campaign's guidance and static files, so a campaign without guidance files
announces no appendices. Through the real build (LibreOffice included) on the sample folder."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from outreach.config import load_config
from outreach.letters import html_email_template
from outreach.outbox.manifest import read_manifest
from outreach.workspace import init_workspace

from factories import build, tiny_pdf

CAMPAIGN = "vssid-2022"
CODE = "UHR562T"  # an employer with an e-mail address


def message_of(root: Path) -> email.message.EmailMessage:
    draft = next(d for d in read_manifest(root, CAMPAIGN).drafts if d.code == CODE)
    return email.message_from_bytes(draft.eml_path(root).read_bytes(), policy=email.policy.default)


def listed(text: str) -> list[str]:
    """The «- …;» lines under «… được đính kèm thư này dưới dạng tệp PDF:»."""
    block = text.split("dưới dạng tệp PDF:\n", 1)[1].split("\n\n", 1)[0]
    return [line[2:].rstrip(";.") for line in block.splitlines()]


def bodies(message) -> tuple[str, str]:
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def test_the_message_lists_the_letter_and_each_attached_file(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "office") and tmp_path / "office"
    build(load_config(root), CAMPAIGN, only=(CODE,))
    message = message_of(root)
    text, html = bodies(message)
    pdfs = [part.get_filename() for part in message.iter_attachments()]
    items = listed(text)
    assert items == ["Công văn (dự thảo, chưa có số)",
                     "Phụ lục 1: HƯỚNG DẪN ĐĂNG KÝ TÀI KHOẢN GIAO DỊCH ĐIỆN TỬ TRÊN ỨNG DỤNG VssID",
                     "Phụ lục 2: HƯỚNG DẪN ĐĂNG KÝ TÀI KHOẢN GIAO DỊCH ĐIỆN TỬ CHO CON, NGƯỜI DƯỚI 18 TUỔI "
                     "TRÊN ỨNG DỤNG VssID"]  # each appendix's own heading
    assert len(items) == len(pdfs)
    assert "Công văn và các tài liệu kèm theo được đính kèm" in text
    assert all(f"<li>{item}" in html for item in items[1:])


def test_a_campaign_without_guidance_files_announces_no_appendix(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "office") and tmp_path / "office"
    config_file = root / "config.toml"
    source = config_file.read_text(encoding="utf-8")
    guidance = 'guidance = ["templates/phu-luc-1-vssid.docx", "templates/phu-luc-2-vssid.docx"]'
    assert guidance in source
    config_file.write_text(source.replace(guidance, "guidance = []"), encoding="utf-8")
    build(load_config(root), CAMPAIGN, only=(CODE,))
    text, html = bodies(message_of(root))
    assert listed(text) == ["Công văn (dự thảo, chưa có số)"]
    assert "Công văn được đính kèm thư này dưới dạng tệp PDF:" in text
    for body in (text, html):
        assert "phụ lục" not in body.lower() and "tài liệu kèm theo" not in body and "hướng dẫn" not in body.lower()

    (root / "templates" / "to-roi.pdf").write_bytes(tiny_pdf("Tờ rơi"))
    config_file.write_text(source.replace(guidance, 'guidance = []\nattachments = ["templates/to-roi.pdf"]')
                           .replace("attachments = []", ""), encoding="utf-8")
    build(load_config(root), CAMPAIGN, only=(CODE,))
    text, _ = bodies(message_of(root))
    assert listed(text) == ["Công văn (dự thảo, chưa có số)", "to-roi"]


def test_the_build_sends_the_campaigns_own_email(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "office") and tmp_path / "office"
    own = load_config(root).workspace.campaign_email(CAMPAIGN)
    own.text.parent.mkdir(parents=True)
    own.subject.write_text("Thư riêng {{ so_ky_hieu }}\n", encoding="utf-8")
    own.text.write_text("Kính gửi: {{ recipient.salutation }}\n\nNội dung riêng của chiến dịch.\n", encoding="utf-8")
    own.html.write_text(html_email_template(own.text.read_text(encoding="utf-8")), encoding="utf-8")
    build(load_config(root), CAMPAIGN, only=(CODE,))
    message = message_of(root)
    text, body = bodies(message)
    assert message["Subject"].startswith("Thư riêng") and "Nội dung riêng của chiến dịch." in text
    assert "<p style=\"margin:0 0 12px 0;\">Nội dung riêng của chiến dịch.</p>" in body
