"""The staff web page in a real headless Chromium (Debian's chromium + chromedriver, via selenium).

What a member of staff does: open a campaign, filter it, preview a recipient's letter and e-mail,
step to the next one, approve a selection and the filtered list, watch the state change and the
sending progress update by itself, and see a hostile recipient name shown as harmless text.
Screenshots are saved under tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from outreach.delivery import Attempt, Ledger, Outcome, approve, utc_now
from outreach.outbox import BUILD_PHASE, Step
from outreach.outbox.manifest import read_manifest
from outreach.web import create_app

from factories import build
from test_web import CAMPAIGN, ONLY, XSS_CODE, XSS_NAME, build_workspace

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_S = 40  # generous: a page waits on conversions and the CI machine is sometimes 3x slower

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium and chromium-driver")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("e2e") / "ws")


@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` on a free port of 127.0.0.1, for a browser; its address."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.port}"
    finally:
        httpd.shutdown()
        thread.join(5)


@contextmanager
def serving_staff(app) -> Iterator[str]:
    """``app`` on the server `outreach serve` runs, reached as localhost: its cookies are not those of
    the 127.0.0.1 servers (cookies ignore the port)."""
    from outreach.web.server import BoundedServer

    httpd = BoundedServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.port}"
    finally:
        httpd.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[str]:
    app = create_app(root)
    app.config["OUTREACH_POLL_MS"] = 250  # the page asks for progress four times a second
    with serving(app) as address:
        yield address


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--lang=vi-VN"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: webdriver.Chrome, condition, timeout: float = WAIT_S):
    # A condition may read the old page while the new one loads: keep polling instead of failing.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def flash_after(driver: webdriver.Chrome, action):
    """The confirmation shown by the page that ``action`` loads (not the one still on screen)."""
    previous = driver.find_elements(By.CSS_SELECTOR, ".flash-ok")
    action()
    if previous:
        wait(driver, EC.staleness_of(previous[0]))
    return wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".flash-ok")))


def shot(driver: webdriver.Chrome, name: str) -> Path:
    """A full-page screenshot (the window grown to the page's height) under tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    width = driver.get_window_size()["width"]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height + 120, 900), 4000))
    path = ARTIFACTS / f"{name}.png"
    try:
        assert driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(width, 1000)
    assert path.stat().st_size > 10_000
    return path


def table_keys(driver: webdriver.Chrome) -> list[str]:
    return [row.get_attribute("data-key") for row in driver.find_elements(By.CSS_SELECTOR, "#recipients tbody tr")]


def row_state(driver: webdriver.Chrome, key: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f'#recipients tr[data-key="{key}"]').get_attribute("data-state")


def no_alert(driver: webdriver.Chrome) -> bool:
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def script_errors(driver: webdriver.Chrome) -> list[str]:
    """Severe console messages (a CSP violation, a JavaScript error), ignoring the favicon request."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "favicon" not in entry["message"]]


def test_open_filter_and_preview_a_recipient(browser, server: str) -> None:
    browser.get(server + "/")
    link = wait(browser, EC.element_to_be_clickable((By.LINK_TEXT, "Công văn đôn đốc tham gia BHXH tự nguyện, "
                                                                   "BHYT hộ gia đình; giao dịch điện tử; VssID")))
    shot(browser, "01-campaigns")
    link.click()
    wait(browser, EC.presence_of_element_located((By.ID, "recipients")))
    assert len(table_keys(browser)) == len(ONLY)

    Select(browser.find_element(By.ID, "f-audience")).select_by_visible_text("Đơn vị sử dụng lao động")
    browser.find_element(By.ID, "f-submit").click()
    wait(browser, lambda d: "audience=employers" in d.current_url and set(table_keys(d)) == {
        "employers/UHR562T", "employers/VT00652", f"employers/{XSS_CODE}", "employers/WSD098B"})
    search = browser.find_element(By.ID, "f-q")
    search.send_keys("kim ngan")  # without diacritics
    search.submit()
    wait(browser, lambda d: table_keys(d) == ["employers/VT00652"])
    shot(browser, "02-campaign-filtered")

    search = browser.find_element(By.ID, "f-q")
    search.clear()
    search.submit()
    wait(browser, lambda d: len(table_keys(d)) == 4)
    browser.find_element(By.LINK_TEXT, "Công ty TNHH Nước giải khát Kim Ngân").click()
    wait(browser, EC.text_to_be_present_in_element((By.ID, "recipient-name"), "Kim Ngân"))
    assert "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu" in browser.find_element(By.ID, "mail-from").text
    assert "V/v đôn đốc tham gia BHXH tự nguyện" in browser.find_element(By.ID, "mail-subject").text
    assert "camranh@bhxh-khanhhoa.example.vn" in browser.find_element(By.ID, "mail-cc").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#attachments li")) == 3
    first_page = browser.find_element(By.CSS_SELECTOR, ".pages img")
    wait(browser, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", first_page))
    assert browser.execute_script("return arguments[0].naturalWidth", first_page) > 800  # a real page, drawn
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe.mailbody"))
    assert "Kính gửi: Công ty TNHH Nước giải khát Kim Ngân" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    shot(browser, "03-recipient-preview")
    position = browser.find_element(By.CSS_SELECTOR, ".stepper .position").text
    assert position.startswith("Thư 2 / 4")

    browser.find_element(By.ID, "next").click()  # the next one of the filtered list, like Word's preview
    wait(browser, lambda d: f"/recipients/{XSS_CODE}?audience=employers" in d.current_url
         and d.find_element(By.CSS_SELECTOR, ".stepper .position").text.startswith("Thư 3 / 4"))
    assert script_errors(browser) == []


def test_a_phone_sized_screen_never_scrolls_sideways_and_the_keyboard_steps_through_letters(browser,
                                                                                              server: str) -> None:
    from selenium.webdriver.common.keys import Keys

    pages = ["/", f"/campaigns/{CAMPAIGN}", f"/campaigns/{CAMPAIGN}/recipients/VT00652", f"/campaigns/{CAMPAIGN}/sending",
             f"/campaigns/{CAMPAIGN}/chua-nhan", "/lists"]
    browser.set_window_size(390, 844)
    try:
        for index, url in enumerate(pages):
            browser.get(server + url)
            wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (url, overflow)
            shot(browser, f"20-phone-{index}")
    finally:
        browser.set_window_size(1400, 1000)

    browser.get(server + f"/campaigns/{CAMPAIGN}?audience=employers")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the first thing the keyboard reaches skips straight to the content
    assert browser.switch_to.active_element.get_attribute("href").endswith("#main")
    body.send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.get_attribute("id") == "skip-to-list"
    skip.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.current_url.endswith("#recipients"))

    browser.get(server + f"/campaigns/{CAMPAIGN}/recipients/VT00652?audience=employers")
    position = lambda d: d.find_element(By.CSS_SELECTOR, ".stepper .position").text  # noqa: E731
    assert position(browser).startswith("Thư 2 / 4")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    wait(browser, lambda d: position(d).startswith("Thư 3 / 4"))
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    wait(browser, lambda d: position(d).startswith("Thư 2 / 4"))
    search = browser.find_elements(By.CSS_SELECTOR, "input[type=email], input[name=to]")
    if search:  # typing in a field moves the cursor, never the letter
        search[0].send_keys(Keys.ARROW_RIGHT)
        assert position(browser).startswith("Thư 2 / 4")
    assert script_errors(browser) == []


def test_approve_a_selection_and_the_filtered_list(browser, server: str, root: Path) -> None:
    browser.get(f"{server}/campaigns/{CAMPAIGN}")
    wait(browser, EC.presence_of_element_located((By.ID, "recipients")))
    for key in ("employers/UHR562T", "collection_agents/DL56001"):
        browser.find_element(By.CSS_SELECTOR, f'#recipients tr[data-key="{key}"] input[name=key]').click()
    person = browser.find_element(By.ID, "by-list")
    person.clear()
    person.send_keys("Nguyễn Thị Duyệt")
    browser.find_element(By.ID, "approve-selected").click()
    flash = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, ".flash-ok")))
    assert flash.text == "Đã duyệt 2 thư (người duyệt: Nguyễn Thị Duyệt)."
    assert row_state(browser, "employers/UHR562T") == "approved"
    assert row_state(browser, "collection_agents/DL56001") == "approved"
    assert row_state(browser, "employers/VT00652") == "drafted"
    badge = browser.find_element(By.CSS_SELECTOR, '#recipients tr[data-key="employers/UHR562T"] .badge')
    assert badge.text == "Đã duyệt"
    shot(browser, "04-approved-selection")

    Select(browser.find_element(By.ID, "f-audience")).select_by_value("communes")
    browser.find_element(By.ID, "f-submit").click()
    wait(browser, lambda d: set(table_keys(d)) == {"communes/22327", "communes/22330"})
    assert browser.find_element(By.ID, "by-list").get_attribute("value") == "Nguyễn Thị Duyệt"  # remembered
    button = browser.find_element(By.ID, "approve-filtered")
    assert "Duyệt tất cả 2 thư chưa duyệt đang lọc" in button.text

    def approve_filtered_list() -> None:
        button.click()
        alert = wait(browser, EC.alert_is_present())  # a confirmation before acting on a whole list
        assert "Duyệt tất cả 2 thư chưa duyệt" in alert.text
        alert.accept()

    flash = flash_after(browser, approve_filtered_list)
    assert flash.text == "Đã duyệt 2 thư (người duyệt: Nguyễn Thị Duyệt)."
    assert {row_state(browser, k) for k in ("communes/22327", "communes/22330")} == {"approved"}
    with Ledger.open(root) as ledger:
        deliveries = ledger.deliveries(CAMPAIGN)
    assert set(deliveries) == {"employers/UHR562T", "collection_agents/DL56001", "communes/22327", "communes/22330"}
    assert {d.approved_by for d in deliveries.values()} == {"Nguyễn Thị Duyệt"}

    browser.find_element(By.CSS_SELECTOR, '#recipients tr[data-key="communes/22330"] input[name=key]').click()
    flash = flash_after(browser, browser.find_element(By.ID, "revoke-selected").click)
    assert flash.text == "Đã hủy duyệt 1 thư (người hủy: Nguyễn Thị Duyệt)."
    assert row_state(browser, "communes/22330") == "drafted"
    assert script_errors(browser) == []


def test_hostile_recipient_name_is_harmless(browser, server: str) -> None:
    browser.get(f"{server}/campaigns/{CAMPAIGN}?q=Thử")
    wait(browser, lambda d: table_keys(d) == [f"employers/{XSS_CODE}"])
    assert no_alert(browser)
    assert browser.execute_script("return window.xss") is None  # neither the script nor onerror ran
    link = browser.find_element(By.CSS_SELECTOR, f'#recipients tr[data-key="employers/{XSS_CODE}"] td.name a')
    assert link.text == XSS_NAME  # shown exactly, as text
    link.click()
    heading = wait(browser, EC.presence_of_element_located((By.ID, "recipient-name")))
    assert heading.text == XSS_NAME
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img[src=x]") == []
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe.mailbody"))
    assert "<script>window.xss=1</script>" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    assert no_alert(browser) and browser.execute_script("return window.xss") is None
    shot(browser, "05-hostile-name-as-text")
    assert script_errors(browser) == []


def test_sending_progress_updates_by_itself(browser, server: str, root: Path) -> None:
    browser.get(f"{server}/campaigns/{CAMPAIGN}/sending")
    count = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, 'dd[data-count="sent"]')))
    before = int(count.text)
    with Ledger.open(root) as ledger:  # what a sending process does, while the page is open
        key = "employers/VT00652"
        approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt", [key])
        ledger.claim(CAMPAIGN, key, Attempt("email", "<e2e@example.vn>", ("baohiem@kimngan.example.vn",), (), {}), utc_now())
        ledger.finish(CAMPAIGN, key, Outcome("sent", 250, "2.0.0 Ok: queued as E2E"), utc_now())
    # no reload: the page polls progress.json every few seconds
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, 'dd[data-count="sent"]').text == str(before + 1))
    events = browser.find_element(By.ID, "events").text
    assert "VT00652" in events and "Đang gửi → Đã gửi" in events
    assert browser.find_element(By.ID, "stale-notice").is_displayed()  # the table below: reload to see it
    with Ledger.open(root) as ledger, ledger.send_lock(CAMPAIGN):
        wait(browser, EC.text_to_be_present_in_element((By.ID, "running"), "Đang gửi"))
        shot(browser, "06-sending-progress")
    wait(browser, EC.text_to_be_present_in_element((By.ID, "running"), "Không có tiến trình gửi"))
    browser.refresh()
    record = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, '#deliveries tr[data-key="employers/VT00652"]')))
    assert "2.0.0 Ok: queued as E2E" in record.text
    assert script_errors(browser) == []


def test_a_build_s_count_changes_on_the_page_without_a_reload(browser, root: Path) -> None:
    """«Tạo lại bản thảo» of 2,156 letters: the notice counts them as the build tells it, the page
    itself never reloaded, until the build ends and its report is shown."""
    from werkzeug.serving import make_server

    from test_web_jobs import SlowBuild

    slow = SlowBuild([Step(BUILD_PHASE, 0, 2156), Step(BUILD_PHASE, 120, 2156), Step(BUILD_PHASE, 1200, 2156)])
    app = create_app(root)
    app.config.update(OUTREACH_POLL_MS=250, OUTREACH_BUILD=slow)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        browser.get(f"http://127.0.0.1:{httpd.port}/campaigns/{CAMPAIGN}")

        def build_and_confirm() -> None:
            browser.find_element(By.ID, "build").click()
            # Letters of this folder went out in an earlier test: the newcomers of the list are shown first.
            confirm = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "#confirm-new, .flash-ok")))
            if confirm.get_attribute("id") == "confirm-new":
                assert browser.find_elements(By.CSS_SELECTOR, "#newcomers tr[data-key]")
                confirm.click()

        flash_after(browser, build_and_confirm)
        notice = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, ".job-progress .job-text")))
        assert "Đang tạo bản thảo: đang chuẩn bị" in notice.text
        assert not browser.find_element(By.CSS_SELECTOR, ".job-reload").is_displayed()  # JavaScript polls instead
        browser.execute_script("window.sameDocument = true;")
        for _ in range(2):
            slow.next()
        wait(browser, lambda d: "Đang tạo bản thảo: 120/2.156 thư, còn khoảng" in d.find_element(
            By.CSS_SELECTOR, ".job-progress .job-text").text)
        assert browser.find_element(By.CSS_SELECTOR, ".job-progress .job-bar").get_attribute("value") == "120"
        shot(browser, "07-build-progress")
        slow.next()
        wait(browser, lambda d: "1.200/2.156 thư" in d.find_element(By.CSS_SELECTOR, ".job-progress .job-text").text)
        assert browser.execute_script("return window.sameDocument === true;")
        slow.go_on.release()  # the build ends: the page is loaded again, with its report
        wait(browser, EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "Đã tạo bản thảo xong"))
        assert not browser.execute_script("return window.sameDocument === true;")
        assert not browser.find_elements(By.CSS_SELECTOR, ".job-progress")
        assert script_errors(browser) == []
    finally:
        httpd.shutdown()
        thread.join(5)


# ---------------------------------------------------------------------------- staff accounts


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Another working folder, with accounts, on the server `outreach serve` runs. Reached as
    localhost: its cookies are not the ones of the server above (cookies ignore the port)."""
    from outreach.accounts import Accounts, Actor
    from outreach.workspace import Workspace

    root = build_workspace(tmp_path_factory.mktemp("e2e-staff") / "ws")
    accounts = Accounts(Workspace(root).accounts)
    setup = Actor("người cài đặt", "", "cli root")
    accounts.add("duyet", "Nguyễn Thị Duyệt", ["approver"], "mật-khẩu-của-duyệt", setup)
    accounts.add("soan", "Phạm Văn Soạn", ["drafter"], "mật-khẩu-của-soạn", setup)
    accounts.add("ca-hai", "Đỗ Văn Cả Hai", ["drafter", "approver"], "mật-khẩu-của-cả-hai", setup)
    app = create_app(root)
    # A real build, of the drafts the folder has (unchanged: no conversion), run as the account that asks.
    app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: build(config, name, only=ONLY, by=by, on_step=on_step)
    with serving_staff(app) as address:
        yield address, root


def log_in(driver: webdriver.Chrome, server: str, login: str, password: str) -> None:
    driver.get(f"{server}/campaigns/{CAMPAIGN}")
    wait(driver, lambda d: "/login" in d.current_url)  # no page without a session
    driver.find_element(By.ID, "username").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    wait(driver, EC.presence_of_element_located((By.ID, "signed-in")))


def test_staff_log_in_and_the_ledger_names_the_approving_account(browser, staff_server) -> None:
    server, root = staff_server
    log_in(browser, server, "soan", "mật-khẩu-của-soạn")
    key = "employers/UHR562T"
    wait(browser, EC.presence_of_element_located((By.ID, "recipients")))
    assert browser.find_elements(By.ID, "approve-selected") == [] and browser.find_elements(By.ID, "build")
    browser.find_element(By.CSS_SELECTOR, f'#recipients tr[data-key="{key}"] input[name=key]').click()
    # A drafter is shown no «Duyệt» button; the form posted all the same (session, CSRF token and all)
    # is refused, and nothing is approved.
    browser.execute_script("""const button = document.createElement("button");
        button.type = "submit"; button.name = "scope"; button.value = "selected";
        document.getElementById("selection").appendChild(button); button.click();""")
    wait(browser, EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "cần vai trò «Duyệt»"))
    assert "Không có gì thay đổi" in browser.find_element(By.TAG_NAME, "main").text
    with Ledger.open(root) as ledger:
        assert ledger.deliveries(CAMPAIGN) == {}
    browser.get(f"{server}/campaigns/{CAMPAIGN}")
    wait(browser, EC.presence_of_element_located((By.ID, "signed-in")))
    browser.find_element(By.CSS_SELECTOR, ".logout button").click()
    wait(browser, lambda d: "/login" in d.current_url)

    log_in(browser, server, "duyet", "mật-khẩu-của-duyệt")
    wait(browser, EC.presence_of_element_located((By.ID, "recipients")))
    assert browser.find_element(By.ID, "signed-in").text == "Nguyễn Thị Duyệt"
    assert browser.find_elements(By.CSS_SELECTOR, "input[name=by]") == []  # nobody types a name
    browser.find_element(By.CSS_SELECTOR, f'#recipients tr[data-key="{key}"] input[name=key]').click()
    flash = flash_after(browser, browser.find_element(By.ID, "approve-selected").click)
    assert flash.text == "Đã duyệt 1 thư (người duyệt: Nguyễn Thị Duyệt)."
    assert row_state(browser, key) == "approved"
    shot(browser, "07-approved-by-account")
    with Ledger.open(root) as ledger:
        delivery = ledger.delivery(CAMPAIGN, key)
        (event,) = ledger.events(CAMPAIGN, key)
    assert delivery.approved_by == "Nguyễn Thị Duyệt"
    assert (event.actor, event.login, event.source) == ("Nguyễn Thị Duyệt", "duyet", "web 127.0.0.1")
    assert [e for e in script_errors(browser) if "status of 403" not in e] == []  # the drafter's refusal
    browser.delete_all_cookies()


