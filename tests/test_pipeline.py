"""The whole job as staff run it, through the `outreach` command, on a copy of the sample folder.

What users care about: each recipient's PDF carries their own name, spelled right; nothing goes out
unnumbered or unapproved; what was approved is exactly what arrives; nobody gets two copies.
"""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from outreach.accounts import Actor
from outreach.cli import main
from outreach.config import load_config
from outreach.localtime import OFFICE_TZ
from outreach.outbox.build import issue_document_number
from outreach.convert import pdf_text
from outreach.outbox.manifest import read_manifest
from outreach.outbox.messages import decoded_header, parse_message
from outreach.delivery import SmtpSink
from outreach.workspace import init_workspace

# A name with "&", one with quotes and <…>, a commune, a collection agent, and one employer with no e-mail.
CODES = ["YK34396", "NQ29530", "22327", "DL56001"]


def sample_office(tmp_path_factory, name: str) -> Path:
    root = tmp_path_factory.mktemp(name)
    init_workspace(root)
    return root


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    return sample_office(tmp_path_factory, "office")


def outreach(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


def no_email_employer(root: Path) -> str:
    sheet = openpyxl.load_workbook(root / "recipients/employers.xlsx").active
    return next(row[1] for row in sheet.iter_rows(min_row=5, values_only=True) if row[1] and not row[6])


@pytest.fixture(scope="module")
def built(office):
    paper = no_email_employer(office)
    assert outreach(office, "build", "vssid-2022", "--only", *CODES, paper) == 0
    return office, paper


def test_unnumbered_drafts_cannot_be_approved(built, capsys):
    root, _ = built
    manifest = read_manifest(root, "vssid-2022")
    assert manifest.document_number.strip() == "/BHXH-QLT"
    assert outreach(root, "approve", "vssid-2022", "--by", "Trần Văn Duyệt", "--all") == 2
    assert "chưa được cấp số" in capsys.readouterr().err


def test_issue_numbers_the_letters_and_each_pdf_names_its_recipient(built):
    root, paper = built
    assert outreach(root, "issue", "vssid-2022", "--date", "2023-01-05") == 0
    manifest = read_manifest(root, "vssid-2022")
    assert manifest.document_number == "01/BHXH-QLT"
    names = {d.code: d.name for d in manifest.drafts}
    assert names["YK34396"] == "Công ty TNHH Thương mại Hải Phát & Minh Châu"
    assert names["NQ29530"] == 'Công ty TNHH Quảng cáo "Ánh Dương" <Sunshine Media>'
    for draft in (manifest.draft(code) for code in [*CODES, paper]):
        text = " ".join(pdf_text(draft.path(root, "letter.pdf")).split())
        assert draft.name in text
        assert "Số: 01/BHXH-QLT" in text and "ngày 05 tháng 01 năm 2023" in text
        assert "{{" not in text and "{%" not in text
        others = [n for c, n in names.items() if c != draft.code and c in CODES]
        assert not any(other in text for other in others)
    commune = next(d for d in manifest.drafts if d.code == "22327")
    assert "Kính gửi: Ủy ban nhân dân Phường Vĩnh Hòa" in " ".join(pdf_text(commune.path(root, "letter.pdf")).split())
    no_mail = next(d for d in manifest.drafts if d.code == paper)
    assert no_mail.to == () and not no_mail.eml_path(root).exists()
    bundle = root / "outbox/vssid-2022/print/ban-in-vssid-2022.pdf"
    assert no_mail.name in " ".join(pdf_text(bundle).split())
    labels = " ".join(pdf_text(root / "outbox/vssid-2022/print/nhan-dia-chi.pdf").split())
    assert f"Kính gửi: {no_mail.name}" in labels


def test_register_lists_the_number(built, capsys):
    root, _ = built
    assert outreach(root, "register") == 0
    assert "01/BHXH-QLT\t05/01/2023\tvssid-2022" in capsys.readouterr().out


def test_approved_messages_arrive_once_with_the_exact_bytes(built, monkeypatch, capsys):
    root, _ = built
    manifest = read_manifest(root, "vssid-2022")
    with SmtpSink(root / "sink", port=0) as sink:
        monkeypatch.setenv("OUTREACH_SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
        assert outreach(root, "send", "vssid-2022") == 0  # nothing approved yet: nothing sent
        assert len(mailbox.Maildir(root / "sink")) == 0
        assert outreach(root, "approve", "vssid-2022", "--by", "Trần Văn Duyệt", "--only", "YK34396", "NQ29530") == 0
        assert outreach(root, "send", "vssid-2022") == 0
        assert outreach(root, "send", "vssid-2022") == 0
    received = {decoded_header(m, "Message-ID"): m for m in
                (parse_message(bytes(msg)) for msg in mailbox.Maildir(root / "sink", factory=None))}
    assert len(received) == 2
    for code in ("YK34396", "NQ29530"):
        draft = manifest.draft(code)
        message = next(m for m in received.values() if draft.to[0] in decoded_header(m, "To"))
        assert decoded_header(message, "Subject").startswith("Công văn số 01/BHXH-QLT V/v đôn đốc tham gia BHXH tự nguyện")
        assert decoded_header(message, "From").startswith("BHXH tỉnh Khánh Hòa - Phòng Quản lý thu <")
        pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        expected_name = {"YK34396": "Công văn số 01-BHXH-QLT - Công ty TNHH Thương mại Hải Phát & Minh Châu.pdf",
                         "NQ29530": "Công văn số 01-BHXH-QLT - Công ty TNHH Quảng cáo -Ánh Dương- -Sunshine Media.pdf"}
        assert pdfs[0].get_filename() == expected_name[code]
        assert pdfs[0].get_content() == draft.path(root, "letter.pdf").read_bytes()
        assert [p.get_filename().split(" - ")[0] for p in pdfs[1:]] == ["Phụ lục 1", "Phụ lục 2"]
    capsys.readouterr()
    assert outreach(root, "status", "vssid-2022") == 0
    out = capsys.readouterr().out
    assert "đã gửi: 2" in out and "— Đang trong đợt gửi" in out


def test_changed_after_approval_is_not_sent(built, monkeypatch, capsys):
    root, _ = built
    assert outreach(root, "approve", "vssid-2022", "--by", "Trần Văn Duyệt", "--only", "22327") == 0
    draft = read_manifest(root, "vssid-2022").draft("22327")
    eml = draft.eml_path(root)
    eml.write_bytes(eml.read_bytes().replace(b"Subject:", b"Subject: SUA", 1))
    with SmtpSink(root / "sink2", port=0) as sink:
        monkeypatch.setenv("OUTREACH_SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
        outreach(root, "send", "vssid-2022")
    assert len(mailbox.Maildir(root / "sink2")) == 0
    assert "thay đổi sau khi được duyệt" in capsys.readouterr().out


def test_sent_drafts_are_never_rebuilt(built):
    root, _ = built
    before = read_manifest(root, "vssid-2022").draft("YK34396")
    letter = before.path(root, "letter.pdf").read_bytes()
    (root / "templates/email.txt.j2").write_text(
        (root / "templates/email.txt.j2").read_text(encoding="utf-8") + "\nThêm một dòng.\n", encoding="utf-8")
    assert outreach(root, "build", "vssid-2022", "--only", *CODES) == 0
    after = read_manifest(root, "vssid-2022")
    assert after.draft("YK34396") == before and before.path(root, "letter.pdf").read_bytes() == letter
    assert after.draft("DL56001").message_sha256 != ""  # unsent drafts do pick up the change


def test_delivery_report_has_a_row_per_recipient(built, tmp_path):
    root, _ = built
    assert outreach(root, "report", "vssid-2022", "--xlsx", str(tmp_path / "r.xlsx")) == 0
    rows = list(openpyxl.load_workbook(tmp_path / "r.xlsx").active.iter_rows(values_only=True))
    assert len(rows) == 1 + len(read_manifest(root, "vssid-2022").drafts)


def test_every_command_explains_itself():
    for command in ("validate", "template", "build", "register", "issue", "sign", "verify", "preview", "approve", "revoke",
                    "posted", "send", "resolve", "resume", "status", "report", "remind", "smtp-sink", "demo", "init", "run", "schedule",
                    "serve"):
        result = subprocess.run([sys.executable, "-m", "outreach.cli", command, "--help"],
                                capture_output=True, text=True)
        assert result.returncode == 0 and len(result.stdout) > 80, command
        assert result.stdout.startswith("Cách dùng: outreach") and "show this help" not in result.stdout


def test_argument_mistakes_are_explained_in_vietnamese(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["approve", "vssid-2022"])
    assert exit_info.value.code == 2
    assert "thiếu tham số bắt buộc: --by" in capsys.readouterr().err


def test_user_mistakes_are_one_line_not_a_traceback(office, capsys):
    assert outreach(office, "build", "khong-co") == 2
    err = capsys.readouterr().err
    assert "Không có chiến dịch 'khong-co'" in err and "Traceback" not in err


# ---------------------------------------------------------------------------- letters on paper

# Every sample recipient without e-mail, by sender: three employers (one managed by BHXH huyện Vạn
# Ninh, which is copied on e-mail only) and a collection agent.
ON_PAPER = {"WSD098B": "QLT", "GH71459": "QLT", "KPP170Z": "QLT", "DL56013": "TTPT"}
BUNDLES = {"QLT": "paper/lo-in-01-QLT.pdf", "TTPT": "paper/lo-in-02-TTPT.pdf"}


@pytest.fixture(scope="module")
def paper_office(tmp_path_factory):
    root = sample_office(tmp_path_factory, "paper")
    issue_document_number(load_config(root), "vssid-2022", dt.date(2023, 1, 5), Actor("Lê Văn Thư"))  # what `issue` does, minus
    assert outreach(root, "build", "vssid-2022", "--only", "YK34396", *ON_PAPER) == 0  # its build of every letter
    return root


def test_letters_on_paper_are_approved_printed_and_posted_by_name(paper_office, monkeypatch, capsys, tmp_path):
    root = paper_office
    manifest = read_manifest(root, "vssid-2022")
    assert {d.code: d.channel for d in manifest.drafts} == {"YK34396": "email", **{c: "paper" for c in ON_PAPER}}
    approved = ["YK34396", "WSD098B", "KPP170Z", "DL56013"]  # GH71459 is left unapproved
    assert outreach(root, "approve", "vssid-2022", "--by", "Trần Văn Duyệt", "--only", *approved) == 0
    with SmtpSink(root / "sink", port=0) as sink:
        monkeypatch.setenv("OUTREACH_SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
        capsys.readouterr()
        assert outreach(root, "send", "vssid-2022") == 0
        out = capsys.readouterr().out
        assert outreach(root, "send", "vssid-2022") == 0  # again: nothing printed twice
        assert "thư giấy" not in capsys.readouterr().out
    assert len(mailbox.Maildir(root / "sink")) == 1  # the e-mail; nothing on paper went by mail
    assert f"Đã xếp 3 thư giấy vào bản in: {', '.join(BUNDLES.values())}." in out
    assert sorted(p.name for p in (root / "outbox/vssid-2022/paper").iterdir()) == [
        Path(b).name for b in BUNDLES.values()]
    texts = {b: " ".join(pdf_text(root / "outbox/vssid-2022" / b).split()) for b in BUNDLES.values()}
    for code in ("WSD098B", "KPP170Z", "DL56013"):
        assert manifest.draft(code).name in texts[BUNDLES[ON_PAPER[code]]]
    assert all("Số: 01/BHXH-QLT" in text for text in texts.values())
    assert not any(manifest.draft("GH71459").name in text for text in texts.values())  # unapproved: not printed

    assert outreach(root, "status", "vssid-2022") == 0
    out = capsys.readouterr().out
    assert "Thư giấy (4):" in out and "employers/GH71459 (Trường Mầm non tư thục Hoa Mai Khánh Thượng): chưa duyệt" in out
    assert "employers/WSD098B (Hợp tác xã Nông nghiệp Sơn Trung): đã in, chờ gửi bưu điện — paper/lo-in-01-QLT.pdf, trang 1" in out
    assert "— Đang trong đợt gửi" in out  # printed is not posted: the campaign is not finished

    today = dt.datetime.now(OFFICE_TZ).date()
    assert outreach(root, "posted", "vssid-2022", "--by", "Lê Văn Bưu", "--only", "GH71459") == 2
    assert "chưa được duyệt; thư chưa duyệt không được gửi đi, kể cả bản giấy" in capsys.readouterr().err
    assert outreach(root, "posted", "vssid-2022", "--by", "Lê Văn Bưu", "--all",
                    "--date", (today + dt.timedelta(days=1)).isoformat()) == 2
    assert "chưa tới" in capsys.readouterr().err
    assert outreach(root, "posted", "vssid-2022", "--by", "Lê Văn Bưu", "--all", "--date", today.isoformat()) == 0
    assert f"Đã ghi nhận Lê Văn Bưu gửi bưu điện 3 thư của chiến dịch vssid-2022 ngày {today:%d/%m/%Y}." in (
        capsys.readouterr().out)
    assert outreach(root, "posted", "vssid-2022", "--by", "Lê Văn Bưu", "--only", "WSD098B") == 2
    assert "không ghi nhận lần nữa" in capsys.readouterr().err

    assert outreach(root, "status", "vssid-2022", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    posted = {letter["key"]: letter for letter in status["paper"]}
    assert posted["employers/KPP170Z"]["state"] == "posted" and posted["employers/KPP170Z"]["posted_by"] == "Lê Văn Bưu"
    assert posted["employers/KPP170Z"]["where"].startswith("paper/lo-in-01-QLT.pdf, trang ")
    assert status["phase"] == "sending"  # GH71459 still waits for its approval

    assert outreach(root, "report", "vssid-2022", "--xlsx", str(tmp_path / "r.xlsx")) == 0
    rows = list(openpyxl.load_workbook(tmp_path / "r.xlsx").active.iter_rows(values_only=True))
    by_code = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert (by_code["DL56013"]["Kênh gửi"], by_code["DL56013"]["Người gửi bưu điện"]) == ("Bản giấy", "Lê Văn Bưu")
    assert by_code["DL56013"]["Bản in (tệp, trang)"].startswith("paper/lo-in-02-TTPT.pdf, trang 1")
    assert by_code["DL56013"]["Ngày gửi bưu điện"] == dt.datetime.combine(today, dt.time())
    assert by_code["GH71459"]["Trạng thái"] == "chưa duyệt" and by_code["GH71459"]["Bản in (tệp, trang)"] is None
    assert outreach(root, "report", "vssid-2022", "--xlsx", str(tmp_path / "chua-nhan.xlsx"), "--not-received") == 0
    rows = list(openpyxl.load_workbook(tmp_path / "chua-nhan.xlsx").active.iter_rows(values_only=True))
    waiting = {code for code, row in by_code.items() if row["Trạng thái"] not in ("đã gửi", "đã gửi bưu điện")}
    assert "GH71459" in waiting and "DL56013" not in waiting and {row[0] for row in rows[1:]} == waiting
