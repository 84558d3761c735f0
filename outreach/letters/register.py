"""The register of outgoing documents (sổ văn bản đi): one number per campaign, SQLite.

Decree 30: numbers restart at 1 on 1 January and a number with its ký hiệu is unique within the
year. All ký hiệu of one issuer (``BHXH-QLT``, ``BHXH-TTPT``) share the issuer's sequence, so the
sequence is kept per (year, issuer prefix). A number once taken is never given again, even when its
entry is cancelled: the cancelled row stays in the register.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import UserError

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
    PRIMARY KEY (year, issuer, number)
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_number_per_campaign ON entries (campaign) WHERE cancelled_at IS NULL;
"""

_COLUMNS = "number, year, ky_hieu, campaign, issued_on, subject, cancel_reason, cancelled_at"


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


def _entry(row: tuple) -> RegisterEntry:
    number, year, ky_hieu, campaign, issued_on, subject, reason, cancelled_at = row
    return RegisterEntry(number, year, ky_hieu, campaign, dt.date.fromisoformat(issued_on), subject,
                         reason, cancelled_at is not None)


class Register:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=30)) as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: two processes issuing at once queue on the write lock, never share a number."""
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def issue(self, campaign: str, ky_hieu: str, issued_on: dt.date, subject: str) -> RegisterEntry:
        """The campaign's number: the existing one, else the next of the issuer's sequence for that year."""
        with self._transaction() as db:
            existing = self._live(db, campaign)
            if existing is not None:
                return existing
            issuer = ky_hieu.split("-", 1)[0]
            (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM entries WHERE year = ? AND issuer = ?",
                                 (issued_on.year, issuer)).fetchone()
            db.execute("INSERT INTO entries (year, issuer, number, ky_hieu, campaign, issued_on, subject) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (issued_on.year, issuer, last + 1, ky_hieu, campaign, issued_on.isoformat(), subject))
            return RegisterEntry(last + 1, issued_on.year, ky_hieu, campaign, issued_on, subject)

    def cancel(self, campaign: str, reason: str) -> RegisterEntry:
        """Withdraw the campaign's number; the number stays taken, and a new issue gets a new number."""
        with self._transaction() as db:
            entry = self._live(db, campaign)
            if entry is None:
                raise UserError(f"Chiến dịch '{campaign}' chưa được cấp số văn bản (hoặc số đã bị hủy), "
                                "không có gì để hủy. Cách sửa: kiểm tra tên chiến dịch.")
            db.execute("UPDATE entries SET cancelled_at = ?, cancel_reason = ? WHERE campaign = ? "
                       "AND cancelled_at IS NULL",
                       (dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), reason, campaign))
            return RegisterEntry(entry.number, entry.year, entry.ky_hieu, entry.campaign, entry.issued_on,
                                 entry.subject, reason, True)

    def entry_for(self, campaign: str) -> RegisterEntry | None:
        with self._transaction(write=False) as db:
            return self._live(db, campaign)

    def entries(self, year: int | None = None) -> list[RegisterEntry]:
        """The register in number order, cancelled entries included (they keep their numbers)."""
        with self._transaction(write=False) as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM entries WHERE ? IS NULL OR year = ? "
                              "ORDER BY year, issuer, number", (year, year)).fetchall()
        return [_entry(row) for row in rows]

    @staticmethod
    def _live(db: sqlite3.Connection, campaign: str) -> RegisterEntry | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM entries WHERE campaign = ? AND cancelled_at IS NULL",
                         (campaign,)).fetchone()
        return _entry(row) if row else None
