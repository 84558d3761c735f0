"""The sample campaign `nhac-dao-han` built as staff build it: each participant's letter carries their
own memo, amount and a VietQR code a banking app reads back from the printed page; the e-mail shows
the ID masked; the support reason is printed nowhere; a letter that could arrive after its payment
deadline is not made."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from outreach.cli import main
from outreach.config import load_config
from outreach.convert import pdf_page_texts, pdf_text
from outreach.outbox.manifest import read_manifest
from outreach.outbox.messages import decoded_header, parse_message
from outreach.payment.vietqr import crc16_ccitt_false, transfer_payload

from factories import build

REPO = Path(__file__).resolve().parent.parent
CAMPAIGN = "nhac-dao-han"
LAN = "participants/056183004521"  # Nguyễn Thị Lan: 12 months at the lowest income, Nha Trang's account
GROUP_WORDS = ("nghèo", "dân tộc", "thiểu số", "đảo", "ho_ngheo", "can_ngheo", "dan_toc", "xa_dao")


def copy_office(root: Path) -> Path:
    for item in ("config.toml", "templates", "recipients"):
        source = REPO / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / item)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = copy_office(tmp_path_factory.mktemp("office"))
    assert main(["--root", str(root), "build", CAMPAIGN]) == 0
    return root, read_manifest(root, CAMPAIGN)


def fields(payload: str) -> dict[str, str]:
    """EMVCo TLV → {tag: value}, nested templates flattened as ``38.01.00``."""
    found, index = {}, 0
    while index < len(payload):
        tag, length = payload[index:index + 2], int(payload[index + 2:index + 4])
        value = payload[index + 4:index + 4 + length]
        found[tag] = value
        if tag in ("38", "62"):
            found.update({f"{tag}.{k}": v for k, v in fields(value).items()})
        index += 4 + length
    return found


def decoded_qr(pdf: Path, tmp_path: Path) -> list[str]:
    """What a scanner reads from the printed letter: the PDF rasterised at 200 dpi, decoded by zbar."""
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    result = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *map(str, pages)],
                            capture_output=True, text=True)
    return result.stdout.splitlines()


def test_every_participant_gets_a_draft_sent_by_the_office_routing_decides(built):
    root, manifest = built
    assert len(manifest.drafts) == 12 and manifest.rejected == ()
    senders = {d.name: d.sender for d in manifest.drafts}
    assert senders["Trần Văn Hùng"] == "CLA" and senders["Nguyễn Thị Lan"] == "TTPT"
    assert all(d.cc == () for d in manifest.drafts)


def test_the_qr_code_decoded_from_the_pdf_is_the_payment(built, tmp_path):
    root, manifest = built
    draft = manifest.draft(LAN.split("/")[1])
    (payload,) = decoded_qr(draft.path(root, "letter.pdf"), tmp_path)
    assert payload == transfer_payload("970418", "1234500000001", 3_168_000, "BHXHTN 056183004521")
    assert int(payload[-4:], 16) == crc16_ccitt_false(payload[:-4].encode("ascii"))
    found = fields(payload)
    assert (found["38.00"], found["38.02"], found["53"], found["54"], found["58"]) == \
        ("A000000727", "QRIBFTTA", "704", "3168000", "VN")
    assert found["38.01"] == "0006970418" + "0113" + "1234500000001" and found["62.08"] == "BHXHTN 056183004521"
    assert "0905111201" not in payload and "Lan" not in payload  # no phone, no name in the code


def test_the_letter_prints_the_memo_amount_and_account(built):
    root, manifest = built
    draft = manifest.draft(LAN.split("/")[1])
    raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(draft.path(root, "letter.pdf")), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert unicodedata.is_normalized("NFC", raw)
    text = " ".join(raw.split())
    assert "“Đóng BHXH tự nguyện của Nguyễn Thị Lan, 056183004521, 0905111201”" in text
    assert "Kính gửi: Ông/Bà Nguyễn Thị Lan" in text
    assert "Số tiền phải đóng: 3.168.000 đồng (đã trừ 792.000 đồng Nhà nước hỗ trợ)" in text
    assert "chậm nhất ngày 31/07/2027" in text and "từ tháng 01/2027 đến tháng 12/2027" in text
    assert "số tài khoản 1234500000001 tại BIDV – Chi nhánh Nha Trang" in text
    assert "Số: /BHXH-TTPT" in text and "V/v đóng bảo hiểm xã hội tự nguyện" in text
    assert "{{" not in text and "{%" not in text


def test_without_a_phone_the_memo_has_name_and_id(built):
    root, manifest = built
    text = " ".join(pdf_text(manifest.draft("056095006677").path(root, "letter.pdf")).split())
    assert "“Đóng BHXH tự nguyện của Đặng Quốc Bảo, 056095006677”" in text


def test_the_support_reason_is_printed_nowhere(built):
    root, manifest = built
    for draft in manifest.drafts:
        texts = [pdf_text(draft.path(root, "letter.pdf")).casefold()]
        if draft.to:
            message = parse_message(draft.eml_path(root).read_bytes())
            texts += [part.get_content().casefold() for part in message.walk() if part.get_content_type().startswith("text/")]
        for text in texts:
            assert not [word for word in GROUP_WORDS if word in text], draft.name
    # yet the amounts differ by group: the near-poor Trần Văn Hùng pays 440,000 − 132,000 a month
    hung = " ".join(pdf_text(manifest.draft("056075012345").path(root, "letter.pdf")).split())
    assert "Số tiền phải đóng: 308.000 đồng (đã trừ 132.000 đồng Nhà nước hỗ trợ)" in hung


def test_the_email_shows_the_id_masked_and_no_phone(built):
    root, manifest = built
    draft = manifest.draft(LAN.split("/")[1])
    message = parse_message(draft.eml_path(root).read_bytes())
    subject = decoded_header(message, "Subject")
    assert subject == "Thông báo đóng BHXH tự nguyện kỳ 01/2027 – 12/2027"
    bodies = [part.get_content() for part in message.walk() if part.get_content_type() in ("text/plain", "text/html")]
    assert len(bodies) == 2
    for body in bodies:
        assert "********4521" in body and "3.168.000 đồng" in body and "31/07/2027" in body
        assert "056183004521" not in body and "0905111201" not in body and "0905 111 201" not in body
    assert "056183004521" not in subject
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content() == draft.path(root, "letter.pdf").read_bytes()  # only the letter carries the ID whole


def test_a_letter_that_could_arrive_after_its_deadline_is_not_made(tmp_path):
    root = copy_office(tmp_path)
    config_file = root / "config.toml"
    config_file.write_text(re.sub(r"expires = 2027-01-29T17:00:00", "expires = 2027-02-15T17:00:00",
                                  config_file.read_text(encoding="utf-8")), encoding="utf-8")
    # Trần Văn Hùng pays monthly: January 2027 is due by 31/01/2027; Nguyễn Thị Lan's year by 31/07/2027
    report = build(load_config(root), CAMPAIGN, only=["056075012345", "056183004521"])
    assert report.built == [LAN]
    (failed,) = report.failed
    assert failed.key == "participants/056075012345"
    assert "Hạn nộp tiền kỳ 01/2027–01/2027 là 31/01/2027" in failed.message
    assert "không muộn hơn 31/01/2027" in failed.message


def bundles_of(pdf: Path) -> dict[str, list[str]]:
    """The print file's bundles, by who hands them over: the letters that follow each list sheet."""
    bundles: dict[str, list[str]] = {}
    current = None
    for page in pdf_page_texts(pdf):
        text = " ".join(page.split())
        sheet = re.search(r"Nơi giao thư: (.+?) — \d+ thư", text)
        if sheet:
            current = sheet.group(1)
            bundles[current] = []
        addressee = re.search(r"Kính gửi: Ông/Bà (.+?) (?:Bảo hiểm|Ông/Bà)", text)
        if addressee and current is not None:
            bundles[current].append(addressee.group(1))
    return bundles


