"""Signed letters, as staff make them: `outreach sign --as leader`, then `--as agency`, on real
letters built by LibreOffice, with the leader's key on a SoftHSM2 token and the agency's in a
PKCS#12 file, a test PKI made here, and a local RFC 3161 time-stamp server that also serves the
root's CRL (so the signatures are B-T and B-LT). Each signed file is checked by the project and,
independently, by poppler's pdfsig against an NSS database that trusts the test root.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import getpass
import hashlib
import io
import mailbox
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import numpy
import pikepdf
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from docx import Document
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from outreach.accounts import Actor
from outreach.cli import main
from outreach.config import parse_config
from outreach.delivery import Ledger
from outreach.errors import UserError
from outreach.outbox.manifest import read_manifest, sha256_file, write_manifest
from outreach.outbox.messages import parse_message
from outreach.delivery.sink import SmtpSink
from outreach.sign import demo_pki as pki
from outreach.sign.placement import find_signature_block, page_texts
from outreach.sign.verify import Verifier, signed_roles
from outreach.config import Signer
from outreach.workspace import Workspace, lock_held

from factories import build

REPO = Path(__file__).resolve().parent.parent
CODES = ["YK34396", "22327", "DL56001"]
PIN, WRONG_PIN, P12_PASSWORD = "246810", "111111", "p12-mat-khau"
SIGNER = Signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Lê Hùng Chính")


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory):
    """Root → leader (on token LANHDAO), agency (.p12), TSA; a token whose key does not match its
    certificate; an expired agency file; a file from an untrusted root; an NSS db trusting the root."""
    folder = tmp_path_factory.mktemp("pki")
    root = pki.make_root("CA gốc kiểm thử")
    now = dt.datetime.now(dt.timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.certificate.subject)
           .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7))
           .sign(root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    server = pki.LocalTimestampServer(root, crl)

    conf = pki.softhsm_config(folder)
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # before the module is first loaded in this process
    for label in ("LANHDAO", "SAIKHOA"):
        pki.init_token(conf, label, PIN)
    crl_url = server.crl_url
    leader = pki.issue(root, SIGNER.name, pki.key_on_token("LANHDAO", PIN, "lanh-dao"), crl_url=crl_url)
    pki.certificate_on_token("LANHDAO", PIN, "lanh-dao", leader)
    pki.key_on_token("SAIKHOA", PIN, "lanh-dao")
    pki.certificate_on_token("SAIKHOA", PIN, "lanh-dao", pki.issue(root, SIGNER.name, pki.new_key().public_key()))
    agency_key = pki.new_key()
    agency = pki.Issued(agency_key, pki.issue(root, "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA", agency_key.public_key(),
                                              crl_url=crl_url))
    pki.write_pkcs12(folder / "co-quan.p12", agency, [root.certificate], P12_PASSWORD)
    old = pki.Issued(agency_key, pki.issue(root, "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA", agency_key.public_key(),
                                           not_before=now - dt.timedelta(days=800), days=400))
    pki.write_pkcs12(folder / "het-han.p12", old, [root.certificate], P12_PASSWORD)
    stranger = pki.make_root("CA gốc lạ")
    foreign = pki.Issued(agency_key, pki.issue(stranger, "Cơ quan lạ", agency_key.public_key()))
    pki.write_pkcs12(folder / "la.p12", foreign, [stranger.certificate], P12_PASSWORD)
    pki.write_pem(folder / "root.pem", root.certificate)
    pki.signature_image(folder / "chu-ky.png")
    pki.seal_image(folder / "con-dau.png")
    nss = folder / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(folder / "root.pem")],
                   check=True)
    yield {"folder": folder, "tsa_url": server.url, "nss": nss, "root": _asn1(root.certificate)}
    server.close()
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def signing_section(test_pki: dict, **changes) -> dict:
    folder = test_pki["folder"]
    section = {
        "required": True, "trust_roots": [str(folder / "root.pem")], "tsa_url": test_pki["tsa_url"],
        "leader": {"pkcs11_module": str(pki.SOFTHSM_MODULE), "token_label": "LANHDAO", "key_label": "lanh-dao",
                   "pin_env": "OUTREACH_LEADER_PIN", "image": str(folder / "chu-ky.png")},
        "agency": {"pkcs12": str(folder / "co-quan.p12"), "password_env": "OUTREACH_AGENCY_PIN",
                   "image": str(folder / "con-dau.png")},
    }
    for role, table in changes.items():
        section[role] = {**section[role], **table} if isinstance(table, dict) else table
    return section


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def outreach(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted((root / "outbox/vssid-2022").rglob("*"))
            if p.is_file() and p.suffix in (".pdf", ".eml", ".json")}


def pdfsig(test_pki: dict, pdf: Path) -> str:
    return subprocess.run(["pdfsig", "-nssdir", f"sql:{test_pki['nss']}", str(pdf)], capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def monkeypatch_module():
    patcher = pytest.MonkeyPatch()
    yield patcher
    patcher.undo()


def longer_template(source: Path, target: Path, copies: int = 14) -> None:
    """The letter with its last body paragraph repeated: the signature block moves a page down."""
    document = Document(str(source))
    body = document.element.body
    last = [child for child in body if child.tag.endswith("}p")][-1]
    for _ in range(copies):
        last.addnext(copy.deepcopy(last))
    document.save(str(target))


@pytest.fixture(scope="module")
def office(tmp_path_factory, test_pki, monkeypatch_module):
    """A working folder with a few numbered, built, unsigned letters (and a paper one) in two
    campaigns: the sample letter, and one whose signature block sits on the next page."""
    from outreach.config import load_config
    from outreach.outbox.build import issue_document_number

    root = tmp_path_factory.mktemp("signed-office")
    for item in ("templates", "recipients"):
        shutil.copytree(REPO / item, root / item)
    longer_template(REPO / "templates/cong-van-vssid.docx", root / "templates/cong-van-dai.docx")
    write_signing(root, signing_section(test_pki))
    monkeypatch_module.setenv("OUTREACH_LEADER_PIN", PIN)
    monkeypatch_module.setenv("OUTREACH_AGENCY_PIN", P12_PASSWORD)
    monkeypatch_module.delenv("OUTREACH_SMTP_URL", raising=False)
    config = load_config(root)
    for campaign, codes in (("vssid-2022", CODES), (LONGER, ["22327"])):
        issue_document_number(config, campaign, dt.date(2023, 1, 5), Actor("Lê Văn Thư"))
        assert not build(config, campaign, only=codes).failed
    shutil.copytree(root, root.parent / "unsigned-office")  # for the batch tests: letters no one signed yet
    return root


LONGER = "dai-hon"


def write_signing(root: Path, section: dict) -> None:
    """config.toml as shipped plus a campaign whose letter is a page longer, and this [signing]."""
    shipped = (REPO / "config.toml").read_text(encoding="utf-8")
    start = shipped.index("[campaigns.vssid-2022]")
    tables = [i for i in range(start + 1, len(shipped)) if shipped.startswith("\n[", i)
              and not shipped.startswith("\n[campaigns.vssid-2022", i)]
    campaign = shipped[start:tables[0] + 1 if tables else None]  # the campaign's own tables only
    campaign = campaign.replace("[campaigns.vssid-2022]", f"[campaigns.{LONGER}]")
    campaign = campaign.replace("templates/cong-van-vssid.docx", "templates/cong-van-dai.docx")
    lines = ["", "[signing]"] + [f"{k} = {_toml(v)}" for k, v in section.items() if not isinstance(v, dict)]
    for role in ("leader", "agency"):
        lines += ["", f"[signing.{role}]"] + [f"{k} = {_toml(v)}" for k, v in section[role].items()]
    (root / "config.toml").write_text(shipped + "\n" + campaign + "\n".join(lines) + "\n", encoding="utf-8")


def letters(root: Path, campaign: str = "vssid-2022"):
    return read_manifest(root, campaign).drafts


@pytest.fixture
def signing_config(office, test_pki):
    """Change [signing] for one test; the shipped test section comes back after it."""
    def change(**changes):
        write_signing(office, signing_section(test_pki, **changes))
    yield change
    write_signing(office, signing_section(test_pki))


def test_leader_refusals_touch_nothing(office, signing_config, monkeypatch, capsys):
    before = snapshot(office)
    monkeypatch.setenv("OUTREACH_LEADER_PIN", WRONG_PIN)
    assert outreach(office, "sign", "vssid-2022", "--as", "leader") == 2
    assert "Mã PIN" in capsys.readouterr().err
    monkeypatch.setenv("OUTREACH_LEADER_PIN", PIN)
    signing_config(leader={"token_label": "SAIKHOA"})
    assert outreach(office, "sign", "vssid-2022", "--as", "leader") == 2
    assert "không khớp với chứng thư" in capsys.readouterr().err
    assert snapshot(office) == before


def test_agency_cannot_sign_before_the_leader(office, capsys):
    before = snapshot(office)
    assert outreach(office, "sign", "vssid-2022", "--as", "agency", "--only", "YK34396") == 1
    assert "chưa có chữ ký của lãnh đạo" in capsys.readouterr().out
    assert snapshot(office) == before


def test_leader_then_agency_sign_every_letter(office, test_pki, capsys):
    assert outreach(office, "sign", "vssid-2022", "--as", "leader") == 0
    assert outreach(office, "sign", LONGER, "--as", "leader") == 0
    out = capsys.readouterr().out
    assert "3 thư đã ký" in out and "1 thư đã ký" in out  # the sample letters; the longer letter
    for draft in letters(office):
        assert signed_roles(draft.path(office, "letter.pdf")) == {"leader"}
    assert outreach(office, "sign", "vssid-2022", "--as", "leader") == 0  # nothing left: no login, no change
    assert "0 thư đã ký, 3 thư đã có chữ ký này từ trước" in capsys.readouterr().out
    with Ledger.open(office) as ledger:  # one signing run recorded (the one that signed), by whom, from where
        (run,) = [e for e in ledger.events("vssid-2022") if e.to_state == "signed"]
    user = getpass.getuser()
    assert (run.actor, run.login, run.source, run.detail) == (user, "", f"cli {user}", "người có thẩm quyền (lãnh đạo): 3 thư, 0 phụ lục")


def test_agency_refusals_touch_nothing(office, test_pki, signing_config, monkeypatch, capsys):
    before = snapshot(office)
    monkeypatch.setenv("OUTREACH_AGENCY_PIN", "sai-mat-khau")
    assert outreach(office, "sign", "vssid-2022", "--as", "agency") == 2
    assert "Mật khẩu của tệp khóa ký" in capsys.readouterr().err
    monkeypatch.setenv("OUTREACH_AGENCY_PIN", P12_PASSWORD)
    for file, expected in (("het-han.p12", "đã hết hạn"), ("la.p12", "không thuộc chuỗi tin cậy")):
        signing_config(agency={"pkcs12": str(test_pki["folder"] / file)})
        assert outreach(office, "sign", "vssid-2022", "--as", "agency") == 2
        assert expected in capsys.readouterr().err
    assert snapshot(office) == before


def test_agency_signs_letters_and_appendices(office, capsys):
    assert outreach(office, "sign", "vssid-2022", "--as", "agency") == 0
    out = capsys.readouterr().out
    assert "3 thư đã ký" in out and out.count("Đã ký phụ lục") == 2
    assert outreach(office, "sign", LONGER, "--as", "agency") == 0
    for draft in letters(office):
        assert signed_roles(draft.path(office, "letter.pdf")) == {"leader", "agency"}


def signed_files(root: Path) -> list[Path]:
    folder = root / "outbox/vssid-2022"
    return [*(d.path(root, "letter.pdf") for d in letters(root)), *sorted((folder / "attachments").glob("*.pdf"))]


def test_every_signed_file_verifies_here_and_in_pdfsig(office, test_pki, capsys):
    files = signed_files(office)
    assert outreach(office, "verify", *map(str, files)) == 0
    out = capsys.readouterr().out
    assert out.count("HỢP LỆ") == len(files) and "KHÔNG" not in out
    assert "Lê Hùng Chính" in out and "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA" in out and "có dấu thời gian" in out
    verifier = Verifier([test_pki["root"]])
    for path in files:
        check = verifier.check(path.read_bytes(), path.name)
        expected = 1 if "attachments" in path.parts else 2
        assert len(check.signatures) == expected and check.ok
        assert all(s.timestamped and s.signed_at.utcoffset() == dt.timedelta(hours=7) for s in check.signatures)
        report = pdfsig(test_pki, path)
        assert report.count("Signature is Valid.") == expected, report
        assert report.count("Certificate is Trusted.") == expected, report
        assert report.count("ETSI.CAdES.detached") == expected
        with pikepdf.open(path) as pdf:  # B-LT: the CRL the certificates name is in the document
            assert "/DSS" in pdf.Root and len(pdf.Root.DSS.CRLs) >= 1
            if expected == 2:  # the leader's signature certifies the letter
                assert "/DocMDP" in pdf.Root.Perms


def test_one_changed_byte_breaks_the_signatures(office, test_pki, tmp_path, capsys):
    letter = letters(office)[0].path(office, "letter.pdf")
    data = bytearray(letter.read_bytes())
    index = data.index(b"stream", 2000) + 40  # inside the first page content, signed by both
    data[index] ^= 0x01
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(bytes(data))
    assert outreach(office, "verify", str(broken)) == 1
    assert "KHÔNG nguyên vẹn" in capsys.readouterr().out
    assert "Signature is Valid." not in pdfsig(test_pki, broken)


def test_a_change_after_signing_is_not_covered(office, tmp_path, capsys):
    letter = letters(office)[0].path(office, "letter.pdf")
    writer = IncrementalPdfFileWriter(io.BytesIO(letter.read_bytes()))
    writer.root["/Lang"] = generic.pdf_string("en")  # an update that is not a signature
    writer.update_root()
    changed = tmp_path / "changed.pdf"
    with changed.open("wb") as handle:
        writer.write(handle)
    assert outreach(office, "verify", str(changed)) == 1
    assert "KHÔNG phủ toàn bộ tệp" in capsys.readouterr().out


def _ink(png: Path, colour: str) -> tuple[int, int, int, int] | None:
    """Bounding box (pixels) of the blue or red ink on a rendered page."""
    pixels = numpy.asarray(Image.open(png).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    mask = (r < 90) & (g < 110) & (b > 130) if colour == "blue" else (r > 150) & (g < 90) & (b < 90)
    ys, xs = numpy.nonzero(mask)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.mark.parametrize("campaign", ["vssid-2022", LONGER])
def test_images_are_where_the_decree_puts_them(office, test_pki, campaign, tmp_path):
    draft = next(d for d in letters(office, campaign) if d.code == "22327")
    letter = draft.path(office, "letter.pdf")
    pages = page_texts(letter)
    block = find_signature_block(reversed(list(enumerate(pages))), SIGNER)
    if campaign == LONGER:  # the block moved a page down, and is found there
        short_letter = next(d for d in letters(office) if d.code == "22327").path(office, "letter.pdf")
        short = find_signature_block(reversed(list(enumerate(page_texts(short_letter)))), SIGNER)
        assert block.page > short.page
    dpi, scale = 100, 100 / 72
    subprocess.run(["pdftoppm", "-f", str(block.page + 1), "-l", str(block.page + 1), "-r", str(dpi), "-png",
                    "-singlefile", str(letter), str(tmp_path / "page")], check=True)
    blue, red = _ink(tmp_path / "page.png", "blue"), _ink(tmp_path / "page.png", "red")
    assert blue and red
    height = pages[block.page].height
    title_bottom = (height - block.title.y1) * scale  # pixels from the top
    name_top = (height - block.name.y2) * scale
    assert title_bottom - 2 <= blue[1] and blue[3] <= name_top + 2  # between the title line and the name
    centre = (block.name.x1 + block.name.x2) / 2 * scale
    assert abs((blue[0] + blue[2]) / 2 - centre) < 12  # centred under the title, over the name
    seal = _ink(Path(signing_section(test_pki)["agency"]["image"]), "red")  # the ink in the 300 dpi image
    assert abs((red[2] - red[0]) - (seal[2] - seal[0]) * dpi / 300) < 3  # the seal at its real size
    third = blue[0] + (blue[2] - blue[0]) / 3
    assert abs(red[2] - third) < 0.1 * (blue[2] - blue[0])  # over the left third of the signature
    assert red[0] < blue[0] < red[2]


def test_appendix_carries_number_and_signing_time_top_right(office, test_pki, tmp_path):
    appendix = sorted((office / "outbox/vssid-2022/attachments").glob("*.pdf"))[0]
    with pikepdf.open(appendix) as pdf:
        (widget,) = [a for a in pdf.pages[0].get("/Annots", []) if a.get("/FT") == "/Sig"]
        box = [float(v) for v in widget.Rect]
        appearance = widget.AP.N.read_bytes()
        width, height = float(pdf.pages[0].mediabox[2]), float(pdf.pages[0].mediabox[3])
    assert box[0] > width / 2 and box[3] > height - 60  # top right of page 1
    shown = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)),  # PDF string escapes
                   b" ".join(re.findall(rb"/ActualText \((.*?)\)", appearance)).decode())
    (signature,) = Verifier([test_pki["root"]]).check(appendix.read_bytes()).signatures
    assert "01/BHXH-QLT" in shown
    moment = re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", shown).group(0)
    assert abs(dt.datetime.fromisoformat(moment) - signature.signed_at) < dt.timedelta(seconds=5)
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "72", "-png", "-singlefile", str(appendix),
                    str(tmp_path / "p1")], check=True)
    image = Image.open(tmp_path / "p1.png").convert("RGB")
    region = image.crop((int(box[0]), int(height - box[3]), int(box[2]), int(height - box[1])))
    colours = {tuple(pixel) for pixel in numpy.asarray(region).reshape(-1, 3).tolist() if sum(pixel) < 600}
    assert colours and all(max(c) - min(c) < 40 for c in colours)  # black text, no coloured image


def test_the_recipient_page_shows_the_signatures(office):
    from outreach.web import create_app

    page = create_app(office, testing=True).test_client().get("/campaigns/vssid-2022/recipients/22327")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "chữ ký của người có thẩm quyền (lãnh đạo): Lê Hùng Chính" in text
    assert "chữ ký của cơ quan (văn thư): BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA" in text
    assert text.count("nguyên vẹn, tin cậy, phủ toàn bộ tệp") == 2


def test_approved_signed_messages_arrive_with_the_signed_bytes(office, test_pki, monkeypatch):
    assert outreach(office, "approve", "vssid-2022", "--by", "Trần Văn Duyệt", "--all") == 0
    with SmtpSink(office / "sink", port=0) as sink:
        monkeypatch.setenv("OUTREACH_SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
        assert outreach(office, "send", "vssid-2022") == 0
    received = [parse_message(bytes(m)) for m in mailbox.Maildir(office / "sink", factory=None)]
    assert len(received) == 3
    verifier = Verifier([test_pki["root"]])
    for message in received:
        draft = next(d for d in letters(office) if d.to and d.to[0] in str(message["To"]))
        pdfs = [p.get_content() for p in message.iter_attachments()]
        assert pdfs[0] == draft.path(office, "letter.pdf").read_bytes()
        assert verifier.check(pdfs[0]).valid_roles() == {"leader", "agency"}
        assert all(verifier.check(pdf).valid_roles() == {"agency"} for pdf in pdfs[1:])
        assert "đã được ký số" in message.get_body(("plain",)).get_content()


def test_a_rebuilt_signed_draft_loses_its_signatures_and_cannot_be_approved(office, capsys):
    from outreach.config import load_config
    template = office / "templates/cong-van-dai.docx"
    document = Document(str(template))
    document.add_paragraph("Đoạn thêm sau khi ký.")
    document.save(str(template))
    report = build(load_config(office), LONGER, only=["22327"])
    assert report.built == ["communes/22327"]
    assert any("không còn chữ ký" in warning for warning in report.warnings)
    (draft,) = letters(office, LONGER)
    assert signed_roles(draft.path(office, "letter.pdf")) == set()
    capsys.readouterr()
    assert outreach(office, "approve", LONGER, "--by", "Trần Văn Duyệt", "--all") == 2
    assert "chưa có chữ ký số hợp lệ của người có thẩm quyền" in capsys.readouterr().err


def test_signing_section_is_checked_when_read(test_pki):
    data = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    section = signing_section(test_pki)
    parsed = parse_config({**data, "signing": section}, REPO).signing
    assert parsed.required and parsed.leader.token_label == "LANHDAO" and parsed.agency.file.name == "co-quan.p12"
    assert parse_config(data, REPO).signing.required is False  # no [signing]: nothing asked of approval
    for broken, expected in (
        ({**section, "agency": {**section["agency"], "token_label": "X"}}, "vừa có token_label"),
        ({k: v for k, v in section.items() if k != "agency"}, "thiếu [signing.agency]"),
        ({**section, "trust_roots": []}, "chưa có chứng thư gốc"),
        ({**section, "tsa_url": "tsa.example.vn"}, "không phải địa chỉ http"),
    ):
        with pytest.raises(UserError) as caught:
            parse_config({**data, "signing": broken}, REPO)
        assert expected in caught.value.message and "Cách sửa" in caught.value.message


def test_a_signed_revision_replaces_its_attachment_and_nothing_else():
    from outreach.outbox.messages import Attachment, _base64, build_message, message_bytes, upgrade_attachments

    letter, appendix, leaflet = b"%PDF-1.4 letter " * 900, b"%PDF-1.4 appendix " * 700, b"%PDF-1.4 leaflet " * 50
    original = message_bytes(build_message(
        sender_name="BHXH tỉnh Khánh Hòa", sender="qlt@bhxh.example.vn", reply_to="", to=["a@example.vn"], cc=(),
        subject="Công văn số 01/BHXH-QLT", text="Kính gửi: Công ty A\n", html="<p>Kính gửi: Công ty A</p>",
        attachments=[Attachment("Công văn số 01.pdf", letter), Attachment("Phụ lục 1.pdf", appendix),
                     Attachment("Tờ rơi.pdf", leaflet)]))
    signed_letter, signed_appendix = letter + b"\n% signature\n", appendix + b"\n% signature\n"
    upgraded = upgrade_attachments(original, [signed_letter, signed_appendix, b"%PDF-1.4 unrelated"])
    body = {data: _base64(data)[1] for data in (letter, appendix, signed_letter, signed_appendix)}
    assert upgraded == original.replace(body[letter], body[signed_letter]).replace(body[appendix], body[signed_appendix])
    before, after = parse_message(original), parse_message(upgraded)
    assert [p.get_content() for p in after.iter_attachments()] == [signed_letter, signed_appendix, leaflet]
    assert before.items() == after.items()  # Message-ID, Date, Subject… unchanged
    assert upgrade_attachments(original, [b"%PDF-1.4 unrelated"]) == original



def test_the_prepared_cms_is_the_one_pyhanko_packages_byte_for_byte():
    import asyncio

    from asn1crypto import cms, keys as asn1_keys
    from pyhanko.sign import signers
    from pyhanko.sign.general import simple_cms_attribute
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from outreach.sign.speedups import PadesSignedAttributes, PreparedPackaging

    root = pki.make_root()
    intermediate = pki.issue(root, "Trung gian", pki.new_key().public_key())
    key = pki.new_key()
    der = serialization.Encoding.DER
    options = dict(signing_cert=_asn1(pki.issue(root, "Lê Hùng Chính", key.public_key())),
                   signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
                       der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))

    class Prepared(PreparedPackaging, signers.SimpleSigner):
        assembled = 0  # SignerInfo values pyHanko itself put together

        def signer_info(self, *args):
            Prepared.assembled += 1
            return super().signer_info(*args)

    def chain() -> SimpleCertificateStore:
        return SimpleCertificateStore.from_certs([_asn1(intermediate)])

    plain, prepared = signers.SimpleSigner(**options, cert_registry=chain()), Prepared(**options, cert_registry=chain())
    for signer in (plain, prepared):
        signer.signed_attr_prov_spec = PadesSignedAttributes(signer.signing_cert)
    stamp = cms.CMSAttributes([simple_cms_attribute("signing_time", cms.Time({"utc_time": dt.datetime(
        2025, 10, 28, 4, 28, 17, tzinfo=dt.timezone.utc)}))])  # an unsigned attribute, as a time stamp is
    for document in (b"first letter", b"second letter", b"third letter"):
        digest = hashlib.sha256(document).digest()
        ours, theirs = (asyncio.run(s.async_sign(digest, "sha256", use_pades=True)) for s in (prepared, plain))
        assert ours.dump() == theirs.dump()
        assert ours["content"]["signer_infos"][0]["signature"].native == theirs["content"]["signer_infos"][0]["signature"].native
        parts = dict(digest_algorithm="sha256", cms_version="v1", signature=digest * 8, encap_content_info=None,
                     signed_attrs=theirs["content"]["signer_infos"][0]["signed_attrs"], unsigned_attrs=stamp)
        assert prepared._package_signature(**parts).dump() == plain._package_signature(**parts).dump()
    assert Prepared.assembled == 1  # only the first signature was packaged by pyHanko

# --- batches: worker processes, and a run killed at any point completed by the next --------------

COPIES = 24


@pytest.fixture
def clones(office, tmp_path):
    """The unsigned office with the sample letter copied into COPIES drafts (as the bench does)."""
    root = tmp_path / "office"
    shutil.copytree(office.parent / "unsigned-office", root)
    manifest = read_manifest(root, "vssid-2022")
    model = next(d for d in manifest.drafts if d.code == "YK34396")
    drafts = []
    for index in range(COPIES):
        folder = root / model.folder / ".." / f"B{index:06d}"
        folder.mkdir()
        for name in ("letter.pdf", "message.eml"):
            shutil.copy(model.path(root, name), folder / name)
        drafts.append(dataclasses.replace(model, code=f"B{index:06d}",
                                          folder=str(Path(model.folder).parent / f"B{index:06d}")))
    write_manifest(root, dataclasses.replace(manifest, drafts=tuple(drafts)))
    return root


def signature_count(data: bytes) -> int:
    return len(PdfFileReader(io.BytesIO(data), strict=False).embedded_regular_signatures)


def assert_consistent(root: Path, roles: set[str]) -> None:
    """Every letter signed once in each role, its message carrying it, the manifest naming both files."""
    for draft in letters(root):
        letter = draft.path(root, "letter.pdf").read_bytes()
        assert signed_roles(draft.path(root, "letter.pdf")) == roles and signature_count(letter) == len(roles)
        files = {f.name: f.sha256 for f in draft.files}
        eml = draft.eml_path(root).read_bytes()
        assert files["letter.pdf"] == hashlib.sha256(letter).hexdigest(), draft.key
        assert draft.message_sha256 == files["message.eml"] == hashlib.sha256(eml).hexdigest(), draft.key
        assert letter in [part.get_content() for part in parse_message(eml).iter_attachments()], draft.key
    assert not list((root / "outbox").rglob("*.tmp"))


def test_worker_processes_sign_letters_that_verify_here_and_in_pdfsig(clones, test_pki):
    from outreach.config import load_config
    from outreach.sign.batch import sign_campaign

    config = load_config(clones)
    for role in ("leader", "agency"):
        report = sign_campaign(config, "vssid-2022", role, workers=2, progress=False)
        assert report.workers == 2 and len(report.signed) == COPIES and not report.skipped
        assert report.signatures >= COPIES and report.device_seconds > 0
    assert_consistent(clones, {"leader", "agency"})
    verifier = Verifier([test_pki["root"]])
    drafts = letters(clones)
    for draft in drafts:
        check = verifier.check(draft.path(clones, "letter.pdf").read_bytes())
        assert check.ok and [s.role for s in check.signatures] == ["leader", "agency"]
        assert all(s.timestamped for s in check.signatures)
    for draft in (drafts[0], drafts[-1]):  # one from each end: both workers' signatures
        report = pdfsig(test_pki, draft.path(clones, "letter.pdf"))
        assert report.count("Signature is Valid.") == 2 and report.count("Certificate is Trusted.") == 2, report


def test_two_signing_runs_of_one_campaign_never_overlap(clones, capsys):
    """A second `outreach sign` while one holds the campaign's signing lock is refused at once, touching
    nothing; once the first ends, `--workers 1` signs in this process alone."""
    import subprocess
    import sys

    before = snapshot(clones)
    lock = Workspace(clones).sign_lock("vssid-2022")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); f.truncate(0); "
        "f.write('pid 4242'); f.flush(); print('held', flush=True); time.sleep(60)"), str(lock)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert outreach(clones, "sign", "vssid-2022", "--as", "leader") == 2
        assert "đang được ký số bởi một tiến trình khác (pid 4242)" in capsys.readouterr().err
        assert snapshot(clones) == before
    finally:
        holder.kill()
        holder.wait()
    assert outreach(clones, "sign", "vssid-2022", "--as", "leader", "--workers", "1") == 0
    assert f"{COPIES} thư đã ký" in capsys.readouterr().out
    assert_consistent(clones, {"leader"})


def test_a_rerun_completes_what_a_killed_run_left(clones, test_pki, capsys):
    """The states a kill leaves, made on disk: (a) the letter renamed, its message not; (b) both
    renamed, the manifest not written; (c) the signed letter staged, not renamed. The rerun signs
    (c), rebuilds (a)'s message, records (a) and (b), and signs nothing twice."""
    old_letters = {d.key: d.path(clones, "letter.pdf").read_bytes() for d in letters(clones)}
    old_messages = {d.key: d.eml_path(clones).read_bytes() for d in letters(clones)}
    old_manifest = Workspace(clones).manifest("vssid-2022").read_bytes()
    assert outreach(clones, "sign", "vssid-2022", "--as", "leader") == 0
    drafts = letters(clones)
    a, b, c = drafts[0], drafts[1], drafts[2]
    a.eml_path(clones).write_bytes(old_messages[a.key])
    c_letter = c.path(clones, "letter.pdf")
    c_letter.with_suffix(".pdf.tmp").write_bytes(c_letter.read_bytes()[:5000])
    c_letter.write_bytes(old_letters[c.key])
    c.eml_path(clones).write_bytes(old_messages[c.key])
    Workspace(clones).manifest("vssid-2022").write_bytes(old_manifest)
    assert outreach(clones, "sign", "vssid-2022", "--as", "leader") == 0
    out = capsys.readouterr().out
    # (c) signed again; (a) and every other one, as (b), completed
    assert "1 thư đã ký" in out and f"hoàn tất {COPIES - 1} thư" in out, out
    assert_consistent(clones, {"leader"})
    assert outreach(clones, "sign", "vssid-2022", "--as", "agency") == 0
    assert_consistent(clones, {"leader", "agency"})
    verifier = Verifier([test_pki["root"]])
    assert all(verifier.check(d.path(clones, "letter.pdf").read_bytes()).ok for d in (a, b, c))



