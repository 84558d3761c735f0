"""Issue 16's walkthrough in a real headless Chromium, as a new QLT staff member does it: the
leadership's plain Word letter made a template, a new campaign, its own Excel list (a `#,##0` amount, a
blank e-mail, a doubled @, a code typed as a number, a code twice) reported then accepted, built with
the rejected rows shown, numbered, approved by another person, sent to a real SMTP sink, followed; the
earlier campaign untouched; the sent campaign rebuilt after its list lost a sent unit still shows that
letter and its record; an unknown config key refused with its name, on the command line and the page."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import docx
import openpyxl
import pytest
from test_campaign_lists import HEADER
from test_web import CAMPAIGN, build_workspace
from test_web_e2e import (  # noqa: F401 (a fixture)
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    flash_after,
    serving,
    shot,
    wait,
)
from word_letter import word_letter

from outreach.accounts import Accounts, Actor
from outreach.cli import main
from outreach.convert import pdf_text
from outreach.delivery import Ledger, SmtpSink
from outreach.outbox.manifest import read_manifest
from outreach.web import create_app
from outreach.workspace import Workspace

selenium = pytest.importorskip("selenium")
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium and chromium-driver")

NAME = "don-doc-2023"
AMOUNT = "Số tiền nợ"
# Ten employers as a district office sends them. Row numbers are Excel's: title, blank, header, then 4…
ROWS = [
    ["TA10001", "Công ty TNHH Hải Đăng", "ketoan@haidang.example.vn", 24800000],
    ["TA10002", "Công ty CP Biển Xanh", "nhansu@bienxanh.example.vn", 1500000],
    ["TA10003", "Công ty TNHH Núi Cao", "", 3200000],  # no e-mail: a paper letter
    ["TA10004", "Công ty TNHH Sai Thư", "ketoan@@saithu.example.vn", 900000],  # rejected
    [12345, "Công ty TNHH Mã Số", "ketoan@maso.example.vn", 700000],  # the code typed as a number
    ["TA10006", "Công ty TNHH Cát Trắng", "ketoan@cattrang.example.vn", 2100000],
    ["TA10002", "Công ty CP Biển Xanh (lặp)", "ketoan2@bienxanh.example.vn", 1500000],  # the code twice
    ["TA10008", "Công ty TNHH Gió Biển", "ketoan@giobien.example.vn", 450000],
    ["TA10009", "Công ty TNHH Hòn Tre", "ketoan@hontre.example.vn", 5600000],
    ["TA10010", "Công ty TNHH Sóng Vỗ", "ketoan@songvo.example.vn", 130000],
]
PASSWORDS = {"soan": "mật-khẩu-của-soạn", "duyet": "mật-khẩu-của-duyệt", "vanthu": "mật-khẩu-của-văn-thư"}


def employers(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH ĐƠN VỊ NỢ BHXH NĂM 2023"])
    sheet.append([])
    sheet.append([*HEADER, AMOUNT])
    for index, (code, name, email, amount) in enumerate(rows, 1):
        sheet.append([index, code, name, "", f"{index} Trần Phú, Nha Trang", "Thành phố Nha Trang", email, "",
                      "BHXH tỉnh", amount])
        sheet.cell(sheet.max_row, len(HEADER) + 1).number_format = "#,##0"
    book.save(path)
    return path


def leadership_letter(path: Path) -> Path:
    """The reference letter typed in Word, with one sentence naming the list's amount column, its tag
    pasted from the field picker."""
    word_letter(path)
    document = docx.Document(path)
    last = [p for p in document.paragraphs if p.text.startswith(("Nhằm thực hiện", "Để", "BHXH", "Đề nghị"))][-1]
    added = document.add_paragraph()
    added.add_run("Số tiền đơn vị còn nợ đến nay: {{ recipient.extra['" + AMOUNT + "'] }} đồng.")
    for run in added.runs:
        run.font.name = "Times New Roman"
    last._p.addnext(added._p)
    document.save(path)
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_workspace(tmp_path_factory.mktemp("walkthrough") / "ws")  # vssid-2022, numbered and built
    accounts = Accounts(Workspace(root).accounts)
    setup = Actor("người cài đặt", "", "cli root")
    accounts.add("soan", "Phạm Văn Soạn", ["drafter"], PASSWORDS["soan"], setup)
    accounts.add("duyet", "Nguyễn Thị Duyệt", ["approver"], PASSWORDS["duyet"], setup)
    accounts.add("vanthu", "Lê Văn Thư", ["sender"], PASSWORDS["vanthu"], setup)
    return root


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path_factory.mktemp("maildir")).start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="module")
def server(root: Path, sink: SmtpSink) -> Iterator[str]:
    patch = pytest.MonkeyPatch()
    patch.setenv("OUTREACH_SMTP_URL", sink.url)  # every department's profile: the sink
    app = create_app(root)
    app.config["OUTREACH_POLL_MS"] = 250
    try:
        with serving(app) as address:
            yield address
    finally:
        patch.undo()


def as_staff(driver, server: str, login: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{server}/login")
    driver.find_element(By.ID, "username").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[login])
    driver.find_element(By.ID, "login").click()
    wait(driver, EC.presence_of_element_located((By.ID, "signed-in")))


def main_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def click_and_confirm(driver, element_id: str) -> None:
    driver.find_element(By.ID, element_id).click()
    try:
        wait(driver, EC.alert_is_present(), timeout=2).accept()
    except selenium.common.exceptions.TimeoutException:
        pass


def run_job(driver, element_id: str, timeout: float = 180) -> None:
    """The button that starts a background job (build, numbering, approval) pressed, confirmed if the
    page asks; returns once the page has been loaded again with the job's result."""
    before = driver.find_element(By.TAG_NAME, "html")
    click_and_confirm(driver, element_id)
    wait(driver, EC.staleness_of(before))
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".job-progress")
         and d.execute_script("return document.readyState") == "complete", timeout=timeout)


