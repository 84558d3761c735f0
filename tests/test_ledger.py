"""The ledger's schema versions: a ledger written by an older version opens, keeps every event, sends nothing twice.

``data/ledger-v0/`` was written by outreach at commit 9f7b0ff (the last version with SMTP-named
columns and no ``user_version``): seven approved drafts, TA00006 revoked, a pause and a resume,
then one ``send --limit 4`` against aiosmtpd (TA00001 sent, TA00002 451 -> retrying, TA00003 550
-> failed, TA00004 cut after the final dot -> uncertain), then TA00007 claimed by a process that
died before the answer (left ``sending``). ``ledger.sql`` is that file's ``iterdump()``; the
outbox beside it holds the manifest and the approved ``message.eml`` files.

``data/ledger-v1/ledger.sql`` is the same ledger opened by outreach at commit a95bdce (schema 1:
channel-neutral columns, the state CHECK without the paper states), where a person then resolved
TA00004 as arrived; its dump, with the ``user_version`` a dump leaves out. It uses the v0 outbox.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from factories import CAMPAIGN, START, FakeMessenger, accepted, config_data
from outreach.accounts import Actor
from outreach.config import parse_config
from outreach.delivery import Attempt, Event, IllegalTransition, Ledger, Outcome, send_campaign
from outreach.delivery.ledger import SCHEMA_VERSION, ApprovalRequest
from outreach.errors import UserError
from outreach.outbox.manifest import read_manifest
from outreach.workspace import Workspace

DATA = Path(__file__).parent / "data"
# version -> (events in it, what each draft's state is once the run below has sent what was due)
WRITTEN = {
    0: (19, {"employers/TA00004": "uncertain"}),
    1: (20, {"employers/TA00004": "sent"}),  # resolved by a person under version 1
    3: (20, {"employers/TA00004": "sent"}),  # version 1's, opened by version 3 (paper states): before bounced
}


def old_workspace(tmp_path: Path, version: int) -> Path:
    root = tmp_path / "work"
    shutil.copytree(DATA / "ledger-v0" / "outbox", root / "outbox")
    with closing(sqlite3.connect(Workspace(root).ledger)) as db:
        db.executescript((DATA / f"ledger-v{version}" / "ledger.sql").read_text(encoding="utf-8"))
    return root


def raw(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:
        return [tuple(row) for row in db.execute(sql)]


def columns(path: Path) -> list[tuple]:
    return raw(path, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('deliveries')")


def schema_objects(path: Path) -> list[tuple]:
    """Every table, index and trigger, by name (autoindexes and SQLite's own tables aside)."""
    return raw(path, "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")


@pytest.mark.parametrize("version", sorted(WRITTEN))
def test_an_older_ledger_is_migrated_keeping_every_row_and_event(tmp_path: Path, version: int) -> None:
    root = old_workspace(tmp_path, version)
    path = Workspace(root).ledger
    assert raw(path, "PRAGMA user_version") == [(version,)]
    events = raw(path, "SELECT * FROM events ORDER BY id")
    code, reply = ("smtp_code", "smtp_reply") if version == 0 else ("code", "reply")
    answers = raw(path, f"SELECT key, state, {code}, {reply} FROM deliveries ORDER BY key")
    approvals = raw(path, "SELECT * FROM approvals ORDER BY id")
    assert len(events) == WRITTEN[version][0] and ("employers/TA00001", "sent", 250) == answers[0][:3]

    with Ledger(path) as ledger:
        assert ledger.events(CAMPAIGN) == [Event(*row) for row in events]
        deliveries = ledger.deliveries(CAMPAIGN)
    assert [(d.key, d.state, d.code, d.reply) for d in sorted(deliveries.values(), key=lambda d: d.key)] == answers
    assert {(d.channel, d.where, d.posted_by, d.posted_on) for d in deliveries.values()} == {("email", "", "", None)}
    assert raw(path, "SELECT * FROM approvals ORDER BY id") == approvals
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]

    with Ledger(tmp_path / "fresh.sqlite"):
        pass
    assert columns(path) == columns(tmp_path / "fresh.sqlite")  # migrated = created new, column for column
    events_columns = "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('events')"
    assert raw(path, events_columns) == raw(tmp_path / "fresh.sqlite", events_columns)  # login, source added
    assert schema_objects(path) == schema_objects(tmp_path / "fresh.sqlite")  # indexes and triggers kept
    with closing(sqlite3.connect(path)) as db:  # the events are still append-only
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE events SET actor = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM events")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # the CHECK is the new one, not none
            db.execute("UPDATE deliveries SET state = 'lost'")

    with Ledger(path) as again:  # opening a migrated ledger changes nothing
        assert again.events(CAMPAIGN) == [Event(*row) for row in events]