def test_four_eyes_whoever_built_the_drafts_cannot_approve_them(browser, staff_server) -> None:
    server, root = staff_server
    log_in(browser, server, "ca-hai", "mật-khẩu-của-cả-hai")
    wait(browser, EC.presence_of_element_located((By.ID, "recipients")))
    browser.find_element(By.CSS_SELECTOR, "form[action$='/build'] button").click()
    wait(browser, EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "Đã tạo bản thảo xong"), timeout=60)
    key = next(k for k in table_keys(browser) if row_state(browser, k) == "drafted")
    browser.find_element(By.CSS_SELECTOR, f'#recipients tr[data-key="{key}"] input[name=key]').click()
    browser.find_element(By.ID, "approve-selected").click()
    wait(browser, EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "không được tự duyệt"))
    assert "Không có thư nào được duyệt" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "08-four-eyes-refused")
    with Ledger.open(root) as ledger:
        assert ledger.delivery(CAMPAIGN, key) is None
        (build,) = [e for e in ledger.events(CAMPAIGN) if e.to_state == "built" and e.login]
    assert (build.actor, build.login, build.source) == ("Đỗ Văn Cả Hai", "ca-hai", "web 127.0.0.1")
    assert [e for e in script_errors(browser) if "status of 403" not in e] == []  # the refusal itself
    browser.delete_all_cookies()


