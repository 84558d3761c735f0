"""In a real headless Chromium: a list with a bad row uploaded into a second campaign, its report
seen before anything changes, accepted; the earlier campaign's letters are untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from test_campaign_lists import (
    BAD,
    GOOD,
    SECOND,
    codes,
    employers_xlsx,
    second_campaign,
)
from test_web import CAMPAIGN, build_workspace

# The browser and the server over this module's own working folder (``root``, below).
from test_web_e2e import (  # noqa: F401 (fixtures)
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    flash_after,
    server,
    shot,
    wait,
)

from outreach.outbox.manifest import read_manifest

selenium = pytest.importorskip("selenium")
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium and chromium-driver")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_workspace(tmp_path_factory.mktemp("e2e-lists") / "ws")
    second_campaign(root)
    return root


def letters(root: Path) -> dict[str, str]:
    """Every file of the earlier campaign's outbox, by its sha256."""
    folder = root / "outbox" / CAMPAIGN
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_list_with_a_bad_row_is_reported_then_accepted_into_its_campaign_only(root, server, browser, tmp_path):  # noqa: F811
    before, shared = letters(root), codes(root, CAMPAIGN)
    drafts = [d.key for d in read_manifest(root, CAMPAIGN).drafts]
    upload = employers_xlsx(tmp_path / "Danh sách 2023.xlsx", [*GOOD, BAD])

    browser.get(f"{server}/campaigns/{SECOND}")
    browser.find_element(By.ID, "lists-link").click()
    wait(browser, EC.presence_of_element_located((By.ID, "upload-form")))
    assert browser.find_element(By.CSS_SELECTOR, '#sources tr[data-audience="employers"]').get_attribute(
        "data-own") == "no"
    Select(browser.find_element(By.ID, "upload-audience")).select_by_value("employers")
    browser.find_element(By.ID, "upload-file").send_keys(str(upload))
    browser.find_element(By.ID, "upload").click()

    summary = wait(browser, EC.presence_of_element_located((By.ID, "summary")))
    assert (summary.get_attribute("data-valid"), summary.get_attribute("data-rejected")) == ("2", "1")
    problems = browser.find_element(By.ID, "problems").text
    assert "ketoan@@saithu.example.vn" in problems
    assert not (root / "recipients" / SECOND / "employers.xlsx").exists()  # seen, not yet taken in
    shot(browser, "list-upload-report")

    browser.find_element(By.ID, "by-accept").send_keys("Phạm Văn Soạn")
    flash = flash_after(browser, lambda: (browser.find_element(By.ID, "accept").click(),
                                          wait(browser, EC.alert_is_present()).accept()))
    assert "Đã nhận danh sách làm bản 1" in flash.text and "1 dòng bị loại" in flash.text
    version = browser.find_element(By.CSS_SELECTOR, '#versions tr[data-version="1"]').text
    assert "Phạm Văn Soạn" in version and f"recipients/{SECOND}/versions/1-employers.xlsx" in version
    assert browser.find_element(By.CSS_SELECTOR, '#sources tr[data-audience="employers"]').get_attribute(
        "data-own") == "yes"
    shot(browser, "list-accepted")

    assert codes(root, SECOND) == {"AB12345", "CD67890"}
    assert codes(root, CAMPAIGN) == shared and letters(root) == before  # the earlier campaign: not a byte changed
    browser.get(f"{server}/campaigns/{CAMPAIGN}")
    shown = [row.get_attribute("data-key") for row in browser.find_elements(By.CSS_SELECTOR, "#recipients tbody tr")]
    assert sorted(shown) == sorted(drafts)