def test_participants_without_email_are_bundled_by_who_hands_the_letters_over(built):
    root, manifest = built
    paper = sorted(d.name for d in manifest.drafts if not d.to)
    assert paper == ["Bùi Thị Thu Hà", "Hoàng Thị Sáu", "Võ Thị Mai", "Đặng Quốc Bảo"]
    print_folder = root / "outbox" / CAMPAIGN / "print"
    bundles = bundles_of(print_folder / f"ban-in-{CAMPAIGN}.pdf")
    assert bundles == {
        "Bưu điện huyện Cam Lâm": ["Hoàng Thị Sáu", "Đặng Quốc Bảo"],  # their collection organisation
        "Đại lý thu BHXH, BHYT phường Phước Hải": ["Võ Thị Mai"],
        "Xã Vĩnh Lương": ["Bùi Thị Thu Hà"],  # no collection organisation: her commune
    }
    sheets = " ".join(" ".join(pdf_text(p).split()) for p in sorted(print_folder.glob("danh-sach-*.pdf")))
    assert "Hoàng Thị Sáu" in sheets and "********4433" in sheets and "056170004433" not in sheets  # it travels outside
    labels = " ".join(pdf_text(print_folder / "nhan-dia-chi.pdf").split())
    assert "Kính gửi: Ông/Bà Bùi Thị Thu Hà" in labels and "056185002211" not in labels
