"""The register of outgoing documents (sổ văn bản đi): one number per campaign, SQLite.

Decree 30: numbers restart at 1 on 1 January and a number with its ký hiệu is unique within the
year. All ký hiệu of one issuer (``BHXH-QLT``, ``BHXH-TTPT``) share the issuer's sequence, so the
sequence is kept per (year, issuer prefix). A number once taken is never given again, even when its
entry is cancelled: the cancelled row stays in the register. Each entry records who issued it (name,
account login, origin) and when; a register from before that gets the columns, empty, when first opened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from ..accounts import Actor
from ..errors import UserError
from ..sqlitedb import transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    year          INTEGER NOT NULL,
    issuer        TEXT    NOT NULL,  -- the ký hiệu before the first '-', e.g. BHXH
    number        INTEGER NOT NULL,
    ky_hieu       TEXT    NOT NULL,
    campaign      TEXT    NOT NULL,
    issued_on     TEXT    NOT NULL,  -- ISO date
    subject       TEXT    NOT NULL,
    cancelled_at  TEXT,
    cancel_reason TEXT    NOT NULL DEFAULT '',
    issued_by     TEXT    NOT NULL DEFAULT '',  -- the person's full name
    issued_login  TEXT    NOT NULL DEFAULT '',  -- their account, when staff accounts exist
    issued_source TEXT    NOT NULL DEFAULT '',  -- "web 192.0.2.7", "cli nva"
    issued_at     TEXT    NOT NULL DEFAULT '',  -- when (UTC ISO-8601); the day on the letter is issued_on
    PRIMARY KEY (year, issuer, number)
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_number_per_campaign ON entries (campaign) WHERE cancelled_at IS NULL;
"""

_COLUMNS = ("number, year, ky_hieu, campaign, issued_on, subject, cancel_reason, cancelled_at, issued_by, issued_login, "
            "issued_source, issued_at")
_ADDED = ("issued_by", "issued_login", "issued_source", "issued_at")  # columns a register from before them lacks


@dataclass(frozen=True)
class RegisterEntry:
    number: int
    year: int
    ky_hieu: str
    campaign: str
    issued_on: dt.date
    subject: str
    cancel_reason: str = ""
    cancelled: bool = False
    issued_by: str = ""
    issued_login: str = ""
    issued_source: str = ""
    issued_at: str = ""  # "" in a register from before it was recorded
    cancelled_at: str = ""


def _entry(row: tuple) -> RegisterEntry:
    number, year, ky_hieu, campaign, issued_on, subject, reason, cancelled_at, by, login, source, at = row
    return RegisterEntry(number, year, ky_hieu, campaign, dt.date.fromisoformat(issued_on), subject,
                         reason, cancelled_at is not None, by, login, source, at, cancelled_at or "")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Register:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=30)) as db:
            db.executescript(_SCHEMA)
        with transaction(self.path) as db:
            present = {row[1] for row in db.execute("PRAGMA table_info(entries)")}
            for column in _ADDED:
                if column not in present:
                    db.execute(f"ALTER TABLE entries ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")

    def issue(self, campaign: str, ky_hieu: str, issued_on: dt.date, subject: str, by: Actor) -> RegisterEntry:
        """The campaign's number: the existing one, else the next of the issuer's sequence for that year,
        recorded as issued by ``by``."""
        with transaction(self.path) as db:
            existing = self._live(db, campaign)
            if existing is not None:
                return existing
            issuer = ky_hieu.split("-", 1)[0]
            (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM entries WHERE year = ? AND issuer = ?",
                                 (issued_on.year, issuer)).fetchone()
            at = _now()
            db.execute("INSERT INTO entries (year, issuer, number, ky_hieu, campaign, issued_on, subject, issued_by, "
                       "issued_login, issued_source, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (issued_on.year, issuer, last + 1, ky_hieu, campaign, issued_on.isoformat(), subject,
                        by.name, by.login, by.source, at))
            return RegisterEntry(last + 1, issued_on.year, ky_hieu, campaign, issued_on, subject,
                                 issued_by=by.name, issued_login=by.login, issued_source=by.source, issued_at=at)

    def cancel(self, campaign: str, reason: str) -> RegisterEntry:
        """Withdraw the campaign's number; the number stays taken, and a new issue gets a new number."""
        with transaction(self.path) as db:
            entry = self._live(db, campaign)
            if entry is None:
                raise UserError(f"Chiến dịch '{campaign}' chưa được cấp số văn bản (hoặc số đã bị hủy), "
                                "không có gì để hủy. Cách sửa: kiểm tra tên chiến dịch.")
            db.execute("UPDATE entries SET cancelled_at = ?, cancel_reason = ? WHERE campaign = ? "
                       "AND cancelled_at IS NULL",
                       (at := _now(), reason, campaign))
            return dataclasses.replace(entry, cancel_reason=reason, cancelled=True, cancelled_at=at)

    def entry_for(self, campaign: str) -> RegisterEntry | None:
        with transaction(self.path, write=False) as db:
            return self._live(db, campaign)

    def history(self, campaign: str) -> list[RegisterEntry]:
        """Every number the campaign was given, cancelled ones included, oldest first."""
        with transaction(self.path, write=False) as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM entries WHERE campaign = ? ORDER BY year, number",
                              (campaign,)).fetchall()
        return [_entry(row) for row in rows]

    def entries(self, year: int | None = None) -> list[RegisterEntry]:
        """The register in number order, cancelled entries included (they keep their numbers)."""
        with transaction(self.path, write=False) as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM entries WHERE ? IS NULL OR year = ? "
                              "ORDER BY year, issuer, number", (year, year)).fetchall()
        return [_entry(row) for row in rows]

    @staticmethod
    def _live(db: sqlite3.Connection, campaign: str) -> RegisterEntry | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM entries WHERE campaign = ? AND cancelled_at IS NULL",
                         (campaign,)).fetchone()
        return _entry(row) if row else None