@pytest.mark.parametrize("version", sorted(WRITTEN))
def test_a_migrated_ledger_sends_only_what_was_still_due(tmp_path: Path, version: int) -> None:
    root = old_workspace(tmp_path, version)
    config = parse_config(config_data(1), root)
    manifest = read_manifest(root, CAMPAIGN)  # written before channels: derived, all e-mail
    assert {d.channel for d in manifest.drafts} == {"email"}
    messenger = FakeMessenger(accepted)
    later = START + dt.timedelta(hours=1)

    with Ledger.open(root) as ledger:
        first = send_campaign(config, manifest, ledger, messengers={"email": messenger}, clock=lambda: later)
        second = send_campaign(config, manifest, ledger, messengers={"email": messenger}, clock=lambda: later)
        states = {key: d.state for key, d in ledger.deliveries(CAMPAIGN).items()}

    assert first.interrupted == ["employers/TA00007"]  # died mid-send under the old version: a person decides
    assert first.sent == ["employers/TA00002", "employers/TA00005"] and second.sent == []
    assert messenger.handed_keys() == ["employers/TA00002", "employers/TA00005"]
    assert states == {"employers/TA00001": "sent", "employers/TA00002": "sent", "employers/TA00003": "failed",
                      "employers/TA00004": "uncertain", "employers/TA00005": "sent", "employers/TA00006": "revoked",
                      "employers/TA00007": "uncertain", **WRITTEN[version][1]}


def test_a_migrated_ledger_takes_letters_on_paper_to_the_post(tmp_path: Path) -> None:
    path = Workspace(old_workspace(tmp_path, 1)).ledger
    key, at = "employers/TA09999", START + dt.timedelta(hours=1)
    with Ledger(path) as ledger:
        ledger.approve(CAMPAIGN, [ApprovalRequest(key, "QLT", "ab" * 32, "paper")], Actor("Nguyễn Thị Duyệt"), at)
        ledger.claim(CAMPAIGN, key, Attempt("paper", "", (), (), {"letter.pdf": "ab" * 32}), at)
        assert ledger.finish(CAMPAIGN, key, Outcome("sent", None, "xếp vào bản in", "paper/lo-in-01-QLT.pdf, trang 1"),
                             at) == "printed"
        (posted,) = ledger.post(CAMPAIGN, [key], Actor("Lê Văn Bưu"), dt.date(2023, 1, 9), at)
        assert (posted.state, posted.posted_by, posted.posted_on, posted.where) == (
            "posted", "Lê Văn Bưu", "2023-01-09", "paper/lo-in-01-QLT.pdf, trang 1")
        with pytest.raises(IllegalTransition, match="'đã gửi bưu điện' sang 'đã gửi bưu điện'"):
            ledger.post(CAMPAIGN, [key], Actor("Lê Văn Bưu"), dt.date(2023, 1, 9), at)  # never twice
        with pytest.raises(IllegalTransition, match="'đã gửi' sang 'đã gửi bưu điện'"):
            ledger.post(CAMPAIGN, ["employers/TA00001"], Actor("Lê Văn Bưu"), dt.date(2023, 1, 9), at)  # e-mailed
        assert [e.to_state for e in ledger.events(CAMPAIGN, key)] == ["approved", "sending", "printed", "posted"]


def test_a_ledger_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path):
        pass
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]  # a new ledger starts at the current one
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(UserError, match="phiên bản outreach mới hơn"):
        Ledger(path)
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION + 1,)]
