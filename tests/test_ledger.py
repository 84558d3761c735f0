"""The ledger's schema versions: a ledger written before them opens, keeps every event, sends nothing twice.

``data/ledger-v0/`` was written by outreach at commit 9f7b0ff (the last version with SMTP-named
columns and no ``user_version``): seven approved drafts, TA00006 revoked, a pause and a resume,
then one ``send --limit 4`` against aiosmtpd (TA00001 sent, TA00002 451 -> retrying, TA00003 550
-> failed, TA00004 cut after the final dot -> uncertain), then TA00007 claimed by a process that
died before the answer (left ``sending``). ``ledger.sql`` is that file's ``iterdump()``; the
outbox beside it holds the manifest and the approved ``message.eml`` files.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from factories import CAMPAIGN, START, FakeMessenger, accepted, config_data
from outreach.config import parse_config
from outreach.delivery import Event, Ledger, send_campaign
from outreach.delivery.ledger import SCHEMA_VERSION
from outreach.errors import UserError
from outreach.outbox.manifest import read_manifest
from outreach.workspace import Workspace

V0 = Path(__file__).parent / "data" / "ledger-v0"


def v0_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    shutil.copytree(V0 / "outbox", root / "outbox")
    with closing(sqlite3.connect(Workspace(root).ledger)) as db:
        db.executescript((V0 / "ledger.sql").read_text(encoding="utf-8"))
    return root


def raw(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:
        return [tuple(row) for row in db.execute(sql)]


def columns(path: Path) -> list[tuple]:
    return raw(path, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('deliveries')")


def test_a_ledger_from_before_versions_is_migrated_keeping_every_row_and_event(tmp_path: Path) -> None:
    root = v0_workspace(tmp_path)
    path = Workspace(root).ledger
    assert raw(path, "PRAGMA user_version") == [(0,)]
    events = raw(path, "SELECT * FROM events ORDER BY id")
    answers = raw(path, "SELECT key, state, smtp_code, smtp_reply FROM deliveries ORDER BY key")
    approvals = raw(path, "SELECT * FROM approvals ORDER BY id")
    assert len(events) == 19 and ("employers/TA00001", "sent", 250) == answers[0][:3]

    with Ledger(path) as ledger:
        assert ledger.events(CAMPAIGN) == [Event(*row) for row in events]
        deliveries = ledger.deliveries(CAMPAIGN)
    assert [(d.key, d.state, d.code, d.reply) for d in sorted(deliveries.values(), key=lambda d: d.key)] == answers
    assert {(d.channel, d.where) for d in deliveries.values()} == {("email", "")}
    assert raw(path, "SELECT * FROM approvals ORDER BY id") == approvals
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]

    with Ledger(tmp_path / "fresh.sqlite"):
        pass
    assert columns(path) == columns(tmp_path / "fresh.sqlite")  # migrated = created new, column for column
    events_columns = "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('events')"
    assert raw(path, events_columns) == raw(tmp_path / "fresh.sqlite", events_columns)  # login, source added
    with closing(sqlite3.connect(path)) as db:  # the events are still append-only
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE events SET actor = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM events")

    with Ledger(path) as again:  # opening a migrated ledger changes nothing
        assert again.events(CAMPAIGN) == [Event(*row) for row in events]


def test_a_migrated_ledger_sends_only_what_was_still_due(tmp_path: Path) -> None:
    root = v0_workspace(tmp_path)
    config = parse_config(config_data(1), root)
    manifest = read_manifest(root, CAMPAIGN)
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
                      "employers/TA00007": "uncertain"}


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
