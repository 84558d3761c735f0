"""Section 9 in full through the real pipeline (LibreOffice included) on a copy of the sample folder:
a district office that sends to the communes of its area builds their messages with its own From,
and the schedule follows its calendar; the province's department keeps the other communes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from outreach.accounts import Actor
from outreach.cli import main
from outreach.config import load_config
from outreach.outbox import issue_document_number, read_manifest
from outreach.outbox.messages import parse_message
from outreach.schedule import schedule_plan
from outreach.workspace import init_workspace

CAMPAIGN = "vssid-2022"
NHA_TRANG_COMMUNES, CAM_RANH_COMMUNE = ["22327", "22330"], "22408"
NTR_SCHEDULE = """
[district_offices.NTR.schedule]
days = ["T3", "T5"]
windows = ["14:00-15:00"]
daily_quota = 40
"""


@pytest.fixture
def office(tmp_path: Path) -> Path:
    root = tmp_path / "office"
    init_workspace(root)
    config = root / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        "[district_offices.NTR]\n", '[district_offices.NTR]\nsends_to = ["communes", "collection_agents", "employers"]\n')
    config.write_text(text + NTR_SCHEDULE, encoding="utf-8")
    return root


def outreach(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


def test_an_office_sending_to_its_communes_builds_them_with_its_from_and_sends_them_on_its_calendar(office):
    issue_document_number(load_config(office), CAMPAIGN, dt.date(2031, 3, 3), Actor("Lê Văn Thư"))
    assert outreach(office, "build", CAMPAIGN, "--only", *NHA_TRANG_COMMUNES, CAM_RANH_COMMUNE) == 0
    drafts = {d.code: d for d in read_manifest(office, CAMPAIGN).drafts}
    assert {code: d.sender for code, d in drafts.items()} == {"22327": "NTR", "22330": "NTR", "22408": "TTPT"}
    senders = {code: parse_message(drafts[code].eml_path(office).read_bytes())["From"].addresses[0].addr_spec
               for code in drafts}
    assert senders == {"22327": "nhatrang@bhxh-khanhhoa.example.vn", "22330": "nhatrang@bhxh-khanhhoa.example.vn",
                       "22408": "phongttpt@bhxh-khanhhoa.example.vn"}

    assert outreach(office, "approve", CAMPAIGN, "--by", "Trần Văn Duyệt", "--all") == 0
    monday = dt.datetime(2031, 3, 3, 8, 0)  # office time; NTR works Tuesdays and Thursdays, 14:00-15:00
    plan = schedule_plan(load_config(office), monday, days=3)
    ntr = next(s for s in plan.senders if s.code == "NTR")
    assert (ntr.days, ntr.windows, ntr.daily_quota) == ("T3, T5", "14:00–15:00", 40)
    by_sender = {(c.sender, c.approved) for c in plan.campaigns}
    assert by_sender == {("NTR", 2), ("TTPT", 1)}
    ntr_days = [(p.day, p.expected.get(CAMPAIGN, 0)) for p in plan.day_plans if p.sender == "NTR"]
    assert ntr_days == [(dt.date(2031, 3, 3), 0), (dt.date(2031, 3, 4), 2), (dt.date(2031, 3, 5), 0)]
