"""Section 9 in full through the real pipeline (LibreOffice included) on a copy of the sample folder:
a district office that sends to the communes of its area builds their messages with its own From,
the schedule follows its calendar, and what staff read (schedule show, status, the delivery report,
the campaign page) is grouped by the office that sends."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from outreach.accounts import Actor
from outreach.cli import main
from outreach.config import load_config
from outreach.outbox import issue_document_number, read_manifest
from outreach.outbox.messages import parse_message
from outreach.schedule import schedule_plan, show_schedule
from outreach.web import create_app
from outreach.workspace import init_workspace
from test_web import Staff

CAMPAIGN = "vssid-2022"
NHA_TRANG_COMMUNES, CAM_RANH_COMMUNE = ["22327", "22330"], "22408"
NTR_SCHEDULE = """
[district_offices.NTR.schedule]
days = ["T3", "T5"]
windows = ["14:00-15:00"]
daily_quota = 40
"""
MONDAY = dt.datetime(2031, 3, 3, 8, 0)  # office time; NTR works Tuesdays and Thursdays, 14:00-15:00


def outreach(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample folder with NTR sending as section 9 says, three communes built and approved."""
    root = tmp_path_factory.mktemp("district") / "office"
    init_workspace(root)
    config = root / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        "[district_offices.NTR]\n", '[district_offices.NTR]\nsends_to = ["communes", "collection_agents", "employers"]\n')
    config.write_text(text + NTR_SCHEDULE, encoding="utf-8")
    issue_document_number(load_config(root), CAMPAIGN, dt.date(2031, 3, 3), Actor("Lê Văn Thư"))
    assert outreach(root, "build", CAMPAIGN, "--only", *NHA_TRANG_COMMUNES, CAM_RANH_COMMUNE) == 0
    assert outreach(root, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0
    return root


def test_the_communes_of_an_office_that_sends_to_them_carry_its_from(office):
    drafts = {d.code: d for d in read_manifest(office, CAMPAIGN).drafts}
    assert {code: d.sender for code, d in drafts.items()} == {"22327": "NTR", "22330": "NTR", "22408": "TTPT"}
    senders = {code: parse_message(drafts[code].eml_path(office).read_bytes())["From"].addresses[0].addr_spec
               for code in drafts}
    assert senders == {"22327": "nhatrang@bhxh-khanhhoa.example.vn", "22330": "nhatrang@bhxh-khanhhoa.example.vn",
                       "22408": "phongttpt@bhxh-khanhhoa.example.vn"}


def test_they_are_sent_on_the_offices_calendar(office):
    plan = schedule_plan(load_config(office), MONDAY, days=3)
    ntr = next(s for s in plan.senders if s.code == "NTR")
    assert (ntr.days, ntr.windows, ntr.daily_quota) == ("T3, T5", "14:00–15:00", 40)
    assert {(c.sender, c.approved) for c in plan.campaigns} == {("NTR", 2), ("TTPT", 1)}
    ntr_days = [(p.day, p.expected.get(CAMPAIGN, 0)) for p in plan.day_plans if p.sender == "NTR"]
    assert ntr_days == [(dt.date(2031, 3, 3), 0), (dt.date(2031, 3, 4), 2), (dt.date(2031, 3, 5), 0)]

    text = show_schedule(load_config(office), MONDAY, days=3)
    section = text.split("BHXH thành phố Nha Trang (NTR): ")[1].split("\n\n")[0]
    assert section.startswith("làm việc T3, T5; khung giờ 14:00–15:00") and "T3 04/03/2031  14:00–15:00" in section
    assert "    NTR: đã gửi 0, chờ gửi 2." in text and "    TTPT: đã gửi 0, chờ gửi 1." in text


def test_status_and_the_delivery_report_group_the_letters_by_sending_office(office, tmp_path, capsys):
    assert outreach(office, "status", CAMPAIGN) == 0
    status = capsys.readouterr().out
    by_sender = status.split("Theo cơ quan gửi:\n")[1].split("Theo nhóm:")[0]
    assert by_sender == ("  BHXH thành phố Nha Trang (NTR): đã duyệt, chờ gửi 2\n"
                         "  Phòng Truyền thông và Phát triển đối tượng (TTPT): đã duyệt, chờ gửi 1\n")

    assert outreach(office, "report", CAMPAIGN, "--xlsx", str(tmp_path / "bao-cao.xlsx")) == 0
    book = load_workbook(tmp_path / "bao-cao.xlsx")
    rows = list(book["Gửi thư"].iter_rows(values_only=True))
    column = rows[0].index("Cơ quan gửi")
    # Grouped by office, in config order: the department first, then the district office.
    assert [(row[0], row[column]) for row in rows[1:]] == [
        ("22408", "Phòng Truyền thông và Phát triển đối tượng (TTPT)"),
        ("22327", "BHXH thành phố Nha Trang (NTR)"), ("22330", "BHXH thành phố Nha Trang (NTR)")]
    summary = list(book["Theo cơ quan gửi"].iter_rows(values_only=True))
    assert summary == [("Cơ quan gửi", "Số thư", "đã duyệt, chờ gửi"),
                       ("Phòng Truyền thông và Phát triển đối tượng (TTPT)", 1, 1),
                       ("BHXH thành phố Nha Trang (NTR)", 2, 2)]


def test_the_campaign_page_counts_each_sending_office_and_filters_by_it(office):
    staff = Staff(create_app(office, testing=True))
    page = staff.page(f"/campaigns/{CAMPAIGN}")
    table = page.split('id="by-sender"')[1].split("</section>")[0]
    offices = re.findall(r'<tr data-sender="(\w+)">\s*<td><a href="([^"]+)">([^<]+)</a></td>\s*<td>(\d+)</td>', table)
    assert [(code, name, total) for code, _, name, total in offices] == [
        ("TTPT", "Phòng Truyền thông và Phát triển đối tượng", "1"), ("NTR", "BHXH thành phố Nha Trang", "2")]
    filtered = staff.page(offices[1][1].replace("&amp;", "&"))
    assert sorted(re.findall(r'<tr data-key="([^"]+)"', filtered)) == ["communes/22327", "communes/22330"]
