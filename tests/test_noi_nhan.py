"""The letter's "Nơi nhận" bodies get the one original letter, through the real pipeline (LibreOffice,
approval, the ledger, a real SMTP sink on loopback) on a copy of the sample folder: each copy
arrives once, the bodies without e-mail go on paper, and the names the letter prints in its
Nơi nhận block are exactly the bodies that received it."""

from __future__ import annotations

import datetime as dt
import hashlib
import mailbox
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from outreach.cli import main
from outreach.config import load_config
from outreach.convert import read_pdf
from outreach.delivery import Ledger, SmtpSink
from outreach.outbox import read_manifest
from outreach.outbox.messages import parse_message
from outreach.workspace import init_workspace

CAMPAIGN = "vssid-2022"
EMPLOYER = "UHR562T"


def outreach(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


def noi_nhan_block(pdf: Path) -> list[str]:
    """The bodies the letter lists under "Nơi nhận:", between "- Như trên;" and "- Lưu: …"."""
    text = " ".join("\n".join(read_pdf(pdf).page_texts).split())
    block = text.split("Nơi nhận:", 1)[1].split("- Lưu:", 1)[0]
    entries = [entry.strip().removesuffix(";") for entry in re.split(r"(?:^| )- ", block) if entry.strip()]
    assert entries[0] == "Như trên"
    return entries[1:]


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory):
    """Numbered, built (the copies and one employer), approved, sent twice to a sink."""
    root = tmp_path_factory.mktemp("noi-nhan") / "office"
    init_workspace(root)
    config = root / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("messages_per_minute = 30", "messages_per_minute = 6000"),
                      encoding="utf-8")
    copies = load_config(root).campaign(CAMPAIGN).noi_nhan
    assert outreach(root, "issue", CAMPAIGN, "--date", "2023-01-05", "--by", "Lê Văn Thư") == 0
    assert outreach(root, "build", CAMPAIGN, "--only", EMPLOYER, *(c.code for c in copies)) == 0
    assert outreach(root, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0
    with SmtpSink(root / "sink", port=0) as sink, pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTREACH_SMTP_URL", sink.url)
        assert outreach(root, "send", CAMPAIGN) == 0
        assert outreach(root, "send", CAMPAIGN) == 0  # again: nothing goes twice
    messages = [parse_message(bytes(m)) for m in mailbox.Maildir(root / "sink", factory=None)]
    return root, copies, messages


def test_each_body_with_an_address_receives_the_letter_once_and_the_others_go_on_paper(sent):
    root, copies, messages = sent
    arrived = Counter(tuple(a.addr_spec for a in m["To"].addresses) for m in messages)
    mailed = [c for c in copies if c.emails]
    assert all(arrived[c.emails] == 1 for c in mailed)
    assert len(messages) == len(mailed) + 1  # and the employer's own letter
    with Ledger.open(root) as ledger:
        states = {key: d.state for key, d in ledger.deliveries(CAMPAIGN).items()}
    assert {c.code for c in copies if not c.emails} == {"lanh-dao-bhxh-tinh"}
    assert states["noi_nhan/lanh-dao-bhxh-tinh"] == "printed"
    assert all(states[f"noi_nhan/{c.code}"] == "sent" for c in mailed)


def test_the_copies_are_the_one_original_letter_and_its_block_names_exactly_the_bodies(sent):
    root, copies, messages = sent
    names = [c.name for c in copies]
    letters = {}
    for message in messages:
        [letter] = [p for p in message.iter_attachments() if p.get_filename().startswith("Công văn số 01-BHXH-QLT")]
        letters[tuple(a.addr_spec for a in message["To"].addresses)] = letter.get_content()
    originals = {digest for to, pdf in letters.items() if to in {c.emails for c in copies}
                 for digest in [hashlib.sha256(pdf).hexdigest()]}
    assert len(originals) == 1  # not personalised: the same bytes for every body
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "ban-goc.pdf"
        pdf.write_bytes(next(pdf for to, pdf in letters.items() if to == copies[0].emails))
        assert noi_nhan_block(pdf) == names
        text = " ".join("\n".join(read_pdf(pdf).page_texts).split())
    assert "Số: 01/BHXH-QLT" in text and "ngày 05 tháng 01 năm 2023" in text
    assert ("Kính gửi: Các đơn vị sử dụng lao động do BHXH tỉnh quản lý; Các Tổ chức dịch vụ thu BHXH, BHYT; "
            "UBND các xã, phường, thị trấn") in text
    manifest = read_manifest(root, CAMPAIGN)
    paper = manifest.draft("lanh-dao-bhxh-tinh")
    assert hashlib.sha256(paper.path(root, "letter.pdf").read_bytes()).hexdigest() in originals
    # An employer's own letter prints the same block: whoever reads it sees who else got it.
    assert noi_nhan_block(manifest.draft(EMPLOYER).path(root, "letter.pdf")) == names


# --- without LibreOffice: the block follows the list, and the config says what is wrong --------------------

REPO = Path(__file__).resolve().parent.parent


def block_of(docx_bytes: bytes) -> list[str]:
    import io

    import docx

    footer = docx.Document(io.BytesIO(docx_bytes)).tables[1].cell(0, 0).paragraphs
    return [p.text for p in footer]


def test_the_printed_block_is_the_campaigns_list_whatever_it_holds():
    from dataclasses import replace

    from outreach.config import CopyRecipient
    from outreach.letters import LetterTemplate, build_context

    from outreach.recipients import Recipient

    config = load_config(REPO)
    campaign = config.campaign(CAMPAIGN)
    template = LetterTemplate(campaign.template)
    original = Recipient(kind="noi_nhan", code="", name="Các đơn vị sử dụng lao động")
    listed = replace(campaign, noi_nhan=(CopyRecipient("so-tai-chinh", "Sở Tài chính", ("stc@example.vn",)),
                                         CopyRecipient("so-y-te", "Sở Y tế", ())))
    assert block_of(template.render(build_context(config, listed, original, 5, dt.date(2023, 1, 5)))) == [
        "Nơi nhận:", "- Như trên;", "- Sở Tài chính;", "- Sở Y tế;", "- Lưu: VT, QLT."]
    alone = replace(campaign, noi_nhan=())
    assert block_of(template.render(build_context(config, alone, original, 5, dt.date(2023, 1, 5)))) == [
        "Nơi nhận:", "- Như trên;", "- Lưu: VT, QLT."]
    # The list is part of every letter: changing it rebuilds them; a campaign without one keeps its fingerprint.
    fingerprints = {build_context(config, c, None, 5, dt.date(2023, 1, 5)).fingerprint() for c in (listed, alone, campaign)}
    assert len(fingerprints) == 3 and "noi_nhan" not in build_context(config, alone, None, 5, None).fingerprint()


def config_with(*entries: dict) -> str:
    import tomllib

    from outreach.config import parse_config

    data = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    data["campaigns"][CAMPAIGN]["noi_nhan"] = list(entries)
    return parse_config(data, REPO).campaign(CAMPAIGN).noi_nhan


def test_copy_recipients_in_config_are_checked_with_where_and_how_to_fix():
    from outreach.errors import UserError

    [one] = config_with({"name": "Sở Tài chính;", "email": "a@stc.example.vn; b@stc.example.vn"})
    assert (one.code, one.name, one.emails) == ("so-tai-chinh", "Sở Tài chính", ("a@stc.example.vn", "b@stc.example.vn"))
    for entries, where, what in [
        ([{"name": "Sở Y tế", "email": "vanthu@sở.vn; không phải địa chỉ"}], "noi_nhan[1].email", "không phải địa chỉ"),
        ([{"name": "Sở Y tế"}, {"name": "Sở Y Tế"}], "noi_nhan[2].code", "trùng mã 'so-y-te'"),
        ([{"email": "a@b.vn"}], "noi_nhan[1].name", "thiếu"),
    ]:
        with pytest.raises(UserError) as caught:
            config_with(*entries)
        assert f"campaigns.{CAMPAIGN}.{where}" in str(caught.value) and what in str(caught.value), str(caught.value)
        assert "Cách sửa" in str(caught.value)


def test_a_campaign_of_personal_renewal_letters_has_no_noi_nhan():
    import tomllib

    from outreach.config import parse_config
    from outreach.errors import UserError

    data = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    data["campaigns"]["nhac-dao-han"]["noi_nhan"] = [{"name": "Sở Y tế", "email": "a@syt.example.vn"}]
    with pytest.raises(UserError, match="campaigns.nhac-dao-han.noi_nhan"):
        parse_config(data, REPO)


def test_staff_see_the_noi_nhan_copies_on_the_campaign_and_recipient_pages(sent):
    from test_web import Staff

    from outreach.web import create_app

    root, copies, _ = sent
    staff = Staff(create_app(root, testing=True))
    listed = staff.page(f"/campaigns/{CAMPAIGN}?audience=noi_nhan&per=100")
    assert sorted(re.findall(r'<tr data-key="([^"]+)"', listed)) == sorted(f"noi_nhan/{c.code}" for c in copies)
    assert "Nơi nhận (bản gửi để biết, báo cáo)" in listed
    page = staff.page(f"/campaigns/{CAMPAIGN}/recipients/so-y-te")
    assert "Sở Y tế" in page and "vanthu@syt.khanhhoa.example.vn" in page


def test_template_check_fills_the_template_in_for_the_original_letter_too(tmp_path, capsys):
    from outreach.letters import write_skeleton

    root = tmp_path / "office"
    init_workspace(root)
    template = root / "templates/thu-thu.docx"
    write_skeleton(template, ["Mã đầu: {{ recipient.code[0] }}."])  # every list row has a code; the original none
    assert outreach(root, "template", "check", str(template), "--campaign", CAMPAIGN) != 0
    out = capsys.readouterr()
    assert "Các đơn vị sử dụng lao động do BHXH tỉnh quản lý" in out.out + out.err
