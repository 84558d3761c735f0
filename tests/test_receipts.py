"""Receipt confirmation and reminders, with real components: one real build (LibreOffice) of two
employers' letters with ``[web] public_url``, sent through aiosmtpd on loopback, the personal link
opened in a headless Chromium against the running web server, and the reminder built for the
recipient who did not confirm, approved and sent by the scheduler in the sender's window.

Monday 09/01/2023 09:00 the letters go out; five working days later is Monday 16/01/2023. The
tests run in file order, each taking the office where the one before left it (the first
recipient confirms in the browser, the second is reminded, then confirms from the reminder).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mailbox
import re
import shutil
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import build
from test_web import CAMPAIGN, ISSUED_ON, make_workspace

from outreach.accounts import Actor
from outreach.config import load_config, parse_config
from outreach.delivery import (
    Ledger,
    SmtpSink,
    State,
    approve,
    campaign_status,
    send_campaign,
    write_delivery_report,
)
from outreach.errors import UserError
from outreach.localtime import OFFICE_TZ
from outreach.outbox import issue_document_number, parse_message, read_manifest
from outreach.schedule import build_reminders, tick
from outreach.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CODES = ("UHR562T", "VT00652")
FIRST, SECOND = (f"employers/{code}" for code in CODES)
REMINDER = f"{CAMPAIGN}~nhac-1"
SENT_AT = dt.datetime(2023, 1, 9, 9, 0, tzinfo=OFFICE_TZ)  # a Monday
DUE_ON = dt.datetime(2023, 1, 16, 8, 0, tzinfo=OFFICE_TZ)  # five working days later
LINK = re.compile(r"http://127\.0\.0\.1:\d+/xac-nhan/[A-Za-z0-9_-]+")


class Office:
    """The working folder, its web server and the SMTP sink everything is sent to."""

    def __init__(self, root: Path, url: str, maildir: Path, rebuilt: tuple[list[str], list[str], bool]) -> None:
        self.root, self.url, self.maildir = root, url, maildir
        self.rebuilt = rebuilt  # a second build before approval: built, unchanged, same bytes

    def received(self) -> dict[str, object]:
        """Message-ID -> the message, of everything the sink received."""
        box = mailbox.Maildir(self.maildir, create=False)
        messages = (parse_message(box.get_bytes(key)) for key in box.keys())
        return {str(m["Message-ID"]): m for m in messages}

    def message_to(self, code: str, campaign: str = CAMPAIGN):
        drafts = {d.code: d for d in read_manifest(self.root, campaign).drafts}
        return parse_message(drafts[code].eml_path(self.root).read_bytes())


def link_of(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    (link,) = set(LINK.findall(text))
    assert f'href="{link}"' in html  # the same link, clickable
    return link


def write_config(root: Path, web_port: int, smtp_port: int, expires: str = "") -> None:
    path = root / "config.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count("port = 8025") == 1
    text = text.replace("port = 8025", f"port = {smtp_port}")
    anchor = 'email_html = "templates/email.html.j2"\n'
    extra = 'reminders = [{ after_working_days = 5, text = "templates/nhac.txt.j2" }]\n'
    if expires:
        extra += f"expires = {expires}\n"
    text = text.replace(anchor, anchor + extra, 1)
    text += f'\n[web]\npublic_url = "http://127.0.0.1:{web_port}/"\n'
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    from werkzeug.serving import make_server

    base = tmp_path_factory.mktemp("receipts")
    root = make_workspace(base / "ws")
    sink = SmtpSink(base / "maildir", port=0).start()
    httpd = make_server("127.0.0.1", 0, create_app(root), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        write_config(root, httpd.port, sink.port)
        config = load_config(root)
        issue_document_number(config, CAMPAIGN, ISSUED_ON, Actor("Lê Văn Thư"))
        report = build(config, CAMPAIGN, only=CODES)
        assert sorted(report.built) == [FIRST, SECOND], report.failed
        drafts = read_manifest(root, CAMPAIGN).drafts
        before = [d.eml_path(root).read_bytes() for d in drafts]
        again = build(load_config(root), CAMPAIGN, only=CODES)
        rebuilt = (again.built, sorted(again.unchanged), [d.eml_path(root).read_bytes() for d in drafts] == before)
        with Ledger.open(root) as ledger:
            approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt",
                    clock=lambda: SENT_AT - dt.timedelta(hours=1))
            sent = send_campaign(config, read_manifest(root, CAMPAIGN), ledger, clock=lambda: SENT_AT,
                                 sleep=lambda s: None)
        assert sorted(sent.sent) == [FIRST, SECOND]
        yield Office(root, f"http://127.0.0.1:{httpd.port}", base / "maildir", rebuilt)
    finally:
        httpd.shutdown()
        thread.join(5)
        sink.stop()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver")
    selenium = pytest.importorskip("selenium")  # noqa: F841
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=vi-VN"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_each_message_sent_carries_its_own_link_and_the_ledger_keeps_only_its_hash(office: Office) -> None:
    links = {code: link_of(office.message_to(code)) for code in CODES}
    assert len(set(links.values())) == 2
    assert {link_of(m) for m in office.received().values()} == set(links.values())  # the bytes sent hold the link
    stored = b"".join(p.read_bytes() for p in office.root.glob("outbox/ledger.sqlite*"))
    for link in links.values():
        token = link.rpartition("/")[2]
        assert len(token) >= 22  # >= 128 bits of secrets.token_urlsafe
        assert token.encode() not in stored
        assert hashlib.sha256(token.encode()).hexdigest().encode() in stored


def test_a_rebuild_that_changes_nothing_keeps_the_link(office: Office) -> None:
    built, unchanged, same_bytes = office.rebuilt
    assert built == [] and unchanged == [FIRST, SECOND] and same_bytes


def test_opening_the_link_confirms_nothing_the_button_does_and_reopening_says_so(office: Office, browser) -> None:
    from selenium.webdriver.common.by import By

    link = link_of(office.message_to(CODES[0]))
    browser.get(link)  # what a mail security gateway does, and what the recipient does first
    page = browser.find_element(By.TAG_NAME, "body").text
    number = read_manifest(office.root, CAMPAIGN).document_number
    assert f"Công văn số {number}" in page and "V/v đôn đốc tham gia BHXH tự nguyện" in page
    name = read_manifest(office.root, CAMPAIGN).draft(FIRST).name
    assert name not in page  # the letter's number and subject only, not whom it is for
    browser.get(link)
    with Ledger.open(office.root) as ledger:
        assert ledger.confirmations(CAMPAIGN) == {}
        assert not any(e.to_state == "confirmed" for e in ledger.events(CAMPAIGN))

    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element(By.ID, "confirm").click()  # the POST, then the page it redirects to
    confirmed = WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "confirmed"))).text
    assert confirmed.startswith("Đã xác nhận đã nhận công văn lúc")
    with Ledger.open(office.root) as ledger:
        confirmation = ledger.confirmations(CAMPAIGN)[FIRST]
        assert confirmation.address == "127.0.0.1" and "Chrome" in confirmation.user_agent
        assert ledger.answered_keys(CAMPAIGN) == {FIRST}
        (event,) = [e for e in ledger.events(CAMPAIGN, FIRST) if e.to_state == "confirmed"]
        assert event.source == "web 127.0.0.1"

    browser.get(link)
    assert browser.find_element(By.ID, "confirmed").text == confirmed
    assert not browser.find_elements(By.ID, "confirm")
    with Ledger.open(office.root) as ledger:
        assert ledger.confirmations(CAMPAIGN)[FIRST] == confirmation  # the first press counts, once

    browser.get(f"{office.url}/xac-nhan/{'A' * 32}")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Không tìm thấy" in body and "Đường dẫn xác nhận không đúng" in body
    assert "chiến dịch" not in body.lower()  # no staff page, link or menu for a recipient


def test_the_confirmation_page_is_rate_limited_per_address(office: Office) -> None:
    app = create_app(office.root, testing=True)
    app.config["OUTREACH_RECEIPT_LIMIT"] = (3, 600.0)
    client = app.test_client()
    link = link_of(office.message_to(CODES[1])).removeprefix(office.url)
    assert [client.get(link).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.post(link)
    assert refused.status_code == 429 and "quá nhiều lần" in refused.get_data(as_text=True)
    assert client.get(link, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200  # another address
    with Ledger.open(office.root) as ledger:
        assert SECOND not in ledger.confirmations(CAMPAIGN)  # the refused POST confirmed nothing


def test_status_and_report_say_who_confirmed(office: Office, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    with Ledger.open(office.root) as ledger:
        manifest = read_manifest(office.root, CAMPAIGN)
        status = campaign_status(ledger, manifest)
        assert status.answers == {"confirmed": 1, "unanswered": 1}
        path = write_delivery_report(ledger, manifest, tmp_path / "bao-cao.xlsx")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    column = rows[0].index("Xác nhận đã nhận")
    answers = {row[0]: row[column] for row in rows[1:]}
    assert answers[CODES[0]].startswith("Đã xác nhận lúc") and answers[CODES[1]] == "Chưa xác nhận"


def test_a_reminder_goes_once_to_the_unconfirmed_after_five_working_days(office: Office) -> None:
    config = load_config(office.root)
    (early,) = build_reminders(config, CAMPAIGN, now=DUE_ON - dt.timedelta(days=3))  # Friday 13: 4 working days
    assert early.not_due == [SECOND] and early.answered == [FIRST] and not early.built
    (due,) = build_reminders(config, CAMPAIGN, now=DUE_ON)
    assert due.built == [SECOND] and due.answered == [FIRST]
    (again,) = build_reminders(config, CAMPAIGN, now=DUE_ON + dt.timedelta(hours=1))
    assert again.unchanged == [SECOND] and not again.built  # nothing rebuilt: an approval would stay
    assert (office.root / "outbox" / CAMPAIGN / "nhac-1" / SECOND / "message.eml").is_file()

    manifest = read_manifest(office.root, REMINDER)
    with Ledger.open(office.root) as ledger:
        original_id = ledger.delivery(CAMPAIGN, SECOND).message_id
        approve(office.root, ledger, manifest, "Nguyễn Thị Duyệt", clock=lambda: DUE_ON)
    before = set(office.received())
    tick(config, DUE_ON.replace(hour=7), log=lambda line: None)  # before the window opens: nothing
    assert set(office.received()) == before
    tick(config, DUE_ON.replace(hour=9), log=lambda line: None)
    tick(config, DUE_ON.replace(hour=10), log=lambda line: None)
    new = [m for mid, m in office.received().items() if mid not in before]
    assert len(new) == 1  # sent once
    reminder = new[0]
    assert reminder["In-Reply-To"] == original_id and reminder["References"] == original_id
    number = read_manifest(office.root, CAMPAIGN).document_number
    assert str(reminder["Subject"]).startswith(f"Nhắc lại: Công văn số {number} V/v")
    text = reminder.get_body(preferencelist=("plain",)).get_content()
    assert f"Công văn số {number} ngày 05 tháng 01 năm 2023" in text and "Ngày 09/01/2023" in text
    (letter,) = [p for p in reminder.iter_attachments() if p.get_content_type() == "application/pdf"]
    original = office.message_to(CODES[1])
    assert letter.get_content() == next(original.iter_attachments()).get_content()  # the letter as it was sent
    with Ledger.open(office.root) as ledger:
        assert ledger.delivery(REMINDER, SECOND).state == State.SENT

    # The reminder's own link confirms the letter it follows.
    client = create_app(office.root, testing=True).test_client()
    assert client.post(link_of(reminder).removeprefix(office.url)).status_code == 303
    with Ledger.open(office.root) as ledger:
        assert ledger.answered_keys(CAMPAIGN) == {FIRST, SECOND}


def test_a_confirmation_withdraws_the_pending_reminder_and_none_goes_after_expiry(office: Office,
                                                                                  tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(office.root, root)
    shutil.rmtree(root / "outbox" / CAMPAIGN / "nhac-1")
    with Ledger.open(root) as ledger:  # the copy as it was before anyone confirmed or was reminded
        db = ledger._db
        db.execute("DELETE FROM confirmations")
        db.execute("DELETE FROM deliveries WHERE campaign = ?", (REMINDER,))
    sink_dir = tmp_path / "maildir"
    sink = SmtpSink(sink_dir, port=0).start()
    try:
        write_config_port = (root / "config.toml").read_text(encoding="utf-8")
        port = re.search(r"^port = (\d+)$", write_config_port, re.MULTILINE).group(1)
        expires = "2023-01-16T13:00:00"
        text = write_config_port.replace(f"port = {port}", f"port = {sink.port}")
        text = text.replace('reminders = [', f"expires = {expires}\nreminders = [", 1)
        (root / "config.toml").write_text(text, encoding="utf-8")
        config = load_config(root)
        (due,) = build_reminders(config, CAMPAIGN, now=DUE_ON)
        assert sorted(due.built) == [FIRST, SECOND]
        with Ledger.open(root) as ledger:
            approve(root, ledger, read_manifest(root, REMINDER), "Nguyễn Thị Duyệt", clock=lambda: DUE_ON)
        # The first recipient confirms (from the letter's link) before the reminder goes: not reminded.
        client = create_app(root, testing=True).test_client()
        assert client.post(link_of(office.message_to(CODES[0])).removeprefix(office.url)).status_code == 303
        with Ledger.open(root) as ledger:
            assert ledger.delivery(REMINDER, FIRST).state == State.REVOKED
            assert ledger.delivery(REMINDER, SECOND).state == State.APPROVED
        tick(config, DUE_ON.replace(hour=14), log=lambda line: None)  # in the afternoon window, past expiry
        assert not (sink_dir / "new").exists() or not any((sink_dir / "new").iterdir())
        (late,) = build_reminders(config, CAMPAIGN, now=DUE_ON + dt.timedelta(days=1))
        assert late.expired and not late.built
        with Ledger.open(root) as ledger:
            assert ledger.delivery(REMINDER, SECOND).state == State.APPROVED  # never sent
    finally:
        sink.stop()


def test_a_reminder_campaign_has_no_letter_of_its_own(office: Office) -> None:
    config = load_config(office.root)
    with pytest.raises(UserError, match="outreach remind vssid-2022"):
        build(config, REMINDER)
    with pytest.raises(UserError, match="outreach remind vssid-2022"):
        issue_document_number(config, REMINDER, ISSUED_ON, Actor("Lê Văn Thư"))
    from outreach.sign import sign_campaign

    with pytest.raises(UserError, match="không có gì để ký"):
        sign_campaign(config, REMINDER, "leader")


def test_the_staff_pages_show_who_confirmed_and_the_reminder_campaign(office: Office) -> None:
    client = create_app(office.root, testing=True).test_client()
    page = client.get(f"/campaigns/{CAMPAIGN}").get_data(as_text=True)
    answers = dict(re.findall(r'<tr data-key="([^"]+)"[\s\S]*?data-answer="([^"]+)"', page))
    assert answers == {FIRST: "confirmed", SECOND: "confirmed"}  # the second confirmed from the reminder
    recipient = client.get(f"/campaigns/{CAMPAIGN}/recipients/{CODES[0]}").get_data(as_text=True)
    assert re.search(r'id="answer" data-answer="confirmed">Đã xác nhận lúc \d\d:\d\d ngày \d\d/\d\d/\d{4} '
                     r'\(từ 127\.0\.0\.1\)', recipient)
    reminders = client.get(f"/campaigns/{REMINDER}")
    assert reminders.status_code == 200
    reminder_page = reminders.get_data(as_text=True)
    assert re.findall(r'<tr data-key="([^"]+)" data-state="([^"]+)"', reminder_page) == [(SECOND, "sent")]
    assert 'data-answer="confirmed"' in reminder_page  # the letter the reminder follows was confirmed


def test_the_page_answers_to_the_public_name_behind_the_office_proxy(office: Office, tmp_path: Path) -> None:
    from outreach.web import app_for_host

    root = tmp_path / "ws"
    shutil.copytree(office.root, root)
    config = root / "config.toml"
    config.write_text(re.sub(r'public_url = "[^"]+"', 'public_url = "https://congvan.example.vn"',
                             config.read_text(encoding="utf-8")), encoding="utf-8")
    client = app_for_host(root, "127.0.0.1").test_client()
    path = link_of(office.message_to(CODES[0])).removeprefix(office.url)
    assert client.get(path, headers={"Host": "congvan.example.vn"}).status_code == 200
    assert client.get(path, headers={"Host": "other.example.vn"}).status_code == 400  # DNS rebinding still refused


def shipped() -> dict:
    return tomllib.loads((Path(__file__).resolve().parent.parent / "config.toml").read_text(encoding="utf-8"))


def test_reminders_and_the_public_address_in_config() -> None:
    data = shipped()
    data["campaigns"][CAMPAIGN]["reminders"] = [{"after_working_days": 5, "text": "templates/nhac.txt.j2"},
                                                {"after_working_days": 10, "text": "templates/nhac.txt.j2"}]
    data["web"] = {"public_url": "https://congvan.example.vn/"}
    config = parse_config(data, Path("/ws"))
    assert config.web.receipt_url("abc") == "https://congvan.example.vn/xac-nhan/abc"
    second = config.campaign(f"{CAMPAIGN}~nhac-2")
    assert second.reminder.after_working_days == 10 and second.reminder.parent == CAMPAIGN
    assert second.expires == config.campaign(CAMPAIGN).expires and second.subject == config.campaign(CAMPAIGN).subject
    assert config.workspace.campaign(second.name) == Path("/ws/outbox") / CAMPAIGN / "nhac-2"
    assert parse_config(shipped(), Path("/ws")).web.public_url == ""  # none: no link in any message


@pytest.mark.parametrize(("change", "fragment"), [
    ({"web": {"public_url": "congvan.example.vn"}}, "web.public_url: 'congvan.example.vn' không phải địa chỉ trang web"),
    ({"reminders": [{"after_working_days": 0, "text": "t.j2"}]}, "after_working_days: phải là số nguyên ≥ 1"),
    ({"reminders": [{"after_working_days": 5, "text": "t.j2"}, {"after_working_days": 3, "text": "t.j2"}]},
     "thư nhắc thứ 2 phải đến sau thư nhắc thứ 1"),
    ({"reminders": [{"after_days": 5, "text": "t.j2"}]}, "không có mục after_days"),
    ({"reminders": {"after_working_days": 5}}, "reminders: phải là danh sách"),
])
def test_config_mistakes_name_the_key_and_the_fix(change: dict, fragment: str) -> None:
    data = shipped()
    if "web" in change:
        data["web"] = change["web"]
    else:
        data["campaigns"][CAMPAIGN]["reminders"] = change["reminders"]
    with pytest.raises(UserError) as caught:
        parse_config(data, Path("/ws"))
    assert fragment in caught.value.message and "Cách sửa" in caught.value.message


def test_the_build_button_of_a_reminder_builds_the_reminders(office: Office) -> None:
    from outreach.web.jobs import default_build

    report = default_build(load_config(office.root), REMINDER)
    assert report.unchanged == [SECOND] and not report.built and not report.failed
    assert report.warnings == ["1 người nhận đã xác nhận đã nhận công văn nên không được nhắc."]


def test_outreach_remind_and_status_on_the_command_line(office: Office, capsys) -> None:
    from outreach.cli import main

    assert main(["--root", str(office.root), "remind", CAMPAIGN, "--at", "2023-01-20T09:00"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"Thư nhắc {REMINDER} \(sau 5 ngày làm việc\): tạo mới \d+, giữ nguyên \d+, "
                     r"đã xác nhận nên không nhắc \d+, chưa đến hạn nhắc \d+\.", out)
    assert main(["--root", str(office.root), "status", CAMPAIGN]) == 0
    assert "Người nhận thư đã gửi: " in capsys.readouterr().out
    assert main(["--root", str(office.root), "remind", REMINDER]) == 2
    assert "đã là thư nhắc" in capsys.readouterr().err


def test_a_test_copy_carries_no_link_that_would_confirm_for_the_recipient(office: Office) -> None:
    from outreach.delivery import send_test_copy

    config = load_config(office.root)
    draft = read_manifest(office.root, CAMPAIGN).draft(SECOND)
    link = link_of(office.message_to(CODES[1]))
    before = set(office.received())
    trial = send_test_copy(config, draft, "kiemtra@bhxh-khanhhoa.example.vn")
    copy = office.received()[trial.message_id]
    assert set(office.received()) - before == {trial.message_id}
    for kind in ("plain", "html"):
        body = copy.get_body(preferencelist=(kind,)).get_content()
        assert link not in body and "/xac-nhan/" not in body
        assert "bản thử: đường dẫn xác nhận riêng của người nhận không có ở đây" in body
    assert next(copy.iter_attachments()).get_content() == next(office.message_to(CODES[1]).iter_attachments()).get_content()


def test_without_public_url_messages_carry_no_link(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    report = build(load_config(root), CAMPAIGN, only=CODES[:1])
    assert report.built == [FIRST]
    message = parse_message(read_manifest(root, CAMPAIGN).draft(FIRST).eml_path(root).read_bytes())
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,)).get_content()
        assert "/xac-nhan/" not in body and "Xác nhận đã nhận công văn" not in body
    with Ledger.open(root) as ledger:
        assert ledger._db.execute("SELECT count(*) FROM receipt_tokens").fetchone()[0] == 0


def test_a_reply_header_is_written_as_the_generator_would() -> None:
    from outreach.outbox import build_message, message_bytes
    from outreach.outbox.messages import SMTP_POLICY

    original = "<177.4242.abcdef0123456789@bhxh-khanhhoa.example.vn>"
    message = build_message(sender_name="Phòng Quản lý thu", sender="phongqlt@bhxh-khanhhoa.example.vn", reply_to="",
                            to=["a@example.vn"], cc=[], subject="Nhắc lại: Công văn số 01/BHXH-QLT", text="Kính gửi\n",
                            html="<p>Kính gửi</p>", attachments=[], in_reply_to=original)
    data = message_bytes(message)
    assert data == message.as_bytes(policy=SMTP_POLICY)
    parsed = parse_message(data)
    assert parsed["In-Reply-To"] == original and parsed["References"] == original
    with pytest.raises(UserError):
        build_message(sender_name="", sender="phongqlt@bhxh-khanhhoa.example.vn", reply_to="", to=["a@example.vn"],
                      cc=[], subject="x", text="x", html="x", attachments=[], in_reply_to="<a@b>\r\nBcc: x@y.vn")
