"""The staff web page through Flask's test client: every page, every action, every refusal.

One real build (LibreOffice) of a few recipients per module, copied to a fresh working folder for
each test, so each test has its own ledger. One recipient is named with HTML/script, to check it is
shown as text through the whole pipeline (list -> letter -> message -> page).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import mailbox
import re
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from outreach.config import load_config
from outreach.errors import UserError
from outreach.delivery import Attempt, Ledger, Outcome, PaperMessenger, SmtpSink, approve, send_campaign, utc_now
from outreach.localtime import OFFICE_TZ
from outreach.outbox.manifest import read_manifest, write_manifest
from outreach.outbox.messages import parse_message
from outreach.outbox.build import BuildReport, issue_document_number
from outreach.accounts import Actor
from outreach.letters import Register
from outreach.web import app_for_host, create_app

from factories import build

REPO = Path(__file__).resolve().parent.parent
CAMPAIGN = "vssid-2022"
XSS_CODE = "WH41263"
XSS_NAME = '<script>window.xss=1</script> Công ty Thử <img src=x onerror="window.xss=2"> & Con'
BAD_EMAIL = '"><img src=x onerror=alert(1)>@x'
ONLY = ("UHR562T", "VT00652", XSS_CODE, "WSD098B", "DL56001", "22327", "22330")
ISSUED_ON = dt.date(2023, 1, 5)
SENDER_NAME = "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu"


# ---------------------------------------------------------------------------- working folders


def make_workspace(target: Path) -> Path:
    """A copy of the sample working folder with one hostile name and one hostile e-mail address."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config.toml", target / "config.toml")
    for folder in ("templates", "recipients"):
        shutil.copytree(REPO / folder, target / folder)
    book = load_workbook(target / "recipients" / "employers.xlsx")
    sheet = book.active
    header = next(row for row in sheet.iter_rows(max_row=10) if any(c.value == "Mã đơn vị" for c in row))
    columns = {cell.value: cell.column for cell in header}
    for row in sheet.iter_rows(min_row=header[0].row + 1):
        if row[columns["Mã đơn vị"] - 1].value == XSS_CODE:
            row[columns["Tên đơn vị"] - 1].value = XSS_NAME
    sheet.append([99, "XS99999", "Công ty Địa chỉ Lạ", "", "1 Trần Phú, Nha Trang", "Thành phố Nha Trang",
                  BAD_EMAIL, "", "BHXH tỉnh"])
    book.save(target / "recipients" / "employers.xlsx")
    return target


def build_workspace(target: Path) -> Path:
    """Built as after 'outreach issue': numbered 05/01/2023, so its letters can be approved."""
    root = make_workspace(target)
    issue_document_number(load_config(root), CAMPAIGN, ISSUED_ON, Actor("Lê Văn Thư"))
    report = build(load_config(root), CAMPAIGN, only=ONLY)
    assert not report.failed, report.failed
    assert len(report.built) == len(ONLY)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("built") / "ws")


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(built, target)
    return target


@pytest.fixture
def staff(root: Path) -> "Staff":
    return Staff(create_app(root, testing=True))