def test_sign_killed_mid_batch_then_rerun_signs_every_letter_once(clones, test_pki):
    """`outreach sign` (with its workers) killed with SIGKILL once a few letters are signed, then run again."""
    import signal
    import sys
    import time

    command = [sys.executable, "-m", "outreach", "--root", str(clones), "sign", "vssid-2022", "--as", "leader"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    paths = [d.path(clones, "letter.pdf") for d in letters(clones)]
    deadline = time.monotonic() + 120
    while sum("leader" in signed_roles(p) for p in paths) < 3 and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the command and its workers, wherever they are
    process.wait()
    # The workers share the batch's lock and may take a moment more to die (a rerun before that is
    # refused, rightly: "đang được ký số bởi một tiến trình khác").
    lock = Workspace(clones).sign_lock("vssid-2022")
    while lock_held(lock):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    signed = sum("leader" in signed_roles(p) for p in paths)
    assert 3 <= signed < COPIES, "the kill came after the batch"
    assert outreach(clones, "sign", "vssid-2022", "--as", "leader") == 0
    assert_consistent(clones, {"leader"})
    assert outreach(clones, "sign", "vssid-2022", "--as", "agency") == 0
    assert_consistent(clones, {"leader", "agency"})
    verifier = Verifier([test_pki["root"]])
    assert all(verifier.check(p.read_bytes()).ok for p in paths)


# --- what the batch encodes once is what pyHanko would have encoded each time -------------------

def test_the_fast_hex_reader_reads_what_pyhankos_reads():
    from pyhanko.pdf_utils.misc import PdfStreamError

    from outreach.sign.speedups import _pyhanko_read_hex_string, read_hex_string

    cases = [b"<>", b"<4142>", b"<41 42\n43\t4>", b"<" + b"0" * 40000 + b"> rest", b"<4a4B>>",
             b"<" + bytes(range(48, 58)) * 3 + b"\r\n>"]
    for data in cases:
        ours, theirs = io.BytesIO(data), io.BytesIO(data)
        assert read_hex_string(ours) == _pyhanko_read_hex_string(theirs), data[:20]
        assert ours.tell() == theirs.tell()
    for broken in (b"<41 % comment\n42>", b"<41zz>", b"<4142"):  # left to pyHanko, with its answer
        try:
            expected = _pyhanko_read_hex_string(io.BytesIO(broken))
        except PdfStreamError:
            with pytest.raises(PdfStreamError):
                read_hex_string(io.BytesIO(broken))
        else:
            assert read_hex_string(io.BytesIO(broken)) == expected


def test_the_signed_attributes_made_once_are_pyhankos_own():
    import asyncio

    from pyhanko.sign.signers.pdf_cms import CAdESSignedAttributeProviderSpec, PdfCMSSignedAttributes

    from outreach.sign.speedups import PadesSignedAttributes

    certificate = _asn1(pki.issue(pki.make_root(), SIGNER.name, pki.new_key().public_key()))
    stock = CAdESSignedAttributeProviderSpec(attr_settings=PdfCMSSignedAttributes(), signing_cert=certificate,
                                             is_pades=True, timestamper=None)

    async def attributes(spec):
        return [(await p.get_attribute()).dump() for p in spec.signed_attr_providers(b"\0" * 32, "sha256")]

    ours = PadesSignedAttributes(certificate)
    assert asyncio.run(attributes(ours)) == asyncio.run(attributes(stock))
    assert asyncio.run(attributes(ours)) == asyncio.run(attributes(ours))  # and again, for the next letter


def test_a_wrong_pin_stops_a_batch_with_workers_before_any_file(clones, monkeypatch, capsys):
    before = snapshot(clones)
    monkeypatch.setenv("OUTREACH_LEADER_PIN", WRONG_PIN)
    assert outreach(clones, "sign", "vssid-2022", "--as", "leader") == 2  # the workers started, then stopped
    assert "Mã PIN của token ký số" in capsys.readouterr().err
    assert snapshot(clones) == before