def test_the_audit_page_names_who_did_what_from_where(browser, staff_server) -> None:
    server, _ = staff_server
    log_in(browser, server, "duyet", "mật-khẩu-của-duyệt")
    wait(browser, EC.presence_of_element_located((By.ID, "recipients")))
    key = next(k for k in table_keys(browser) if row_state(browser, k) == "drafted")
    browser.find_element(By.CSS_SELECTOR, f'#recipients tr[data-key="{key}"] input[name=key]').click()
    flash_after(browser, browser.find_element(By.ID, "approve-selected").click)
    browser.find_element(By.ID, "audit-link").click()
    wait(browser, EC.presence_of_element_located((By.ID, "audit")))
    newest = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr:first-child td")]
    assert newest[1:5] == ["Chưa duyệt → Đã duyệt", key, "Nguyễn Thị Duyệt (duyet)", "Trang web, 127.0.0.1"]
    Select(browser.find_element(By.ID, "audit-action")).select_by_value("Cấp số văn bản")
    browser.find_element(By.ID, "audit-filter").click()
    wait(browser, lambda d: "action=" in d.current_url)
    (issued,) = browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
    assert "Lê Văn Thư" in issued.text and "số 01/BHXH-QLT, ngày 05/01/2023" in issued.text
    shot(browser, "09-audit")
    assert script_errors(browser) == []
    browser.delete_all_cookies()


