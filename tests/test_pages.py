"""web.pages: what the campaign and recipient pages show, decided without a request."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from types import SimpleNamespace

from outreach.config import parse_config
from outreach.delivery import Event
from outreach.letters import RegisterEntry
from outreach.web.pages import AuditPage, CampaignPage, RecipientPage

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


def event(id: int, at: str, key: str, before: str | None, after: str, actor: str, login: str = "", source: str = "",
          detail: str = "") -> Event:
    return Event(id, f"2023-01-05T{at}:00.000+00:00", "vssid-2022", key, before, after, actor, detail, login, source)


AUDIT_EVENTS = [
    event(1, "01:00", "", None, "built", "Phạm Văn Soạn", "soan", "web 192.0.2.10", "mọi người nhận"),
    event(2, "03:00", "employers/TA00001", None, "approved", "Nguyễn Thị Duyệt", "duyet", "web 192.0.2.11", "sha256 a"),
    event(3, "03:30", "", None, "signed", "nva", "", "cli nva", "Cơ quan: 1 thư"),
    event(4, "04:00", "employers/TA00001", "approved", "sending", "outreach"),
    event(5, "04:01", "employers/TA00001", "sending", "uncertain", "outreach", detail="mất kết nối"),
    event(6, "05:00", "employers/TA00001", "uncertain", "sent", "Lê Thị Văn Thư", "vanthu", "cli root", "đã gọi điện"),
    event(7, "06:00", "", None, "paused", "Lê Thị Văn Thư", "vanthu", "web 192.0.2.12", "chờ sửa"),
]
ISSUES = [
    RegisterEntry(4, 2023, "BHXH-QLT", "vssid-2022", dt.date(2023, 1, 4), "đôn đốc", "ghi nhầm", True, "Cũ", "",
                  "", "", "2023-01-05T01:30:00+00:00"),  # from before issue times were kept: only its day
    RegisterEntry(5, 2023, "BHXH-QLT", "vssid-2022", dt.date(2023, 1, 5), "đôn đốc", issued_by="Lê Thị Văn Thư",
                  issued_login="vanthu", issued_source="web 192.0.2.12", issued_at="2023-01-05T02:00:00+00:00"),
]


def test_the_audit_page_lists_every_action_newest_first_with_who_and_where() -> None:
    view = AuditPage.build(AUDIT_EVENTS, ISSUES, {})
    lines = view.page.items
    assert [line.action for line in lines] == [
        "Tạm dừng", "Đã gửi", "Chưa chắc chắn", "Đang gửi", "Ký số", "Đã duyệt", "Cấp số văn bản", "Hủy số văn bản",
        "Tạo bản thảo", "Cấp số văn bản"]  # the old number: its day (04/01, 00:00 office time), so last
    resolved = lines[1]
    assert (resolved.before, resolved.actor, resolved.login, resolved.origin, resolved.detail) == (
        "Chưa chắc chắn", "Lê Thị Văn Thư", "vanthu", "Dòng lệnh, người dùng root", "đã gọi điện")
    approved, issued, oldest = lines[5], lines[6], lines[-1]
    assert (approved.before, approved.key, approved.origin) == ("Chưa duyệt", "employers/TA00001", "Trang web, 192.0.2.11")
    assert (issued.actor, issued.login, issued.origin, issued.exact) == (
        "Lê Thị Văn Thư", "vanthu", "Trang web, 192.0.2.12", True)
    assert issued.detail == "số 05/BHXH-QLT, ngày 05/01/2023"
    assert (oldest.actor, oldest.exact, oldest.at.date()) == ("Cũ", False, dt.date(2023, 1, 4))
    assert lines[3].origin == "" and lines[0].before == ""  # the sending process; the campaign's own event
    assert view.total == 10 and view.actions[0] == "Tạm dừng"


def test_the_audit_page_filters_by_action_and_pages() -> None:
    view = AuditPage.build(AUDIT_EVENTS, ISSUES, {"action": "Cấp số văn bản"})
    assert [line.detail for line in view.page.items] == ["số 05/BHXH-QLT, ngày 05/01/2023",
                                                         "số 04/BHXH-QLT, ngày 04/01/2023"]
    assert AuditPage.build(AUDIT_EVENTS, ISSUES, {"action": "không có"}).action == ""  # unknown: everything
    many = [event(i, "07:00", f"employers/T{i:05d}", None, "approved", "Nguyễn Thị Duyệt") for i in range(250)]
    view = AuditPage.build(many, [], {"page": "3"})
    assert (view.page.number, view.page.pages, len(view.page.items)) == (3, 3, 50)


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