def upload_list(driver, server: str, path: Path) -> str:
    """The list uploaded into the campaign; its report's text, before accepting it."""
    driver.get(f"{server}/campaigns/{NAME}/lists")
    driver.find_element(By.ID, "upload-file").send_keys(str(path))
    driver.find_element(By.ID, "upload").click()
    wait(driver, EC.presence_of_element_located((By.ID, "summary")))
    return main_text(driver)


def download(driver, url: str) -> bytes:
    """The bytes of ``url`` fetched inside the page, with its session; a failed answer fails the test."""
    data = driver.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))"
        ".then(b => done(Array.from(new Uint8Array(b))), e => done(String(e)))", url)
    assert isinstance(data, list), data
    return bytes(data)


def outreach(root: Path, *args: str) -> tuple[int, str, str]:
    """The command line's exit code, what it printed and what it said on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--root", str(root), *args])
    return code, out.getvalue(), err.getvalue()


def test_the_walkthrough_from_a_word_letter_to_the_last_paper_copy(browser, server: str, root: Path,  # noqa: F811
                                                                   sink: SmtpSink, tmp_path: Path) -> None:
    earlier = hashlib.sha256((root / "outbox" / CAMPAIGN / "manifest.json").read_bytes()).hexdigest()

    # 1. The leadership's Word letter becomes a template.
    as_staff(browser, server, "soan")
    browser.get(f"{server}/templates")
    browser.find_element(By.ID, "letter").send_keys(str(leadership_letter(tmp_path / "Công văn đôn đốc 2023.docx")))
    browser.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
    recognised = wait(browser, EC.presence_of_element_located((By.ID, "recognised"))).text
    assert "Số: {{ so_ky_hieu }}" in recognised and "{{ signer.name }}" in recognised
    # Checked against the earlier campaign's list, which has no such column: said, in Vietnamese.
    (issue,) = [i.text for i in browser.find_elements(By.CSS_SELECTOR, "#issues li") if AMOUNT in i.text]
    assert "1 vấn đề" in browser.find_element(By.ID, "check-result").text, issue
    name = browser.find_element(By.ID, "name")
    name.clear()
    name.send_keys("don-doc-2023")
    browser.find_element(By.CSS_SELECTOR, "#save input[name=confirm]").click()
    browser.find_element(By.CSS_SELECTOR, "#save button[type=submit]").click()
    wait(browser, EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-ok"), "Đã lưu mẫu"))
    assert (root / "templates" / "don-doc-2023.docx").is_file()

    # 2. «Chiến dịch mới».
    browser.get(f"{server}/")
    browser.find_element(By.LINK_TEXT, "Chiến dịch mới").click()
    wait(browser, EC.presence_of_element_located((By.ID, "new-campaign")))
    browser.find_element(By.ID, "c-name").send_keys(NAME)
    browser.find_element(By.ID, "c-title").send_keys("Đôn đốc đơn vị nợ BHXH năm 2023")
    browser.find_element(By.ID, "c-subject").send_keys("đôn đốc đóng BHXH, BHYT còn nợ năm 2023")
    browser.find_element(By.CSS_SELECTOR, "#new-campaign input[name=audiences][value=employers]").click()
    Select(browser.find_element(By.ID, "c-template")).select_by_value("templates/don-doc-2023.docx")
    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, "c-expires"),
                           f"{time.localtime().tm_year + 1}-12-31T17:00")
    flash = flash_after(browser, browser.find_element(By.ID, "create").click)
    assert f"Đã tạo chiến dịch {NAME}" in flash.text
    assert (root / "campaigns" / f"{NAME}.toml").is_file()

    # 3. Its own list: the report before anything changes, then accepted.
    report = upload_list(browser, server, employers(tmp_path / "Danh sách nợ 2023.xlsx", ROWS))
    summary = browser.find_element(By.ID, "summary")
    problems = browser.find_element(By.ID, "problems").text
    shot(browser, "walk-03-list-report")
    for said in ("ketoan@@saithu.example.vn", "Mã TA10002 bị trùng với dòng 10", "Mã được lưu dạng số (12345)",
                 "thư sẽ được in để gửi bản giấy"):
        assert said in problems, (said, report)
    assert not (root / "recipients" / NAME / "employers.xlsx").exists()
    rejected = int(summary.get_attribute("data-rejected"))
    valid = int(summary.get_attribute("data-valid"))
    assert (valid, rejected) == (6, 4), report  # both TA10002 rows go: which one is right is for staff to say
    flash = flash_after(browser, lambda: click_and_confirm(browser, "accept"))
    assert "Đã nhận danh sách làm bản 1" in flash.text
    browser.get(f"{server}/templates/files/don-doc-2023.docx?campaign={NAME}")  # now checked with its own list
    assert browser.find_element(By.ID, "check-result").text.startswith("Mẫu dùng được"), main_text(browser)

    # 4. Built: rejected rows «bị loại» with their reasons, the amount as Excel shows it.
    browser.get(f"{server}/campaigns/{NAME}")
    run_job(browser, "build")
    assert "Đã tạo bản thảo xong" in main_text(browser), main_text(browser)
    shown = browser.find_element(By.ID, "bi-loai").text
    assert "Bị loại" in shown or "bị loại" in shown
    assert "ketoan@@saithu.example.vn" in shown and "TA10002" in shown and "12345" in shown, shown
    assert browser.find_element(By.ID, "fix-list").get_attribute("href").endswith(f"/campaigns/{NAME}/lists")
    manifest = read_manifest(root, NAME)
    assert len(manifest.drafts) == valid and len(manifest.rejected_rows) == rejected
    first = next(d for d in manifest.drafts if d.code == "TA10001")
    assert "24.800.000 đồng" in pdf_text(first.path(root, "letter.pdf"))
    shot(browser, "walk-04-built")

    # 5. The number issued by the office, approved by another person, sent, followed.
    as_staff(browser, server, "vanthu")
    browser.get(f"{server}/campaigns/{NAME}")
    run_job(browser, "issue")
    assert not browser.find_elements(By.ID, "issue-form"), main_text(browser)

    as_staff(browser, server, "duyet")
    browser.get(f"{server}/campaigns/{NAME}")
    run_job(browser, "approve-filtered")
    with Ledger.open(root) as ledger:
        deliveries = ledger.deliveries(NAME)
    assert len(deliveries) == valid and {d.approved_by for d in deliveries.values()} == {"Nguyễn Thị Duyệt"}

    as_staff(browser, server, "vanthu")
    browser.get(f"{server}/campaigns/{NAME}/sending")
    browser.find_element(By.ID, "send-now").click()
    wait(browser, lambda d: d.refresh() or d.find_element(By.ID, "send-job").get_attribute("data-running") == "no",
         timeout=60)
    assert f"đã gửi {len([d for d in manifest.drafts if d.to])} thư" in browser.find_element(By.ID, "send-job").text, \
        main_text(browser)
    emailed = [d for d in manifest.drafts if d.to]
    paper = [d for d in manifest.drafts if not d.to]
    assert paper and [d.code for d in paper] == ["TA10003"]
    sent_row = wait(browser, EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#deliveries tr[data-key="employers/TA10001"]'))).text
    assert "250" in sent_row or "Đã gửi" in sent_row, sent_row
    assert len(list((sink.handler.maildir / "new").iterdir())) == len(emailed)
    shot(browser, "walk-05-sent")

    browser.get(f"{server}/")  # the paper letter is not posted yet: not finished
    listed = browser.find_element(By.CSS_SELECTOR, f'tr[data-campaign="{NAME}"]').text
    assert "Đang trong đợt gửi" in listed and "Đã gửi xong" not in listed, listed
    assert browser.find_element(By.CSS_SELECTOR, f'tr[data-campaign="{NAME}"] [data-rejected]').text.startswith("4 dòng")
    browser.get(f"{server}/campaigns/{NAME}/chua-nhan")
    not_received = main_text(browser)
    # The paper letter is printed, not yet posted: not received. Everyone e-mailed is; the rejected
    # rows have no letter and are counted as «bị loại» on the campaign page instead.
    waiting = [row.get_attribute("data-key") for row in browser.find_elements(By.CSS_SELECTOR, "#not-received tbody tr")]
    assert waiting == ["employers/TA10003"] and "Bản giấy" in not_received, not_received
    assert "Ngoài ra 4 dòng của danh sách bị loại nên chưa có thư" in not_received, not_received
    shot(browser, "walk-05-not-received")
    # The delivery record, fetched as the page's link does (with the session): every letter, its state, the rejected rows.
    record = openpyxl.load_workbook(io.BytesIO(download(browser, f"{server}/campaigns/{NAME}/bao-cao-gui-thu.xlsx")))
    cells = " ".join(str(c) for row in record.active.iter_rows(values_only=True) for c in row if c is not None)
    assert "Công ty TNHH Hải Đăng" in cells and "ketoan@@saithu.example.vn" in cells, cells

    # 6. The earlier campaign: not a byte of its manifest changed.
    assert hashlib.sha256((root / "outbox" / CAMPAIGN / "manifest.json").read_bytes()).hexdigest() == earlier

    # 7. A sent unit leaves the list; the rebuild keeps its letter and record in view.
    as_staff(browser, server, "soan")
    upload_list(browser, server, employers(tmp_path / "Danh sách nợ 2023 (sửa).xlsx",
                                           [row for row in ROWS if row[0] != "TA10001"]))
    flash_after(browser, lambda: click_and_confirm(browser, "accept"))
    browser.get(f"{server}/campaigns/{NAME}")
    run_job(browser, "build")
    page = main_text(browser)
    assert browser.find_elements(By.CSS_SELECTOR, '#recipients tr[data-key="employers/TA10001"]'), page
    shot(browser, "walk-07-rebuilt")
    assert "0 thư mới hoặc có thay đổi, 5 thư giữ nguyên, 4 dòng bị loại" in page, page
    row = browser.find_element(By.CSS_SELECTOR, '#recipients tr[data-key="employers/TA10001"]')
    assert row.get_attribute("data-state") == "sent"
    code, status, _ = outreach(root, "status", NAME)
    assert code == 0 and f"đã gửi: {len(emailed)}, đã in, chờ gửi bưu điện: 1" in status, status
    record = openpyxl.load_workbook(io.BytesIO(download(browser, f"{server}/campaigns/{NAME}/bao-cao-gui-thu.xlsx")))
    (sent,) = [r for r in record.active.iter_rows(values_only=True) if r[0] == "TA10001"]
    assert sent[1:6] == ("Công ty TNHH Hải Đăng", "Đơn vị sử dụng lao động", "ketoan@haidang.example.vn", None,
                         "đã gửi") and "Nguyễn Thị Duyệt" in sent, sent
    browser.get(f"{server}/campaigns/{NAME}/recipients/TA10001")  # its letter, as it was approved and sent
    assert "Công ty TNHH Hải Đăng" in browser.find_element(By.ID, "recipient-name").text
    assert "Đã gửi" in main_text(browser)
    with Ledger.open(root) as ledger:
        assert ledger.delivery(NAME, "employers/TA10001").state == "sent"

    # 8. An unknown key refused with its name: the command line and the page.
    config = root / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(f"[campaigns.{CAMPAIGN}]\n", f'[campaigns.{CAMPAIGN}]\nfiles = ["x.xlsx"]\n', 1),
                      encoding="utf-8")
    code, _, said = outreach(root, "validate")
    assert code == 2 and f"campaigns.{CAMPAIGN}.files: mục 'files' không có" in said, said
    browser.get(f"{server}/campaigns/{CAMPAIGN}")
    page = main_text(browser)
    assert "mục 'files' không có trong bảng [campaigns.vssid-2022]" in page and "Traceback" not in page, page
    shot(browser, "walk-08-unknown-key")
