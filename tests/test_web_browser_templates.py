"""The templates page in a real headless Chromium: the leadership's Word letter uploaded through the
file field, the recognised parts and the check read on the page, a tag copied from the field picker
onto the clipboard, the picker filtered, the template saved after ticking the confirmation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from outreach.web import create_app
from test_web import make_workspace
from test_web_e2e import ARTIFACTS, CHROMEDRIVER, CHROMIUM, browser, serving, wait  # noqa: F401 (a fixture)
from word_letter import word_letter

selenium = pytest.importorskip("selenium")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium and chromium-driver")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("templates") / "ws")


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[str]:
    with serving(create_app(root)) as address:
        yield address


def test_a_word_letter_becomes_a_template_in_the_browser(browser, server: str, root: Path,  # noqa: F811
                                                        tmp_path: Path) -> None:
    letter = word_letter(tmp_path / "Công văn lãnh đạo.docx")
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": server, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    browser.get(f"{server}/")
    browser.find_element(By.LINK_TEXT, "Mẫu công văn").click()
    wait(browser, EC.title_contains("Mẫu công văn"))
    browser.find_element(By.ID, "letter").send_keys(str(letter))
    browser.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
    wait(browser, EC.presence_of_element_located((By.ID, "recognised")))

    recognised = browser.find_element(By.ID, "recognised").text
    assert "Số: 1234/BHXH-QLT" in recognised and "Số: {{ so_ky_hieu }}" in recognised
    assert "Kính gửi: {{ recipient.salutation }}" in recognised and "{{ signer.name }}" in recognised
    assert browser.find_element(By.ID, "check-result").text.startswith("Mẫu dùng được")

    copy = browser.find_element(By.CSS_SELECTOR, '#field-table tr[data-tag-name="recipient.salutation"] [data-copy]')
    copy.click()
    wait(browser, lambda driver: copy.text == "Đã chép")
    pasted = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], () => arguments[0]('?'))")
    assert pasted == "{{ recipient.salutation }}"

    rows = browser.find_elements(By.CSS_SELECTOR, "#field-table tbody tr")
    browser.find_element(By.ID, "field-filter").send_keys("người ký")
    shown = [row.get_attribute("data-tag-name") for row in rows if row.is_displayed()]
    assert shown and set(shown) <= {"signer.authority", "signer.title", "signer.name"}, shown

    name = browser.find_element(By.ID, "name")
    assert name.get_attribute("value") == "cong-van-lanh-dao"
    browser.find_element(By.CSS_SELECTOR, "#save input[name=confirm]").click()
    browser.find_element(By.CSS_SELECTOR, "#save button[type=submit]").click()
    wait(browser, EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-ok"), "Đã lưu mẫu"))
    assert (root / "templates" / "cong-van-lanh-dao.docx").is_file()
    assert browser.find_element(By.ID, "check-result").text.startswith("Mẫu dùng được")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "templates-saved.png"))


@pytest.mark.parametrize("path", ["/templates", "/templates/files/cong-van-vssid.docx", "/templates/email/vssid-2022"])
def test_the_templates_pages_fit_a_phone_without_sideways_scrolling(browser, server: str, path: str) -> None:  # noqa: F811
    browser.set_window_size(390, 844)
    try:
        browser.get(server + path)
        wait(browser, EC.presence_of_element_located((By.ID, "field-table")))
        width = browser.execute_script("return document.documentElement.scrollWidth")
        viewport = browser.execute_script("return document.documentElement.clientWidth")
        assert width <= viewport, (path, width, viewport)
    finally:
        browser.set_window_size(1400, 1000)