@pytest.fixture
def guarded_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A server of its own, so that the address it locks out locks nobody else's tests out."""
    from outreach.accounts import Accounts, Actor
    from outreach.workspace import Workspace

    root = build_workspace(tmp_path / "ws")
    Accounts(Workspace(root).accounts).add("duyet", "Nguyễn Thị Duyệt", ["approver"], "mật-khẩu-của-duyệt",
                                           Actor("người cài đặt", "", "cli root"))
    with serving_staff(create_app(root)) as address:
        yield address, root


def test_a_disabled_account_s_open_session_stops_working(browser, guarded_server) -> None:
    from outreach.accounts import Accounts, Actor
    from outreach.workspace import Workspace

    server, root = guarded_server
    browser.delete_all_cookies()
    log_in(browser, server, "duyet", "mật-khẩu-của-duyệt")
    wait(browser, EC.presence_of_element_located((By.ID, "recipients")))
    Accounts(Workspace(root).accounts).disable("duyet", Actor("Quản trị", "admin", "cli root"))
    browser.get(f"{server}/campaigns/{CAMPAIGN}")
    wait(browser, lambda d: "/login" in d.current_url)  # the page is gone, the open session with it
    assert not browser.find_elements(By.ID, "signed-in") and not browser.find_elements(By.ID, "recipients")
    browser.find_element(By.ID, "username").send_keys("duyet")
    browser.find_element(By.ID, "password").send_keys("mật-khẩu-của-duyệt")
    form = browser.find_element(By.ID, "login")
    form.click()
    wait(browser, EC.staleness_of(form))  # the answer's page, not the form still on screen
    wait(browser, EC.presence_of_element_located((By.ID, "login")))  # the right password, still the login page
    assert "/login" in browser.current_url and not browser.find_elements(By.ID, "signed-in")
    browser.delete_all_cookies()


def test_repeated_wrong_passwords_lock_the_login_out(browser, guarded_server) -> None:
    server, _ = guarded_server
    browser.delete_all_cookies()

    def attempt(password: str) -> str:
        browser.get(f"{server}/login")
        browser.find_element(By.ID, "username").send_keys("duyet")
        browser.find_element(By.ID, "password").send_keys(password)
        form = browser.find_element(By.ID, "login")
        form.click()
        wait(browser, EC.staleness_of(form))  # the answer's page, not the form still on screen
        return wait(browser, EC.presence_of_element_located((By.TAG_NAME, "body"))).text

    for number in range(5):
        assert "quá nhiều lần" not in attempt(f"đoán-sai-{number}")
    locked = attempt("mật-khẩu-của-duyệt")  # even the right password, now
    assert "Đăng nhập sai quá nhiều lần. Chờ 5 phút rồi thử lại." in locked
    assert not browser.find_elements(By.ID, "signed-in")
    browser.get(f"{server}/campaigns/{CAMPAIGN}")
    wait(browser, lambda d: "/login" in d.current_url)
    browser.delete_all_cookies()