class Staff:
    """A browser-like client: keeps the session cookie and sends the page's CSRF token."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:2000])
        return response.get_data(as_text=True)

    def token(self) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.page(f"/campaigns/{CAMPAIGN}")).group(1)

    def post(self, url: str, data: dict | None = None, token: bool = True, **kwargs):
        fields = dict(data or {})
        if token:
            fields.setdefault("csrf_token", self.token())
        return self.client.post(url, data=fields, follow_redirects=True, **kwargs)


def keys(page: str) -> list[str]:
    return re.findall(r'<tr data-key="([^"]+)"', page)


def states(page: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-key="([^"]+)" data-state="([^"]+)"', page))


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<div class="flash flash-\w+"[^>]*>(.*?)</div>', page, re.S)]


def ledger_state(root: Path, key: str) -> str | None:
    with Ledger.open(root) as ledger:
        delivery = ledger.delivery(CAMPAIGN, key)
    return delivery.state if delivery else None


# ---------------------------------------------------------------------------- campaigns


def test_campaigns_page_lists_counts_and_build_button(staff: Staff, root: Path) -> None:
    approve(root, Ledger.open(root), read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt", ["employers/UHR562T"])
    page = staff.page("/")
    assert "Công văn đôn đốc tham gia BHXH tự nguyện" in page
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert counts == {"drafted": "6", "approved": "1", "sent": "0", "failed": "0", "uncertain": "0", "printed": "0"}
    assert '<span class="badge badge-phase-approved" data-phase="approved">Đã duyệt, chờ gửi</span>' in page
    assert "Tạo lại bản thảo" in page and "Số văn bản: 01/BHXH-QLT" in page
    assert f'action="/campaigns/{CAMPAIGN}/build"' in page


def test_campaign_never_built_offers_to_build(tmp_path: Path) -> None:
    staff = Staff(create_app(make_workspace(tmp_path / "fresh"), testing=True))
    page = staff.page("/")
    assert "Chưa tạo bản thảo" in page and ">Tạo bản thảo<" in page
    page = staff.page(f"/campaigns/{CAMPAIGN}")
    assert "chưa có bản thảo" in page
    response = staff.get(f"/campaigns/{CAMPAIGN}/recipients/UHR562T")
    assert response.status_code == 404
    assert "chưa có bản thảo" in response.get_data(as_text=True)


def test_build_button_runs_in_the_background_and_shows_the_report(staff: Staff) -> None:
    release = threading.Event()
    calls: list[str] = []

    def fake_build(config, name: str, by, on_step) -> BuildReport:
        calls.append(name)
        assert release.wait(10)
        return BuildReport(campaign=name, document_number="", built=["employers/UHR562T"],
                           unchanged=["communes/22327"], print_count=1)

    staff.app.config["OUTREACH_BUILD"] = fake_build
    page = staff.post(f"/campaigns/{CAMPAIGN}/build").get_data(as_text=True)
    assert "Đã bắt đầu tạo bản thảo" in page and "Đang tạo bản thảo" in page
    page = staff.post(f"/campaigns/{CAMPAIGN}/build").get_data(as_text=True)
    assert any("đang được tạo bản thảo" in message for message in flashes(page))
    page = staff.post(f"/campaigns/{CAMPAIGN}/approve", {"scope": "selected", "key": "employers/UHR562T",
                                                         "by": "Nguyễn Văn A"}).get_data(as_text=True)
    assert any("chờ xong" in message for message in flashes(page))
    release.set()
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(10)
    page = staff.page(f"/campaigns/{CAMPAIGN}")
    assert "Đã tạo bản thảo xong" in page and "1 thư mới hoặc có thay đổi" in page
    assert calls == [CAMPAIGN]

    def broken_build(config, name: str, by, on_step) -> BuildReport:
        raise UserError("Không đọc được mẫu công văn templates/cong-van-vssid.docx.")

    staff.app.config["OUTREACH_BUILD"] = broken_build
    staff.post(f"/campaigns/{CAMPAIGN}/build")
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(10)
    page = staff.page("/")
    assert "Tạo bản thảo không thành công: Không đọc được mẫu công văn" in page


def test_once_a_letter_is_sent_a_rebuild_asks_before_drafting_anyone_new(staff: Staff, root: Path) -> None:
    builds: list[str] = []
    staff.app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: builds.append(name) or BuildReport(name, "")
    with Ledger.open(root) as ledger:
        approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt", ["employers/UHR562T"])
        ledger.claim(CAMPAIGN, "employers/UHR562T", Attempt("email", "<s@x>", ("a@example.vn",), (), {}), utc_now())
        ledger.finish(CAMPAIGN, "employers/UHR562T", Outcome("sent", 250, "2.0.0 Ok"), utc_now())

    page = staff.post(f"/campaigns/{CAMPAIGN}/build").get_data(as_text=True)
    assert builds == [] and 'id="confirm-new"' in page  # nothing started: a person decides
    newcomers = keys(page)
    assert "employers/YK34396" in newcomers and not set(newcomers) & {f"employers/{c}" for c in ONLY}
    page = staff.post(f"/campaigns/{CAMPAIGN}/build", {"confirm_new": "1"}).get_data(as_text=True)
    assert "Đã bắt đầu tạo bản thảo" in page
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(10) and builds == [CAMPAIGN]


def test_unnumbered_letters_can_be_previewed_but_not_approved(staff: Staff, root: Path) -> None:
    manifest = read_manifest(root, CAMPAIGN)
    write_manifest(root, replace(manifest, document_number="      /BHXH-QLT"))
    page = staff.page(f"/campaigns/{CAMPAIGN}")
    assert "Công văn chưa được cấp số." in page and 'id="issue-form"' in page
    assert 'data-phase="built">Chưa cấp số</span>' in page
    assert 'id="approve-selected" disabled' in page
    page = staff.page(f"/campaigns/{CAMPAIGN}/recipients/UHR562T")
    assert 'id="approve-one"' not in page and "chưa duyệt được" in page
    page = staff.post(f"/campaigns/{CAMPAIGN}/approve", {"scope": "one", "key": "employers/UHR562T",
                                                         "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert any("chưa được cấp số" in m for m in flashes(page))
    assert ledger_state(root, "employers/UHR562T") is None


def test_issue_takes_the_next_number_then_rebuilds(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "fresh")
    staff = Staff(create_app(root, testing=True))
    builds: list[str] = []
    staff.app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: builds.append(name) or BuildReport(name, "")
    page = staff.post(f"/campaigns/{CAMPAIGN}/issue", {"date": "ngày mai"}).get_data(as_text=True)
    assert any("Ngày ký 'ngày mai' không hợp lệ" in m for m in flashes(page))
    assert Register(root / "outbox" / "register.sqlite").entry_for(CAMPAIGN) is None
    page = staff.post(f"/campaigns/{CAMPAIGN}/issue", {"date": "2023-01-05", "by": "Lê Văn Thư"}).get_data(as_text=True)
    assert any(m.startswith("Công văn được cấp số 01/BHXH-QLT, ngày 05/01/2023.") for m in flashes(page))
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(10)
    assert builds == [CAMPAIGN]
    entry = Register(root / "outbox" / "register.sqlite").entry_for(CAMPAIGN)
    assert (entry.number, entry.issued_on, entry.issued_by, entry.issued_login) == (1, ISSUED_ON, "Lê Văn Thư", "")


# ---------------------------------------------------------------------------- recipients table


def test_filters_and_search(staff: Staff) -> None:
    base = f"/campaigns/{CAMPAIGN}"
    assert len(keys(staff.page(base))) == len(ONLY)
    assert keys(staff.page(f"{base}?audience=communes")) == ["communes/22327", "communes/22330"]
    assert set(keys(staff.page(f"{base}?district=Thành phố Cam Ranh"))) == {"employers/VT00652"}
    assert set(keys(staff.page(f"{base}?department=TTPT"))) == {"collection_agents/DL56001", "communes/22327",
                                                                 "communes/22330"}
    assert keys(staff.page(f"{base}?problem=no_email")) == ["employers/WSD098B"]
    assert "employers/WSD098B" in keys(staff.page(f"{base}?problem=any"))
    # search: name without diacritics, code, e-mail address (also a Cc address)
    assert keys(staff.page(f"{base}?q=nuoc giai khat kim ngan")) == ["employers/VT00652"]
    assert keys(staff.page(f"{base}?q=Vĩnh Hải")) == ["communes/22330"]
    assert keys(staff.page(f"{base}?q=phuong vinh h")) == ["communes/22327", "communes/22330"]  # Hòa, Hải
    assert keys(staff.page(f"{base}?q=VĨNH HOÀ")) == ["communes/22327"]  # old tone placement, capitals
    assert keys(staff.page(f"{base}?q=dl56001")) == ["collection_agents/DL56001"]
    assert keys(staff.page(f"{base}?q=ketoan@kimngan")) == ["employers/VT00652"]
    assert keys(staff.page(f"{base}?audience=employers&q=không ai tên này")) == []
    page = staff.page(f"{base}?audience=employers&state=drafted")
    assert set(keys(page)) == {"employers/UHR562T", "employers/VT00652", f"employers/{XSS_CODE}", "employers/WSD098B"}
    assert "lọc từ 7 thư" in page
    # unknown filter values are ignored rather than failing
    assert len(keys(staff.page(f"{base}?state=nonsense&problem=x&page=abc&per=-4"))) == len(ONLY)


def test_paging(staff: Staff) -> None:
    base = f"/campaigns/{CAMPAIGN}?per=3"
    first, second, third = (keys(staff.page(f"{base}&page={n}")) for n in (1, 2, 3))
    assert (len(first), len(second), len(third)) == (3, 3, 1)
    assert len(set(first + second + third)) == len(ONLY)
    assert keys(staff.page(f"{base}&page=99")) == third  # past the end: the last page
    assert 'rel="next"' in staff.page(f"{base}&page=1")


# ---------------------------------------------------------------------------- preview


def test_recipient_preview_shows_the_message_as_it_will_be_sent(staff: Staff, root: Path) -> None:
    url = f"/campaigns/{CAMPAIGN}/recipients/VT00652"
    page = staff.page(url)
    assert f"{SENDER_NAME} &lt;phongqlt@bhxh-khanhhoa.example.vn&gt;" in page  # Vietnamese display name intact
    assert "baohiem@kimngan.example.vn, ketoan@kimngan.example.vn" in page
    assert "camranh@bhxh-khanhhoa.example.vn" in page  # Cc: the district office
    assert "V/v đôn đốc tham gia BHXH tự nguyện" in page
    assert "Phụ lục 1 - " in page and "Tệp đính kèm (3)" in page
    draft = read_manifest(root, CAMPAIGN).draft("employers/VT00652")
    pages = next(f.pages for f in draft.files if f.name == "letter.pdf")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == pages >= 1
    image = staff.get(html.unescape(images[0]))
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    assert staff.get(f"{url}/pages/{pages + 1}.png").status_code == 404
    eml = staff.get(f"{url}/message.eml")
    assert hashlib.sha256(eml.data).hexdigest() == draft.message_sha256  # exactly the bytes to be sent
    letter = staff.get(f"{url}/letter.pdf")
    assert letter.mimetype == "application/pdf"
    attached = next(p for p in parse_message(eml.data).iter_attachments())
    assert letter.data == attached.get_payload(decode=True)  # the letter as attached, not a copy
    download = staff.get(f"{url}/attachments/1")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "filename*=UTF-8''Ph%E1%BB%A5%20l%E1%BB%A5c%201" in download.headers["Content-Disposition"]
    assert staff.get(f"{url}/attachments/9").status_code == 404
    body = staff.get(f"{url}/body.html")
    assert body.headers["Content-Security-Policy"].startswith("sandbox")
    assert "Công ty TNHH Nước giải khát Kim Ngân" in body.get_data(as_text=True)


def test_paper_recipient_shows_the_letter_and_no_email(staff: Staff) -> None:
    url = f"/campaigns/{CAMPAIGN}/recipients/WSD098B"
    page = staff.page(url)
    assert "Gửi bản giấy" in page and "nhận bản giấy" in page
    assert 'id="approve-one"' in page and "thư giấy chỉ được in để gửi sau khi duyệt" in page  # approved like any
    assert 'id="send-test"' not in page and 'id="posted-one"' not in page  # nothing to mail, nothing printed yet
    assert re.search(r'<img src="[^"]+/pages/1\.png', page)
    assert staff.get(f"{url}/letter.pdf").data.startswith(b"%PDF")
    assert staff.get(f"{url}/message.eml").status_code == 404
    bundle = staff.get(f"/campaigns/{CAMPAIGN}/print.pdf")
    assert bundle.status_code == 200 and bundle.data.startswith(b"%PDF")


def test_previous_and_next_follow_the_filtered_list(staff: Staff) -> None:
    page = staff.page(f"/campaigns/{CAMPAIGN}/recipients/22327?audience=communes")
    assert "Thư <strong>1</strong> / 2" in page
    assert 'id="previous"' not in page
    following = html.unescape(re.search(r'href="([^"]+)" id="next"', page).group(1))
    assert following == f"/campaigns/{CAMPAIGN}/recipients/22330?audience=communes"
    page = staff.page(following)
    assert "Thư <strong>2</strong> / 2" in page and 'id="next"' not in page
    assert html.unescape(re.search(r'href="([^"]+)" id="previous"', page).group(1)).endswith("22327?audience=communes")
    assert f'href="/campaigns/{CAMPAIGN}?audience=communes&amp;page=1"' in page  # back to the same list
    page = staff.page(f"/campaigns/{CAMPAIGN}/recipients/UHR562T?audience=communes")
    assert "không nằm trong danh sách đang lọc" in page


# ---------------------------------------------------------------------------- actions


def test_approve_and_revoke_one_recipient(staff: Staff, root: Path) -> None:
    url = f"/campaigns/{CAMPAIGN}/recipients/UHR562T"
    response = staff.post(f"/campaigns/{CAMPAIGN}/approve", {"scope": "one", "key": "employers/UHR562T",
                                                              "by": "  Nguyễn   Thị Duyệt ", "next": url})
    page = response.get_data(as_text=True)
    assert response.request.path == url
    assert "Đã duyệt 1 thư (người duyệt: Nguyễn Thị Duyệt)." in flashes(page)
    assert 'value="Nguyễn Thị Duyệt"' in page  # remembered for the next form
    with Ledger.open(root) as ledger:
        delivery = ledger.delivery(CAMPAIGN, "employers/UHR562T")
    assert delivery.state == "approved" and delivery.approved_by == "Nguyễn Thị Duyệt"
    assert 'id="revoke-one"' in page and "Đã duyệt bởi <strong>Nguyễn Thị Duyệt</strong>" in page
    page = staff.post(f"/campaigns/{CAMPAIGN}/revoke", {"scope": "one", "key": "employers/UHR562T",
                                                        "by": "Trần Văn Hủy", "note": "sai địa chỉ",
                                                        "next": url}).get_data(as_text=True)
    assert "Đã hủy duyệt 1 thư (người hủy: Trần Văn Hủy)." in flashes(page)
    assert ledger_state(root, "employers/UHR562T") == "revoked"
    assert "sai địa chỉ" in page  # the event log shows the note


def test_approve_and_revoke_a_selection_and_the_filtered_list(staff: Staff, root: Path) -> None:
    campaign = f"/campaigns/{CAMPAIGN}"
    page = staff.post(f"{campaign}/approve", {"scope": "selected", "key": ["employers/UHR562T", "employers/WSD098B"],
                                              "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert "Đã duyệt 2 thư (người duyệt: Lê Thị Duyệt)." in flashes(page)  # the letter on paper too
    assert states(page)["employers/UHR562T"] == states(page)["employers/WSD098B"] == "approved"
    # the whole filtered list, recomputed on the server and checked against what the page showed
    refused = staff.post(f"{campaign}/approve", {"scope": "filtered", "audience": "communes", "expected": "5",
                                                 "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert any("Danh sách đang lọc đã thay đổi" in m for m in flashes(refused))
    assert ledger_state(root, "communes/22327") is None
    page = staff.post(f"{campaign}/approve", {"scope": "filtered", "audience": "communes", "expected": "2",
                                              "by": "Lê Thị Duyệt",
                                              "next": f"{campaign}?audience=communes"}).get_data(as_text=True)
    assert "Đã duyệt 2 thư (người duyệt: Lê Thị Duyệt)." in flashes(page)
    assert states(page) == {"communes/22327": "approved", "communes/22330": "approved"}
    page = staff.post(f"{campaign}/approve", {"scope": "filtered", "audience": "communes", "expected": "2",
                                              "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert any("Không có thư nào cần duyệt" in m for m in flashes(page))
    page = staff.post(f"{campaign}/revoke", {"scope": "filtered", "q": "Vĩnh", "expected": "2",
                                             "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert "Đã hủy duyệt 2 thư (người hủy: Lê Thị Duyệt)." in flashes(page)
    assert {ledger_state(root, k) for k in ("communes/22327", "communes/22330")} == {"revoked"}
    assert ledger_state(root, "employers/UHR562T") == "approved"


def test_approval_needs_a_name_and_a_choice(staff: Staff, root: Path) -> None:
    campaign = f"/campaigns/{CAMPAIGN}"
    page = staff.post(f"{campaign}/approve", {"scope": "selected", "key": "employers/UHR562T",
                                              "by": "   "}).get_data(as_text=True)
    assert any("Cần ghi họ tên người thực hiện" in m for m in flashes(page))
    page = staff.post(f"{campaign}/approve", {"scope": "selected", "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert any("Chưa chọn thư nào" in m for m in flashes(page))
    page = staff.post(f"{campaign}/approve", {"scope": "selected", "key": "employers/NOPE",
                                              "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert any("Không có thư employers/NOPE" in m for m in flashes(page))
    assert staff.post(f"{campaign}/approve", {"scope": "everything", "by": "A"}).status_code == 400
    assert ledger_state(root, "employers/UHR562T") is None


def test_changed_message_cannot_be_approved(staff: Staff, root: Path) -> None:
    eml = root / "outbox" / CAMPAIGN / "employers" / "UHR562T" / "message.eml"
    eml.write_bytes(eml.read_bytes().replace(b"Subject:", b"X-Changed: 1\r\nSubject:", 1))
    page = staff.page(f"/campaigns/{CAMPAIGN}/recipients/UHR562T")
    assert "message.eml đã thay đổi sau khi tạo bản thảo" in page
    page = staff.post(f"/campaigns/{CAMPAIGN}/approve", {"scope": "one", "key": "employers/UHR562T",
                                                         "by": "Lê Thị Duyệt"}).get_data(as_text=True)
    assert any("Không duyệt thư nào vì" in m and "đã thay đổi" in m for m in flashes(page))
    assert ledger_state(root, "employers/UHR562T") is None


def test_every_change_needs_the_csrf_token(staff: Staff, root: Path) -> None:
    data = {"scope": "one", "key": "employers/UHR562T", "by": "Kẻ Giả Mạo"}
    missing = staff.post(f"/campaigns/{CAMPAIGN}/approve", data, token=False)
    assert missing.status_code == 400 and "CSRF" in missing.get_data(as_text=True)
    wrong = staff.post(f"/campaigns/{CAMPAIGN}/approve", {**data, "csrf_token": "x" * 43})
    assert wrong.status_code == 400
    other = Staff(staff.app)  # another session's token is not this session's
    assert staff.post(f"/campaigns/{CAMPAIGN}/approve", {**data, "csrf_token": other.token()}).status_code == 400
    for action in ("build", "revoke", "test-copy", "resolve", "posted", "pause", "resume"):
        assert staff.post(f"/campaigns/{CAMPAIGN}/{action}", data, token=False).status_code == 400, action
    assert ledger_state(root, "employers/UHR562T") is None
    with Ledger.open(root) as ledger:
        assert not ledger.pause_state(CAMPAIGN).paused
    assert staff.get(f"/campaigns/{CAMPAIGN}/approve").status_code == 405


def test_test_copy_reaches_the_tester_and_leaves_the_approval_alone(staff: Staff, root: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpSink(tmp_path / "maildir", port=0) as sink:
        monkeypatch.setenv("OUTREACH_SMTP_URL", sink.url)
        url = f"/campaigns/{CAMPAIGN}/recipients/VT00652"
        page = staff.post(f"/campaigns/{CAMPAIGN}/test-copy", {"key": "employers/VT00652", "to": "thu@example.vn",
                                                                "next": url}).get_data(as_text=True)
        assert any(m.startswith("Đã gửi bản thử của VT00652 tới thu@example.vn (máy chủ trả lời: 250")
                   for m in flashes(page))
        assert 'value="thu@example.vn"' in page
        messages = list(mailbox.Maildir(tmp_path / "maildir"))
        assert len(messages) == 1
        assert messages[0]["X-Outreach-Envelope-To"] == "thu@example.vn"  # never the real recipients
        assert "[BẢN THỬ]" in str(parse_message(messages[0].as_bytes())["Subject"])
        page = staff.post(f"/campaigns/{CAMPAIGN}/test-copy", {"key": "employers/VT00652",
                                                                "to": "không phải địa chỉ"}).get_data(as_text=True)
        assert any("không phải địa chỉ e-mail hợp lệ" in m for m in flashes(page))
        page = staff.post(f"/campaigns/{CAMPAIGN}/test-copy", {"key": "employers/WSD098B",
                                                                "to": "thu@example.vn"}).get_data(as_text=True)
        assert any("gửi bản giấy" in m for m in flashes(page))
        assert len(list(mailbox.Maildir(tmp_path / "maildir"))) == 1
    assert ledger_state(root, "employers/VT00652") is None


def _uncertain(root: Path, key: str) -> None:
    with Ledger.open(root) as ledger:
        approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt", [key])
        ledger.claim(CAMPAIGN, key, Attempt("email", "<1@example.vn>", ("a@example.vn",), (), {}), utc_now())
        ledger.finish(CAMPAIGN, key, Outcome("uncertain", None, "", "Mất kết nối sau khi gửi xong nội dung thư."),
                      utc_now())


def test_resolve_an_uncertain_send(staff: Staff, root: Path) -> None:
    _uncertain(root, "employers/UHR562T")
    url = f"/campaigns/{CAMPAIGN}/recipients/UHR562T"
    page = staff.page(url)
    assert 'id="resolve-form"' in page and "Chưa chắc chắn" in page
    assert "uncertain" in states(staff.page(f"/campaigns/{CAMPAIGN}?state=uncertain")).values()
    page = staff.post(f"/campaigns/{CAMPAIGN}/resolve", {"key": "employers/UHR562T", "decision": "sent", "note": "",
                                                         "by": "Phạm Văn Quyết", "next": url}).get_data(as_text=True)
    assert any("Cần ghi lý do" in m for m in flashes(page))
    page = staff.post(f"/campaigns/{CAMPAIGN}/resolve", {
        "key": "employers/UHR562T", "decision": "sent", "note": "đã gọi điện, đơn vị xác nhận đã nhận",
        "by": "Phạm Văn Quyết", "next": url}).get_data(as_text=True)
    assert "Đã ghi nhận thư UHR562T đã đến nơi (người quyết định: Phạm Văn Quyết)." in flashes(page)
    assert ledger_state(root, "employers/UHR562T") == "sent"
    assert 'id="resolve-form"' not in page
    page = staff.post(f"/campaigns/{CAMPAIGN}/resolve", {"key": "employers/UHR562T", "decision": "resend",
                                                         "note": "x", "by": "A"}).get_data(as_text=True)
    assert any("không thể chuyển" in m for m in flashes(page))


def test_pause_and_resume(staff: Staff, root: Path) -> None:
    sending = f"/campaigns/{CAMPAIGN}/sending"
    page = staff.post(f"/campaigns/{CAMPAIGN}/pause", {"reason": "", "by": "Lê Văn Dừng",
                                                       "next": sending}).get_data(as_text=True)
    assert any("Cần ghi lý do tạm dừng" in m for m in flashes(page))
    page = staff.post(f"/campaigns/{CAMPAIGN}/pause", {"reason": "chờ sửa công văn", "by": "Lê Văn Dừng",
                                                       "next": sending}).get_data(as_text=True)
    assert any("Đã tạm dừng" in m for m in flashes(page))
    assert "chờ sửa công văn" in page and 'id="resume"' in page
    assert "Tạm dừng" in staff.page("/")
    with Ledger.open(root) as ledger:
        assert ledger.pause_state(CAMPAIGN).paused
    page = staff.post(f"/campaigns/{CAMPAIGN}/resume", {"by": "Lê Văn Dừng", "next": sending}).get_data(as_text=True)
    assert any("được gửi tiếp" in m for m in flashes(page))
    with Ledger.open(root) as ledger:
        assert not ledger.pause_state(CAMPAIGN).paused


def test_a_printed_letter_is_marked_posted_once_by_the_button(staff: Staff, root: Path) -> None:
    manifest = read_manifest(root, CAMPAIGN)
    config = load_config(root)
    with Ledger.open(root) as ledger:
        approve(root, ledger, manifest, "Nguyễn Thị Duyệt", ["employers/WSD098B"])
        report = send_campaign(config, manifest, ledger,
                               messengers={"paper": PaperMessenger(config.workspace.paper_bundles(CAMPAIGN))})
    assert report.printed == ["employers/WSD098B"]
    campaign, url = f"/campaigns/{CAMPAIGN}", f"/campaigns/{CAMPAIGN}/recipients/WSD098B"
    page = staff.page(campaign)
    assert states(page)["employers/WSD098B"] == "printed" and "paper/lo-in-01-QLT.pdf, trang 1" in page
    bundle = staff.get(f"{campaign}/paper/lo-in-01-QLT.pdf")
    assert bundle.status_code == 200 and bundle.data.startswith(b"%PDF")
    assert staff.get(f"{campaign}/paper/..%2Fmanifest.json").status_code == 404  # only the bundles listed
    page = staff.page(url)
    assert 'id="posted-one"' in page and 'id="bundle-link"' in page

    today = dt.datetime.now(OFFICE_TZ).date()
    future = staff.post(f"{campaign}/posted", {"scope": "one", "key": "employers/WSD098B", "by": "Lê Văn Bưu",
                                               "date": (today + dt.timedelta(days=1)).isoformat(), "next": url})
    assert any("chưa tới" in m for m in flashes(future.get_data(as_text=True)))
    assert ledger_state(root, "employers/WSD098B") == "printed"
    page = staff.post(f"{campaign}/posted", {"scope": "one", "key": "employers/WSD098B", "by": " Lê  Văn Bưu ",
                                             "date": today.isoformat(), "next": url}).get_data(as_text=True)
    assert f"Đã ghi nhận 1 thư giấy được gửi bưu điện ngày {today:%d/%m/%Y} (người gửi: Lê Văn Bưu)." in flashes(page)
    assert f"Đã được <strong>Lê Văn Bưu</strong> gửi bưu điện ngày {today:%d/%m/%Y}" in page
    assert 'id="posted-one"' not in page
    with Ledger.open(root) as ledger:
        delivery = ledger.delivery(CAMPAIGN, "employers/WSD098B")
    assert (delivery.state, delivery.posted_by, delivery.posted_on) == ("posted", "Lê Văn Bưu", today.isoformat())

    again = staff.post(f"{campaign}/posted", {"scope": "one", "key": "employers/WSD098B", "by": "Lê Văn Bưu"})
    assert any("không ghi nhận lần nữa" in m for m in flashes(again.get_data(as_text=True)))  # never twice
    unapproved = staff.post(f"{campaign}/posted", {"scope": "one", "key": "employers/UHR562T", "by": "Lê Văn Bưu"})
    assert any("chưa được duyệt" in m for m in flashes(unapproved.get_data(as_text=True)))
    filtered = staff.post(f"{campaign}/posted", {"scope": "filtered", "problem": "no_email", "expected": "1",
                                                 "by": "Lê Văn Bưu"})
    assert any("Không có thư giấy nào đã in, chờ gửi bưu điện trong lựa chọn. Bỏ qua 1 thư đã gửi bưu điện." in m
               for m in flashes(filtered.get_data(as_text=True)))
    assert [e.to_state for e in Ledger.open(root).events(CAMPAIGN, "employers/WSD098B")] == [
        "approved", "sending", "printed", "posted"]


# ---------------------------------------------------------------------------- sending


def test_sending_page_progress_and_delivery_record(staff: Staff, root: Path) -> None:
    with Ledger.open(root) as ledger:
        approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt",
                ["employers/UHR562T", "employers/VT00652"])
        ledger.claim(CAMPAIGN, "employers/UHR562T", Attempt("email", "<2@example.vn>", ("a@example.vn",), (), {}), utc_now())
        ledger.finish(CAMPAIGN, "employers/UHR562T", Outcome("sent", 250, "2.0.0 Ok: queued as X1"), utc_now())
    data = staff.get(f"/campaigns/{CAMPAIGN}/progress.json").get_json()
    assert (data["sent"], data["approved"], data["percent"], data["running"]) == (1, 2, 50, False)
    assert data["counts"]["drafted"] == 5 and data["counts"]["printed"] == data["counts"]["posted"] == 0
    assert data["events"][0]["change"] == "Đang gửi → Đã gửi"
    page = staff.page(f"/campaigns/{CAMPAIGN}/sending")
    assert "2.0.0 Ok: queued as X1" in page and "Nguyễn Thị Duyệt" in page
    assert "Không có tiến trình gửi nào đang chạy" in page
    assert 'data-phase="sending">Đang trong đợt gửi</span>' in staff.page("/")
    assert 'data-phase="sending">Đang trong đợt gửi</span>' in staff.page(f"/campaigns/{CAMPAIGN}")
    with Ledger.open(root) as ledger, ledger.send_lock(CAMPAIGN):
        assert staff.get(f"/campaigns/{CAMPAIGN}/progress.json").get_json()["running"] is True
        assert '<span class="badge badge-sending">Đang gửi</span>' in staff.page("/")
    assert staff.get(f"/campaigns/{CAMPAIGN}/progress.json").get_json()["running"] is False
    page = staff.page(f"/campaigns/{CAMPAIGN}/recipients/UHR562T")
    assert "2.0.0 Ok: queued as X1" in page and "&lt;2@example.vn&gt;" in page


def test_send_now_from_the_page_sends_each_approved_letter_once(staff: Staff, root: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sending = f"/campaigns/{CAMPAIGN}/sending"
    assert 'id="send-now"' not in staff.page(sending)  # nothing approved: nothing to send
    assert any("Không có thư đã duyệt nào chờ gửi" in m
               for m in flashes(staff.post(f"/campaigns/{CAMPAIGN}/send").get_data(as_text=True)))
    with Ledger.open(root) as ledger:
        approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt", ["employers/UHR562T", "employers/VT00652"])
    page = staff.page(sending)
    assert 'data-running="no"' in page and "Lịch gửi tự động <strong>không chạy</strong>" in page
    assert "Gửi ngay 2 thư đã duyệt" in page

    monkeypatch.setenv("OUTREACH_SMTP_URL", "smtp://127.0.0.1:1")  # the mail server is down
    banner = html.unescape(staff.page(sending))  # said before anyone presses the button
    assert 'data-unreachable="127.0.0.1:1"' in banner and "Không kết nối được máy chủ thư" in banner
    assert "từ chối kết nối: không có dịch vụ thư nào đang chạy" in banner
    staff.post(f"/campaigns/{CAMPAIGN}/send", {"next": sending})
    assert staff.app.extensions["outreach_send_jobs"].get(CAMPAIGN).wait(60)
    page = html.unescape(staff.page(sending))
    assert "1 thư chờ gửi lại" in page and "từ chối kết nối: không có dịch vụ thư nào đang chạy" in page
    assert "Gửi lại ngay 1 thư đang chờ gửi lại" in page and ledger_state(root, "employers/UHR562T") == "retrying"

    with SmtpSink(tmp_path / "maildir", port=0) as sink:
        monkeypatch.setenv("OUTREACH_SMTP_URL", sink.url)
        assert "data-unreachable" not in staff.page(sending)
        staff.post(f"/campaigns/{CAMPAIGN}/send", {"retry_now": "1", "next": sending})
        assert staff.app.extensions["outreach_send_jobs"].get(CAMPAIGN).wait(60)
        page = staff.page(sending)
        assert "đã gửi 2 thư" in page and 'id="send-now"' not in page and 'id="retry-now"' not in page
        again = staff.post(f"/campaigns/{CAMPAIGN}/send", {"next": sending}).get_data(as_text=True)
        assert any("Không có thư đã duyệt nào chờ gửi" in m for m in flashes(again))
        received = [parse_message(m.as_bytes()) for m in mailbox.Maildir(tmp_path / "maildir")]
    with Ledger.open(root) as ledger:
        ids = {ledger.delivery(CAMPAIGN, key).message_id for key in ("employers/UHR562T", "employers/VT00652")}
        sent = [e for e in ledger.events(CAMPAIGN) if e.to_state == "sent"]
    assert sorted(str(m["Message-ID"]).strip() for m in received) == sorted(ids) and len(ids) == 2  # each once
    assert {(e.actor, e.login, e.source) for e in sent} == {("outreach", "", "web 127.0.0.1")}  # started from the page


def test_the_print_preview_is_the_build_s_never_collect_s_supplementary_bundle(staff: Staff, root: Path) -> None:
    from outreach.workspace import Workspace

    workspace = Workspace(root)
    preview = workspace.print_folder(CAMPAIGN) / f"ban-in-{CAMPAIGN}.pdf"
    workspace.supplementary_bundle(CAMPAIGN).write_bytes(b"%PDF-1.7 bounced letters")  # sorts first
    response = staff.get(f"/campaigns/{CAMPAIGN}/print.pdf")
    assert response.status_code == 200 and response.data == preview.read_bytes()


def test_the_schedule_is_switched_on_and_off_from_the_page(staff: Staff, root: Path) -> None:
    from outreach.schedule import scheduler_status
    from outreach.workspace import Workspace

    sending = f"/campaigns/{CAMPAIGN}/sending"
    assert 'id="schedule-start"' in staff.page(sending) and not scheduler_status(Workspace(root)).running
    page = staff.post(f"/campaigns/{CAMPAIGN}/schedule/start", {"next": sending}).get_data(as_text=True)
    try:
        assert any(m.startswith("Đã bật lịch gửi tự động") for m in flashes(page))
        status = scheduler_status(Workspace(root))
        assert status.running and status.last_tick_at  # `outreach run`'s own loop: its lock, its first tick
        assert 'id="schedule-stop"' in page and 'id="schedule-start"' not in page
        again = staff.post(f"/campaigns/{CAMPAIGN}/schedule/start", {"next": sending}).get_data(as_text=True)
        assert any("đã được bật" in m for m in flashes(again))
    finally:
        page = staff.post(f"/campaigns/{CAMPAIGN}/schedule/stop", {"next": sending}).get_data(as_text=True)
    assert any(m.startswith("Đã tắt lịch gửi tự động") for m in flashes(page))
    assert not scheduler_status(Workspace(root)).running and 'id="schedule-start"' in page


def test_who_has_not_received_the_letter_and_the_downloads(staff: Staff, root: Path) -> None:
    with Ledger.open(root) as ledger:
        approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt",
                ["employers/UHR562T", "employers/VT00652"])
        ledger.claim(CAMPAIGN, "employers/UHR562T", Attempt("email", "<2@example.vn>", ("a@example.vn",), (), {}), utc_now())
        ledger.finish(CAMPAIGN, "employers/UHR562T", Outcome("sent", 250, "2.0.0 Ok: queued as X1"), utc_now())
        ledger.claim(CAMPAIGN, "employers/VT00652", Attempt("email", "<3@example.vn>", ("b@example.vn",), (), {}), utc_now())
        ledger.finish(CAMPAIGN, "employers/VT00652", Outcome("failed", 550, "5.1.1 No such user",
                                                              error="Địa chỉ không tồn tại."), utc_now())
    page = staff.page(f"/campaigns/{CAMPAIGN}/chua-nhan")
    everyone = {f"{d.audience}/{d.code}" for d in read_manifest(root, CAMPAIGN).drafts}
    assert set(keys(page)) == everyone - {"employers/UHR562T"}  # every state but the end of the road
    failed_row = page[page.index('data-key="employers/VT00652"'):].split("</tr>", 1)[0]
    assert "Thất bại" in failed_row and "Địa chỉ không tồn tại." in failed_row and "kiểm tra địa chỉ e-mail" in failed_row
    assert "Xem trước rồi duyệt thư" in page[page.index('data-key="employers/WSD098B"'):].split("</tr>", 1)[0]

    def sheet_codes(url: str) -> list[str]:
        response = staff.get(url)
        assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
        rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
        assert rows[0][0] == "Mã"
        refused = [row for row in rows[1:] if row[5] == "bị loại"]  # the list's rows with no letter
        assert len(refused) == (len(read_manifest(root, CAMPAIGN).rejected_rows) if "bao-cao" in url else 0)
        return [row[0] for row in rows[1:] if row[5] != "bị loại"]

    assert sorted(sheet_codes(f"/campaigns/{CAMPAIGN}/chua-nhan.xlsx")) == sorted(
        key.split("/")[1] for key in everyone - {"employers/UHR562T"})
    assert sorted(sheet_codes(f"/campaigns/{CAMPAIGN}/bao-cao-gui-thu.xlsx")) == sorted(key.split("/")[1] for key in everyone)
    docx = staff.get(f"/campaigns/{CAMPAIGN}/recipients/UHR562T/letter.docx")
    assert docx.status_code == 200 and docx.data.startswith(b"PK")
    (unit,) = [d for d in read_manifest(root, CAMPAIGN).drafts if d.code == "UHR562T"]
    assert any(unit.name in p.text for p in Document(io.BytesIO(docx.data)).paragraphs)  # that recipient's letter
    campaign_page = staff.page(f"/campaigns/{CAMPAIGN}")
    assert 'id="not-received-link"' in campaign_page and 'id="delivery-report"' in campaign_page


# ---------------------------------------------------------------------------- lists


def test_lists_show_validation_problems_like_validate(staff: Staff) -> None:
    page = staff.page("/lists")
    assert "recipients/employers.xlsx" in page and "recipients/communes.xlsx" in page
    assert "&#34;&gt;&lt;img" in page  # the hostile address, shown as text
    assert "<img src=x" not in page
    assert "Lỗi (loại dòng)" in page and "Cảnh báo" in page
    errors = staff.page("/lists?severity=error")
    assert "Cảnh báo</span>" not in errors and "Lỗi (loại dòng)</span>" in errors
    assert "toàn tệp" not in errors
    report = staff.get("/lists/report.xlsx")
    assert report.status_code == 200 and report.data.startswith(b"PK")


def test_unreadable_list_is_reported_not_crashed(staff: Staff, root: Path) -> None:
    (root / "recipients" / "communes.xlsx").write_bytes(b"not a spreadsheet")
    page = staff.page("/lists")
    assert "communes.xlsx" in page and 'class="bad prewrap"' in page


# ---------------------------------------------------------------------------- safety


def test_recipient_data_is_shown_as_text(staff: Staff) -> None:
    pages = [
        staff.page(f"/campaigns/{CAMPAIGN}"),
        staff.page(f"/campaigns/{CAMPAIGN}?q=Thử"),
        staff.page(f"/campaigns/{CAMPAIGN}/recipients/{XSS_CODE}"),
        staff.page(f"/campaigns/{CAMPAIGN}/sending"),
        staff.page("/lists"),
    ]
    for page in pages:
        assert "<script>window.xss" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.xss=1&lt;/script&gt; Công ty Thử &lt;img src=x" in pages[1]
    assert keys(pages[1]) == [f"employers/{XSS_CODE}"]
    body = staff.get(f"/campaigns/{CAMPAIGN}/recipients/{XSS_CODE}/body.html")
    assert "<script>" not in body.get_data(as_text=True)  # escaped by the e-mail template too
    assert "sandbox" in body.headers["Content-Security-Policy"]


def test_security_headers(staff: Staff) -> None:
    response = staff.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = staff.client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_redirects_stay_on_this_site(staff: Staff) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = staff.client.post(f"/campaigns/{CAMPAIGN}/pause", data={
            "csrf_token": staff.token(), "reason": "", "by": "A", "next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/campaigns/{CAMPAIGN}", target


def test_only_loopback_host_names_without_a_password(root: Path) -> None:
    app = create_app(root, testing=True)
    client = app.test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8000"}).status_code == 200
    refused = client.get("/", headers={"Host": "rebound.evil.example:8000"})
    assert refused.status_code == 400 and "127.0.0.1" in refused.get_data(as_text=True)


def test_beyond_loopback_needs_an_administrator_account(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from outreach.accounts import Accounts
    from outreach.workspace import Workspace

    monkeypatch.delenv("OUTREACH_WEB_PASSWORD", raising=False)
    with pytest.raises(UserError, match="tài khoản quản trị"):
        app_for_host(root, "0.0.0.0")
    assert app_for_host(root, "127.0.0.1").config["OUTREACH_ACCOUNTS_REQUIRED"] is False
    accounts = Accounts(Workspace(root).accounts)
    accounts.add("duyet", "Nguyễn Thị Duyệt", ["approver"], "mật-khẩu-duyệt", Actor("quản trị"))
    with pytest.raises(UserError, match="tài khoản quản trị"):  # an account, but nobody to manage them
        app_for_host(root, "0.0.0.0")
    accounts.add("quantri", "Trần Quản Trị", ["admin"], "mật-khẩu-quản-trị", Actor("quản trị"))
    app = app_for_host(root, "0.0.0.0")
    assert app.config["OUTREACH_ALLOWED_HOSTS"] is None and app.config["OUTREACH_ACCOUNTS_REQUIRED"]
    monkeypatch.setenv("OUTREACH_WEB_PASSWORD", "mật-khẩu-chung")  # retired: says how to move to accounts
    with pytest.raises(UserError, match="không còn được dùng.*outreach user add"):
        app_for_host(root, "127.0.0.1")


def test_smtp_secrets_are_never_shown(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_SMTP_PASSWORD", "hunter2-bí-mật")
    staff = Staff(create_app(root, testing=True))
    for url in ("/", f"/campaigns/{CAMPAIGN}", f"/campaigns/{CAMPAIGN}/sending",
                f"/campaigns/{CAMPAIGN}/recipients/UHR562T", "/lists"):
        assert "hunter2" not in staff.page(url)
    monkeypatch.setenv("OUTREACH_SMTP_URL", "ftp://thu:hunter2@mail.example.vn:25")  # an invalid URL is quoted
    response = staff.get("/")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "OUTREACH_SMTP_URL" in text
    assert "hunter2" not in text and "ftp://***@mail.example.vn" in text


def test_error_pages(staff: Staff, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("/nothing-here", "/campaigns/khong-co", f"/campaigns/{CAMPAIGN}/recipients/KHONGCO",
                "/campaigns/khong-co/sending", f"/campaigns/{CAMPAIGN}/recipients/UHR562T/attachments/7"):
        response = staff.get(url)
        assert response.status_code == 404, url
        text = response.get_data(as_text=True)
        assert "Không tìm thấy" in text and "Về danh sách chiến dịch" in text
    assert "Không có chiến dịch &#39;khong-co&#39;" in staff.get("/campaigns/khong-co").get_data(as_text=True)
    assert staff.post("/campaigns/khong-co/build").status_code == 404
    (root / "config.toml").write_text("[agency\n", encoding="utf-8")
    broken = staff.get("/")
    text = broken.get_data(as_text=True)
    assert broken.status_code == 503 and "lỗi cú pháp ở dòng 1, cột 8" in text and "tên bảng thiếu dấu ]" in text
    assert "Cấu hình chưa dùng được" in text and "Expected" not in text
    (root / "config.toml").write_text((REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(staff.app.extensions["outreach_store"], "rows", crash)
    response = staff.get(f"/campaigns/{CAMPAIGN}")
    assert response.status_code == 500 and "Lỗi của chương trình" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)


# ---------------------------------------------------------------------------- everyone counted


def test_rejected_rows_are_counted_in_the_page_status_report_and_build_summary(
        staff: Staff, root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from outreach.cli import main

    manifest = read_manifest(root, CAMPAIGN)
    rejected = manifest.rejected_rows
    odd = next(row for row in rejected if row.file.endswith("employers.xlsx") and "e-mail" in row.reason.lower())
    assert odd.audience == "employers" and odd.reason
    page = staff.page(f"/campaigns/{CAMPAIGN}")
    assert f"Bị loại ({len(rejected)} dòng)" in page and 'id="bi-loai"' in page
    assert f'data-rejected-row="{odd.row}"' in page and odd.reason in html.unescape(page)
    assert '"><img' not in page  # the hostile address in the reason is shown as text
    assert f'data-state-count="rejected">Bị loại <b>{len(rejected)}</b>' in page
    assert f'data-rejected="{len(rejected)}"' in staff.page("/")

    assert main(["--root", str(root), "status", CAMPAIGN]) == 0
    out = capsys.readouterr().out
    assert f"bị loại: {len(rejected)} dòng (không có thư)" in out and f"employers.xlsx dòng {odd.row}: " in out
    assert main(["--root", str(root), "report", CAMPAIGN, "--xlsx", str(tmp_path / "r.xlsx")]) == 0
    sheet = load_workbook(tmp_path / "r.xlsx").active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2)]
    listed = [row for row in rows if row["Trạng thái"] == "bị loại"]
    assert len(listed) == len(rejected) and len(rows) == len(manifest.drafts) + len(rejected)
    assert {"Tên": f"(dòng {odd.row} của employers.xlsx)", "Ghi chú": odd.reason}.items() <= next(
        row for row in listed if row["Tên"].startswith(f"(dòng {odd.row} của employers")).items()

    rows_out = [{"file": "recipients/employers.xlsx", "row": str(n), "reason": "Thiếu tên đơn vị.",
                 "audience": "employers"} for n in range(5, 9)]
    staff.app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: BuildReport(
        name, "", built=["employers/UHR562T"], rejected_rows=rows_out)
    staff.post(f"/campaigns/{CAMPAIGN}/build")
    assert staff.app.extensions["outreach_jobs"].get(CAMPAIGN).wait(10)
    summary = staff.page(f"/campaigns/{CAMPAIGN}")
    assert "4 dòng bị loại</a> (không có thư)" in summary and "thư lỗi" not in summary


def test_the_cli_build_summary_counts_rejected_rows(capsys: pytest.CaptureFixture[str]) -> None:
    from outreach.cli import _print_build

    rows = [{"file": "recipients/employers.xlsx", "row": str(n), "reason": "Mã đơn vị bị trùng."} for n in (7, 9)]
    _print_build(BuildReport(CAMPAIGN, "05/BHXH-QLT", built=["employers/UHR562T"], rejected_rows=rows, drafts=1))
    out = capsys.readouterr().out
    assert "1 bản thảo: 1 tạo mới, 0 không đổi, 2 dòng bị loại (không có thư)." in out
    assert "thư lỗi" not in out and "recipients/employers.xlsx dòng 9: Mã đơn vị bị trùng." in out


def test_a_wrong_campaign_table_takes_down_its_own_pages_only(staff: Staff, root: Path) -> None:
    config = root / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'drafting_unit = "TTPT"', 'drafting_unit = "TTPT"\nfiles = ["recipients/moi.xlsx"]', 1), encoding="utf-8")
    home = staff.get("/")
    text = html.unescape(home.get_data(as_text=True))
    assert home.status_code == 200 and 'data-broken-campaign="nhac-dao-han"' in text
    assert "campaigns.nhac-dao-han.files: mục 'files' không có trong bảng [campaigns.nhac-dao-han]" in text
    assert f'data-campaign="{CAMPAIGN}"' in text
    assert staff.get(f"/campaigns/{CAMPAIGN}").status_code == 200
    broken = staff.get("/campaigns/nhac-dao-han")
    assert broken.status_code == 503 and "mục &#39;files&#39;" in broken.get_data(as_text=True)
    assert staff.post("/campaigns/nhac-dao-han/build").status_code == 503
