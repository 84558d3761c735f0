"""The ledger (``outbox/ledger.sqlite``): the single source of truth for approvals and deliveries.

State of one draft's e-mail (``campaign``, ``key`` = ``audience/code``), operation by operation::

    approve   (none) | approved | retrying | failed | revoked -> approved   (binds the sha256)
    revoke    approved | retrying | failed                     -> revoked
    claim     approved | retrying                              -> sending    (before the first byte)
    finish    sending -> sent       the server accepted the data (250 to the final dot)
                      -> retrying   4xx, or the line failed before the final dot (backoff)
                      -> failed     5xx, or still temporary after the last attempt
                      -> uncertain  the line failed after the final dot, before the reply
    recover   sending -> uncertain  found at start: the sending process died mid-send
    resolve   uncertain -> sent | retrying                      (a person, with a note)

Every change is one ``BEGIN IMMEDIATE`` transaction that checks the current state, updates the row
and appends to ``events`` (append-only: triggers refuse UPDATE and DELETE). WAL mode; approvals,
claims and people's decisions commit with ``synchronous=FULL`` (fsync), so a ``sending`` mark
survives even a power loss and a message is never handed to the server without a durable record
that it may have been. Send outcomes commit with ``NORMAL`` (safe against a crash; a power loss may
lose the last ones, which then reappear as ``sending`` -> ``uncertain``, never as a resend; the
next FULL commit makes them durable too). Times are UTC ISO-8601.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import UserError
from ..workspace import Workspace, send_lock_name
SYSTEM_ACTOR = "outreach"

State = Literal["approved", "sending", "sent", "retrying", "failed", "uncertain", "revoked"]
TRANSITIONS: Mapping[State | None, frozenset[State]] = {
    None: frozenset({"approved"}),
    "approved": frozenset({"approved", "sending", "revoked"}),
    "retrying": frozenset({"approved", "sending", "revoked"}),
    "failed": frozenset({"approved", "revoked"}),
    "revoked": frozenset({"approved"}),
    "sending": frozenset({"sent", "retrying", "failed", "uncertain"}),
    "uncertain": frozenset({"sent", "retrying"}),
    "sent": frozenset(),
}
STATE_LABELS = {
    "drafted": "chưa duyệt",
    "paper": "gửi bản giấy",
    "approved": "đã duyệt, chờ gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "retrying": "đang chờ gửi lại",
    "failed": "thất bại",
    "uncertain": "chưa chắc chắn",
    "revoked": "đã hủy duyệt",
}
FAILURE_STATES = ("retrying", "failed", "uncertain")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    message_sha256 TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT,
    revoke_note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS approvals_active ON approvals (campaign, key) WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS deliveries (
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    sender TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('approved', 'sending', 'sent', 'retrying', 'failed', 'uncertain', 'revoked')),
    approval_id INTEGER NOT NULL REFERENCES approvals (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    message_id TEXT NOT NULL DEFAULT '',
    to_addrs TEXT NOT NULL DEFAULT '[]',
    cc_addrs TEXT NOT NULL DEFAULT '[]',
    smtp_code INTEGER,
    smtp_reply TEXT NOT NULL DEFAULT '',
    started_at TEXT,
    sent_at TEXT,
    file_hashes TEXT NOT NULL DEFAULT '{}',
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (campaign, key)
);
CREATE INDEX IF NOT EXISTS deliveries_by_sender ON deliveries (sender, state, sent_at);

CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_campaign ON events (campaign, key, id);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE IF NOT EXISTS campaigns (
    campaign TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL DEFAULT '',
    changed_at TEXT
);
"""

