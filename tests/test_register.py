"""Register (sổ văn bản đi): one number per campaign, per-year sequence, numbers never reused."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from outreach.accounts import Actor
from outreach.config import load_config
from outreach.errors import UserError
from outreach.letters import build_context
from outreach.letters.register import Register

REPO = Path(__file__).resolve().parent.parent
DAY = dt.date(2023, 1, 5)
BY = Actor("Lê Văn Thư", "vanthu", "web 192.0.2.7")


@pytest.fixture
def register(tmp_path):
    return Register(tmp_path / "outbox" / "register.sqlite")


def test_numbers_follow_in_sequence_and_format_with_leading_zero(register):
    numbers = [register.issue(f"c{i}", "BHXH-QLT", DAY, f"Việc {i}", BY).number for i in range(1, 6)]
    assert numbers == [1, 2, 3, 4, 5]
    config = load_config(REPO)
    entry = register.entry_for("c5")
    context = build_context(config, config.campaign("vssid-2022"), None, entry.number, entry.issued_on)
    assert context.so_ky_hieu == "05/BHXH-QLT" and context.ngay_thang == "ngày 05 tháng 01 năm 2023"


def test_same_campaign_keeps_its_number(register, tmp_path):
    first = register.issue("vssid-2022", "BHXH-QLT", DAY, "đôn đốc", BY)
    register.issue("other", "BHXH-QLT", DAY, "khác", BY)
    again = Register(tmp_path / "outbox" / "register.sqlite").issue("vssid-2022", "BHXH-QLT", dt.date(2023, 2, 1), "x", BY)
    assert again == first and again.number == 1 and again.issued_on == DAY
    assert register.entry_for("vssid-2022") == first
    assert register.entry_for("unknown") is None


def test_the_register_records_who_issued_each_number(register, tmp_path):
    register.issue("a", "BHXH-QLT", DAY, "a", BY)
    register.issue("a", "BHXH-QLT", DAY, "a", Actor("Người khác"))  # the number it has: issued by the first
    (entry,) = register.entries()
    assert (entry.issued_by, entry.issued_login, entry.issued_source) == ("Lê Văn Thư", "vanthu", BY.source)
    issued = dt.datetime.fromisoformat(entry.issued_at)
    assert abs((dt.datetime.now(dt.timezone.utc) - issued).total_seconds()) < 60  # when, beside the letter's day
    assert entry == register.entry_for("a")
    cancelled = register.cancel("a", "ghi nhầm trích yếu")
    renewed = register.issue("a", "BHXH-QLT", DAY, "a", Actor("Người khác", "khac", "web 192.0.2.9"))
    assert register.history("a") == [cancelled, renewed] and cancelled.cancelled_at and renewed.number == 2


def test_a_register_from_before_issuers_were_recorded_keeps_its_entries(tmp_path):
    import sqlite3
    from contextlib import closing

    path = tmp_path / "outbox" / "register.sqlite"
    path.parent.mkdir()
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript("""CREATE TABLE entries (year INTEGER NOT NULL, issuer TEXT NOT NULL, number INTEGER NOT NULL,
            ky_hieu TEXT NOT NULL, campaign TEXT NOT NULL, issued_on TEXT NOT NULL, subject TEXT NOT NULL,
            cancelled_at TEXT, cancel_reason TEXT NOT NULL DEFAULT '', PRIMARY KEY (year, issuer, number));
            INSERT INTO entries VALUES (2023, 'BHXH', 1, 'BHXH-QLT', 'old', '2023-01-02', 'cũ', NULL, '');""")
    register = Register(path)
    assert [(e.number, e.campaign, e.issued_by) for e in register.entries()] == [(1, "old", "")]
    assert register.issue("new", "BHXH-QLT", DAY, "mới", BY).number == 2
    assert Register(path).entry_for("new").issued_by == "Lê Văn Thư"


def test_ky_hieu_of_one_issuer_share_the_sequence(register):
    assert register.issue("a", "BHXH-QLT", DAY, "a", BY).number == 1
    assert register.issue("b", "BHXH-TTPT", DAY, "b", BY).number == 2
    assert register.issue("c", "SYT-NV", DAY, "c", BY).number == 1  # another issuer, its own sequence


def test_new_year_restarts_at_one(register):
    register.issue("a", "BHXH-QLT", dt.date(2022, 12, 30), "a", BY)
    register.issue("b", "BHXH-QLT", dt.date(2022, 12, 31), "b", BY)
    entry = register.issue("c", "BHXH-QLT", dt.date(2023, 1, 3), "c", BY)
    assert (entry.number, entry.year) == (1, 2023)
    assert [e.campaign for e in register.entries(2022)] == ["a", "b"]
    assert [e.campaign for e in register.entries()] == ["a", "b", "c"]


def test_cancelled_numbers_are_never_reused(register):
    register.issue("a", "BHXH-QLT", DAY, "a", BY)
    register.issue("b", "BHXH-QLT", DAY, "b", BY)
    cancelled = register.cancel("b", "Sai trích yếu")
    assert cancelled.cancelled and cancelled.number == 2
    assert register.entry_for("b") is None
    assert register.issue("c", "BHXH-QLT", DAY, "c", BY).number == 3
    reissued = register.issue("b", "BHXH-QLT", DAY, "b sửa", BY)
    assert reissued.number == 4
    listing = [(e.campaign, e.number, e.cancelled, e.cancel_reason) for e in register.entries(2023)]
    assert listing == [("a", 1, False, ""), ("b", 2, True, "Sai trích yếu"), ("c", 3, False, ""), ("b", 4, False, "")]


def test_cancel_without_a_number_is_a_user_error(register):
    with pytest.raises(UserError, match="chưa được cấp số"):
        register.cancel("khong-co", "x")


def test_concurrent_issues_get_distinct_numbers(tmp_path):
    path = tmp_path / "register.sqlite"
    Register(path)
    results, errors = [], []

    def worker(index: int) -> None:
        try:
            own = Register(path)  # a connection per thread, as separate processes would have
            for round_ in range(5):
                results.append(own.issue(f"c{index}-{round_}", "BHXH-QLT", DAY, "x", BY).number)
                own.issue(f"c{index}-{round_}", "BHXH-QLT", DAY, "x", BY)  # repeat: same number, nothing new
        except Exception as error:  # surfaced below; a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == list(range(1, 41))
