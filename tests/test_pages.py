"""web.pages: what the campaign and recipient pages show, decided without a request."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace

from outreach.config import parse_config
from outreach.web.pages import CampaignPage, RecipientPage

REPO = Path(__file__).resolve().parent.parent
CONFIG = parse_config(tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8")), REPO)


def row(code: str, audience: str = "employers", state: str = "drafted", district: str = "Huyện Cam Lâm",
        sender: str = "QLT", sha: str = "a", approved: str | None = None, to: tuple[str, ...] = ("x@y.vn",)):
    draft = SimpleNamespace(code=code, audience=audience, district=district, sender=sender, to=to, message_sha256=sha)
    delivery = SimpleNamespace(message_sha256=approved) if approved else None
    return SimpleNamespace(key=f"{audience}/{code}", draft=draft, state=state, delivery=delivery, flags=(),
                           folded=code.casefold(), exact=code.casefold())


ROWS = [row("TA00001", state="sent"), row("TA00002"), row("22333", "communes", district="", sender="TTPT"),
        row("TA00003", state="sent", district="Thành phố Nha Trang")]


def test_the_campaign_page_counts_everything_and_lists_what_the_filters_keep() -> None:
    page = CampaignPage.build(CONFIG.campaign("vssid-2022"), CONFIG.senders(), ROWS, {"state": "sent", "audience": "x"})
    assert page.counts == {"sent": 2, "drafted": 2} and page.selected_counts == {}  # no audience "x"
    page = CampaignPage.build(CONFIG.campaign("vssid-2022"), CONFIG.senders(), ROWS, {"state": "sent"})
    assert [r.draft.code for r in page.page.items] == ["TA00001", "TA00003"] and page.selected_counts == {"sent": 2}
    assert page.audiences == ("employers", "communes")  # config order, only audiences with rows
    assert page.districts == ("Huyện Cam Lâm", "Thành phố Nha Trang") and page.has_no_district
    assert page.departments == (("QLT", "Phòng Quản lý thu"), ("TTPT", "Phòng Truyền thông và Phát triển đối tượng"))
    assert page.base_args == {}


def test_the_recipient_page_steps_through_the_filtered_list() -> None:
    middle = RecipientPage.build(ROWS, ROWS[1], {"audience": "employers"}, view=None)
    assert (middle.position, middle.listed, middle.list_page) == (1, 3, 1)
    assert (middle.previous.draft.code, middle.next.draft.code) == ("TA00001", "TA00003")
    first = RecipientPage.build(ROWS, ROWS[0], {}, view=None)
    assert first.previous is None and first.next is ROWS[1]
    left_out = RecipientPage.build(ROWS, ROWS[2], {"audience": "employers"}, view=None)
    assert left_out.position is None and left_out.previous is None and left_out.next is None


def test_the_recipient_page_warns_when_what_is_on_disk_is_not_what_was_built_or_approved() -> None:
    assert RecipientPage.build(ROWS, ROWS[1], {}, view=None).problems[0].startswith("Không tìm thấy message.eml")
    assert RecipientPage.build(ROWS, row("P1", to=()), {}, view=None).problems == ()  # paper: no message
    changed = RecipientPage.build(ROWS, row("TA9", sha="a", approved="a"), {}, SimpleNamespace(sha256="b"))
    assert len(changed.problems) == 2 and "đã thay đổi" in changed.problems[0] and "duyệt lại" in changed.problems[1]
    assert RecipientPage.build(ROWS, row("TA9", sha="b", approved="b"), {}, SimpleNamespace(sha256="b")).problems == ()


def test_the_campaign_page_counts_each_sending_office_in_config_order() -> None:
    rows = [*ROWS, row("22327", "communes", district="Thành phố Nha Trang", sender="NTR", state="approved"),
            row("so-y-te", "noi_nhan", district="")]
    page = CampaignPage.build(CONFIG.campaign("vssid-2022"), CONFIG.senders(), rows, {"department": "NTR"})
    assert [(g.code, g.name, g.total, dict(g.counts)) for g in page.by_sender] == [
        ("QLT", "Phòng Quản lý thu", 4, {"sent": 2, "drafted": 2}),
        ("TTPT", "Phòng Truyền thông và Phát triển đối tượng", 1, {"drafted": 1}),
        ("NTR", "BHXH thành phố Nha Trang", 1, {"approved": 1})]
    assert [r.draft.code for r in page.page.items] == ["22327"]  # the office's link filters on it
    assert page.audiences == ("employers", "communes", "noi_nhan")  # the Nơi nhận bodies after the lists