_DELIVERY_SELECT = """
SELECT d.*, a.message_sha256, a.approved_by, a.approved_at
FROM deliveries d JOIN approvals a ON a.id = d.approval_id
"""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    """UTC ISO-8601 with milliseconds: one format everywhere, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the ledger stores UTC times only")
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


class IllegalTransition(UserError):
    """A state change the state machine does not allow (e.g. approving a message already sent)."""


class CampaignPaused(UserError):
    """Sending refused: the campaign is paused until someone resumes it."""


class SendInProgress(UserError):
    """Another process is sending this campaign."""


class MessageReplaced(UserError):
    """Not claimed: since it was read, `build` replaced the message (the reason is Vietnamese)."""


@dataclass(frozen=True)
class Delivery:
    campaign: str
    key: str
    sender: str
    state: State
    message_sha256: str  # the approved bytes
    approved_by: str
    approved_at: str
    attempts: int
    next_attempt_at: str | None
    message_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    smtp_code: int | None
    smtp_reply: str
    started_at: str | None
    sent_at: str | None
    file_hashes: Mapping[str, str]
    last_error: str
    updated_at: str


@dataclass(frozen=True)
class Approval:
    id: int
    campaign: str
    key: str
    message_sha256: str
    approved_by: str
    approved_at: str
    revoked_by: str | None
    revoked_at: str | None
    revoke_note: str


@dataclass(frozen=True)
class Event:
    id: int
    at: str
    campaign: str
    key: str  # "" for campaign-wide events (pause, resume)
    from_state: str | None
    to_state: str
    actor: str
    detail: str


@dataclass(frozen=True)
class PauseState:
    paused: bool
    reason: str = ""
    changed_by: str = ""
    changed_at: str | None = None


@dataclass(frozen=True)
class ApprovalRequest:
    key: str
    sender: str
    message_sha256: str


@dataclass(frozen=True)
class Attempt:
    """What is about to be handed to the server, recorded before the first byte is sent."""

    message_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    file_hashes: Mapping[str, str]


@dataclass(frozen=True)
class Outcome:
    state: Literal["sent", "retrying", "failed", "uncertain"]
    smtp_code: int | None
    smtp_reply: str
    error: str = ""  # Vietnamese explanation for anything but "sent"
    next_attempt_at: dt.datetime | None = None


class Ledger:
    """One connection to the ledger; safe to use from several processes at once."""

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    @classmethod
    def open(cls, root: Path) -> "Ledger":
        return cls(Workspace(root).ledger)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def delivery(self, campaign: str, key: str) -> Delivery | None:
        row = self._db.execute(f"{_DELIVERY_SELECT} WHERE d.campaign = ? AND d.key = ?", (campaign, key)).fetchone()
        return _delivery(row) if row else None

    def deliveries(self, campaign: str) -> dict[str, Delivery]:
        rows = self._db.execute(f"{_DELIVERY_SELECT} WHERE d.campaign = ?", (campaign,))
        return {row["key"]: _delivery(row) for row in rows}

    def approvals(self, campaign: str, key: str) -> list[Approval]:
        rows = self._db.execute("SELECT * FROM approvals WHERE campaign = ? AND key = ? ORDER BY id", (campaign, key))
        return [Approval(**dict(row)) for row in rows]

    def events(self, campaign: str, key: str | None = None) -> list[Event]:
        if key is None:
            rows = self._db.execute("SELECT * FROM events WHERE campaign = ? ORDER BY id", (campaign,))
        else:
            rows = self._db.execute("SELECT * FROM events WHERE campaign = ? AND key = ? ORDER BY id", (campaign, key))
        return [Event(**dict(row)) for row in rows]

    def sent_count(self, sender: str, since: dt.datetime, until: dt.datetime) -> int:
        """Messages of this sender (all campaigns) accepted by the server in [since, until)."""
        row = self._db.execute(
            "SELECT count(*) FROM deliveries WHERE sender = ? AND state = 'sent' AND sent_at >= ? AND sent_at < ?",
            (sender, iso(since), iso(until)),
        ).fetchone()
        return int(row[0])

    def state_counts(self, campaign: str) -> dict[tuple[str, str], int]:
        """(sender, state) -> how many messages: summaries that need no row loaded (scheduler, calendar)."""
        rows = self._db.execute(
            "SELECT sender, state, count(*) FROM deliveries WHERE campaign = ? GROUP BY sender, state", (campaign,))
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def last_started_at(self, sender: str) -> dt.datetime | None:
        """When this sender last handed a message to its server, in any campaign (for the rate limit)."""
        row = self._db.execute("SELECT max(started_at) FROM deliveries WHERE sender = ?", (sender,)).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row[0] else None

    def consecutive_failures(self, campaign: str) -> int:
        """Send outcomes since the last success (or the last resume) that were not a success."""
        rows = self._db.execute(
            """SELECT to_state FROM events WHERE campaign = ? AND id > coalesce(
                   (SELECT max(id) FROM events WHERE campaign = ? AND key = '' AND to_state = 'resumed'), 0)
               AND from_state = 'sending' ORDER BY id DESC""",
            (campaign, campaign),
        )
        count = 0
        for row in rows:
            if row[0] not in FAILURE_STATES:
                break
            count += 1
        return count

    def pause_state(self, campaign: str) -> PauseState:
        return self._pause_row(self._db, campaign)

    # ------------------------------------------------------------------ approvals

    def approve(self, campaign: str, requests: Sequence[ApprovalRequest], by: str, now: dt.datetime) -> list[Delivery]:
        """Approve exact bytes (all or none). A new approval of the same key replaces the old one."""
        at = iso(now)
        with self._write() as db:
            for request in requests:
                current = self._state(db, campaign, request.key)
                _check(campaign, request.key, current, "approved")
                db.execute(
                    "UPDATE approvals SET revoked_by = ?, revoked_at = ?, revoke_note = ? "
                    "WHERE campaign = ? AND key = ? AND revoked_at IS NULL",
                    (by, at, "thay bằng lần duyệt mới", campaign, request.key),
                )
                approval_id = db.execute(
                    "INSERT INTO approvals (campaign, key, message_sha256, approved_by, approved_at) VALUES (?, ?, ?, ?, ?)",
                    (campaign, request.key, request.message_sha256, by, at),
                ).lastrowid
                db.execute(
                    """INSERT INTO deliveries (campaign, key, sender, state, approval_id, updated_at)
                       VALUES (?, ?, ?, 'approved', ?, ?)
                       ON CONFLICT (campaign, key) DO UPDATE SET sender = excluded.sender, state = 'approved',
                           approval_id = excluded.approval_id, attempts = 0, next_attempt_at = NULL,
                           last_error = '', updated_at = excluded.updated_at""",
                    (campaign, request.key, request.sender, approval_id, at),
                )
                _event(db, at, campaign, request.key, current, "approved", by, f"sha256 {request.message_sha256}")
        return [self._must(campaign, r.key) for r in requests]

    def revoke(self, campaign: str, keys: Sequence[str], by: str, note: str, now: dt.datetime) -> list[Delivery]:
        at = iso(now)
        with self._write() as db:
            for key in keys:
                current = self._state(db, campaign, key)
                _check(campaign, key, current, "revoked")
                db.execute(
                    "UPDATE approvals SET revoked_by = ?, revoked_at = ?, revoke_note = ? "
                    "WHERE campaign = ? AND key = ? AND revoked_at IS NULL",
                    (by, at, note, campaign, key),
                )
                self._set(db, campaign, key, current, "revoked", by, note, at, {"next_attempt_at": None})
        return [self._must(campaign, key) for key in keys]

    # ------------------------------------------------------------------ sending

    def claim(self, campaign: str, key: str, attempt: Attempt, now: dt.datetime,
              replaced: Callable[[], str] | None = None) -> Delivery:
        """approved/retrying -> sending, committed before anything is sent. Refused if paused, and
        (MessageReplaced) if ``replaced`` gives a reason: it runs inside the claim's transaction,
        where `build` cannot be replacing the draft's files (see :meth:`holding_claims`)."""
        at = iso(now)
        with self._write() as db:
            pause = self._pause_row(db, campaign)
            if pause.paused:
                raise paused_error(campaign, pause)
            row = db.execute("SELECT state, attempts FROM deliveries WHERE campaign = ? AND key = ?",
                             (campaign, key)).fetchone()
            current = row[0] if row else None
            if current not in ("approved", "retrying"):
                raise _illegal(campaign, key, current, "sending")
            reason = replaced() if replaced is not None else ""
            if reason:
                raise MessageReplaced(reason)
            fields = {
                "attempts": row[1] + 1,
                "message_id": attempt.message_id,
                "to_addrs": json.dumps(list(attempt.to)),
                "cc_addrs": json.dumps(list(attempt.cc)),
                "file_hashes": json.dumps(dict(attempt.file_hashes), sort_keys=True),
                "started_at": at,
                "next_attempt_at": None,
                "smtp_code": None,
                "smtp_reply": "",
            }
            self._set(db, campaign, key, current, "sending", SYSTEM_ACTOR, attempt.message_id, at, fields)
        return self._must(campaign, key)

    def finish(self, campaign: str, key: str, outcome: Outcome, now: dt.datetime) -> None:
        """sending -> sent | retrying | failed | uncertain, with the server's reply."""
        at = iso(now)
        fields = {
            "smtp_code": outcome.smtp_code,
            "smtp_reply": outcome.smtp_reply,
            "last_error": outcome.error,
            "next_attempt_at": iso(outcome.next_attempt_at) if outcome.next_attempt_at else None,
        }
        if outcome.state == "sent":
            fields["sent_at"] = at
        detail = f"{outcome.smtp_code or ''} {outcome.smtp_reply} {outcome.error}".strip()
        with self._write(durable=False) as db:
            current = self._state(db, campaign, key)
            if current != "sending":
                raise _illegal(campaign, key, current, outcome.state)
            self._set(db, campaign, key, current, outcome.state, SYSTEM_ACTOR, detail, at, fields)

    def mark_interrupted(self, campaign: str, now: dt.datetime) -> list[Delivery]:
        """Rows left ``sending`` by a process that died: the server may have the message -> uncertain.

        Call only while holding :meth:`send_lock`, so no live process is sending this campaign.
        """
        at = iso(now)
        error = ("Tiến trình gửi bị dừng giữa chừng khi thư đang được gửi: máy chủ có thể đã nhận thư. "
                 "Thư KHÔNG được gửi lại tự động; kiểm tra rồi chạy 'outreach resolve'.")
        with self._write() as db:
            keys = [r[0] for r in db.execute(
                "SELECT key FROM deliveries WHERE campaign = ? AND state = 'sending'", (campaign,))]
            for key in keys:
                self._set(db, campaign, key, "sending", "uncertain", SYSTEM_ACTOR, error, at, {"last_error": error})
        return [self._must(campaign, key) for key in keys]

    def resolve(self, campaign: str, key: str, decision: Literal["sent", "resend"], by: str, note: str,
                now: dt.datetime) -> Delivery:
        """A person decides an uncertain message: it did arrive (sent), or send it again (retrying now)."""
        at = iso(now)
        with self._write() as db:
            current = self._state(db, campaign, key)
            if current != "uncertain":
                raise _illegal(campaign, key, current, "sent" if decision == "sent" else "retrying")
            if decision == "sent":
                started = db.execute("SELECT started_at FROM deliveries WHERE campaign = ? AND key = ?",
                                     (campaign, key)).fetchone()[0]
                self._set(db, campaign, key, current, "sent", by, note, at, {"sent_at": started})
            else:
                self._set(db, campaign, key, current, "retrying", by, note, at, {"next_attempt_at": at})
        return self._must(campaign, key)

    # ------------------------------------------------------------------ pause

    def pause(self, campaign: str, reason: str, by: str, now: dt.datetime) -> None:
        self._set_pause(campaign, True, reason, by, now)

    def resume(self, campaign: str, by: str, now: dt.datetime) -> None:
        self._set_pause(campaign, False, "", by, now)

    def _set_pause(self, campaign: str, paused: bool, reason: str, by: str, now: dt.datetime) -> None:
        at = iso(now)
        with self._write() as db:
            db.execute(
                """INSERT INTO campaigns (campaign, paused, reason, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (campaign) DO UPDATE SET paused = excluded.paused, reason = excluded.reason,
                       changed_by = excluded.changed_by, changed_at = excluded.changed_at""",
                (campaign, int(paused), reason, by, at),
            )
            _event(db, at, campaign, "", None, "paused" if paused else "resumed", by, reason)

    # ------------------------------------------------------------------ locking

    @contextlib.contextmanager
    def holding_claims(self, campaign: str) -> Iterator[Callable[[str], State | None]]:
        """While inside, no process can claim a message (a claim needs the same write lock); gives
        the state of a draft of ``campaign``. `build` replaces a draft's files in here, once it has
        read that the draft is not being sent, and a claim checks the bytes it read are still there."""
        with self._write(durable=False) as db:
            yield lambda key: self._state(db, campaign, key)

    @contextlib.contextmanager
    def send_lock(self, campaign: str) -> Iterator[None]:
        """One sending process per campaign (an OS lock, released even on SIGKILL)."""
        lock_path = self.path.with_name(send_lock_name(campaign))
        with lock_path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                raise SendInProgress(
                    f"Chiến dịch {campaign} đang được gửi bởi một tiến trình khác ({handle.read().strip()}). "
                    "Chờ tiến trình đó kết thúc rồi chạy lại."
                ) from None
            handle.truncate(0)
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @staticmethod
    def _state(db: sqlite3.Connection, campaign: str, key: str) -> State | None:
        row = db.execute("SELECT state FROM deliveries WHERE campaign = ? AND key = ?", (campaign, key)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _pause_row(db: sqlite3.Connection, campaign: str) -> PauseState:
        row = db.execute("SELECT paused, reason, changed_by, changed_at FROM campaigns WHERE campaign = ?",
                         (campaign,)).fetchone()
        return PauseState(bool(row[0]), row[1], row[2], row[3]) if row else PauseState(False)

    @staticmethod
    def _set(db: sqlite3.Connection, campaign: str, key: str, current: State | None, new: State, actor: str,
             detail: str, at: str, fields: Mapping[str, object]) -> None:
        _check(campaign, key, current, new)
        assignments = "".join(f", {name} = ?" for name in fields)
        db.execute(
            f"UPDATE deliveries SET state = ?, updated_at = ?{assignments} WHERE campaign = ? AND key = ?",
            (new, at, *fields.values(), campaign, key),
        )
        _event(db, at, campaign, key, current, new, actor, detail)

    def _must(self, campaign: str, key: str) -> Delivery:
        delivery = self.delivery(campaign, key)
        assert delivery is not None
        return delivery


def _check(campaign: str, key: str, current: State | None, new: State) -> None:
    if new not in TRANSITIONS[current]:
        raise _illegal(campaign, key, current, new)


def _illegal(campaign: str, key: str, current: str | None, new: str) -> IllegalTransition:
    now_label = STATE_LABELS.get(current, "chưa duyệt") if current else "chưa duyệt"
    return IllegalTransition(
        f"Chiến dịch {campaign}, thư {key}: không thể chuyển từ trạng thái '{now_label}' "
        f"sang '{STATE_LABELS[new]}'."
    )


def paused_error(campaign: str, pause: PauseState) -> CampaignPaused:
    return CampaignPaused(
        f"Chiến dịch {campaign} đang tạm dừng (từ {pause.changed_at}, bởi {pause.changed_by}): {pause.reason} "
        f"Khi đã xử lý xong, chạy 'outreach resume {campaign}' để gửi tiếp."
    )


def _event(db: sqlite3.Connection, at: str, campaign: str, key: str, from_state: str | None, to_state: str,
           actor: str, detail: str) -> None:
    db.execute(
        "INSERT INTO events (at, campaign, key, from_state, to_state, actor, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, campaign, key, from_state, to_state, actor, detail),
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        campaign=row["campaign"],
        key=row["key"],
        sender=row["sender"],
        state=row["state"],
        message_sha256=row["message_sha256"],
        approved_by=row["approved_by"],
        approved_at=row["approved_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        message_id=row["message_id"],
        to=tuple(json.loads(row["to_addrs"])),
        cc=tuple(json.loads(row["cc_addrs"])),
        smtp_code=row["smtp_code"],
        smtp_reply=row["smtp_reply"],
        started_at=row["started_at"],
        sent_at=row["sent_at"],
        file_hashes=json.loads(row["file_hashes"]),
        last_error=row["last_error"],
        updated_at=row["updated_at"],
    )
