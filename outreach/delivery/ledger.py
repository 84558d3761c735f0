"""The ledger (``outbox/ledger.sqlite``): the single source of truth for approvals and deliveries.

State of one draft's delivery (``campaign``, ``key`` = ``audience/code``) on its channel (e-mail,
or paper for a recipient without one), operation by operation::

    approve   (none) | approved | retrying | failed | revoked -> approved   (binds the payload's sha256)
    revoke    approved | retrying | failed                     -> revoked
    claim     approved | retrying                              -> sending    (before the first byte)
    finish    sending -> sent       the server accepted the data (250 to the final dot)
                      -> printed    paper: the letter is in a print bundle (``where``: file, pages)
                      -> retrying   4xx, or the line failed before the final dot (backoff)
                      -> failed     5xx, or still temporary after the last attempt
                      -> uncertain  the line failed after the final dot, before the reply
    recover   sending -> uncertain  found at start: the sending process died mid-send
    resolve   uncertain -> sent | printed | retrying            (a person, with a note; or ``collect``
                                    when the sender's Sent folder holds the message's Message-ID)
    bounce    sent | uncertain -> bounced   a delivery status notification said it failed for good
    reprint   bounced | failed -> printed   the e-mail did not reach them: the letter goes on paper
                                    (the supplementary bundle), then ``post`` as any printed letter
    post      printed -> posted     paper: a named person posted it, on a date

Beside the state, what came back from the recipient (schema 4): ``receipt_tokens`` holds the sha256
of each personal confirmation link's token (never the token), the letter it is for and the campaign
whose message carries it (the letter's own, or one of its reminders); ``confirmations`` the first
press of «Xác nhận đã nhận công văn» per letter: time, client address, user agent. A confirmation is
also an event (``confirmed``) and revokes that letter's reminders not yet handed to a channel.

A channel's acceptance (``Outcome`` "sent") is stored as that channel's state (:data:`ACCEPTED`):
e-mail is delivered once a server has it, a letter only once someone has posted it.

Every change is one ``BEGIN IMMEDIATE`` transaction that checks the current state, updates the row
and appends to ``events`` (append-only: triggers refuse UPDATE and DELETE). WAL mode; approvals,
claims and people's decisions commit with ``synchronous=FULL`` (fsync), so a ``sending`` mark
survives even a power loss and a message is never handed to the server without a durable record
that it may have been. Send outcomes commit with ``NORMAL`` (safe against a crash; a power loss may
lose the last ones, which then reappear as ``sending`` -> ``uncertain``, never as a resend; the
next FULL commit makes them durable too). Times are UTC ISO-8601.

The schema's version is SQLite's ``user_version``; opening a ledger written by an older version
migrates it in one transaction, so every row and event is kept. ``deliveries`` is rebuilt when its
state CHECK changes (SQLite cannot alter a CHECK); ``events`` is never touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..accounts import Actor
from ..errors import UserError
from ..outbox import Channel
from ..workspace import REMINDER_SEPARATOR, Workspace, held_alone, letter_campaign, send_lock_name

if TYPE_CHECKING:
    from ..config import Sender

SYSTEM_ACTOR = Actor("outreach")  # the sending process; a run records where it was started (``sending_process``)


def sending_process(source: str) -> Actor:
    """The sending process started from ``source`` (``cli nva``: who ran 'outreach send' or 'outreach run')."""
    return Actor(SYSTEM_ACTOR.name, "", source)


class State(StrEnum):
    """A message's state in the ledger. The values are the strings stored in ``deliveries.state``
    and ``events``: renaming one would orphan every ledger already written."""

    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    PRINTED = "printed"  # paper: in a print bundle (``where`` says which, which pages), not posted yet
    POSTED = "posted"  # paper: posted by a named person on a date
    REVOKED = "revoked"
    BOUNCED = "bounced"  # e-mail: accepted by a server, then a notification said it failed for good


class Unsent(StrEnum):
    """What a draft shows when the ledger holds no live approval for it, and what a list's row that
    has no draft shows (never stored)."""

    DRAFTED = "drafted"  # not approved, or its approval was revoked
    REJECTED = "rejected"  # a row validation refused: no letter, listed with its reasons


class Answer(StrEnum):
    """What the recipient did about a letter delivered: ``events.to_state`` of a confirmation; the
    others are never stored (shown by status, report and pages)."""

    CONFIRMED = "confirmed"  # pressed «Xác nhận đã nhận công văn» on the page of its link
    REPLIED = "replied"  # wrote back (collect read the reply from the sender's mailbox); stored as its event
    UNANSWERED = "unanswered"


class CampaignEvent(StrEnum):
    """``events.to_state`` of campaign-wide events (``key`` = "")."""

    PAUSED = "paused"
    RESUMED = "resumed"
    BUILT = "built"  # a build of the campaign's drafts started (who ran it: four-eyes, the audit page)
    SIGNED = "signed"  # a signing run (``outreach sign``): which role, how many letters
    LIST_ACCEPTED = "list_accepted"  # a list taken into the campaign on the web (who brought it in: four-eyes)


class MailEvent(StrEnum):
    """``events.to_state`` of what arrived in a sender's mailbox and changes no state."""

    DELAYED = "delayed"  # a notification said delivery is delayed (the server keeps trying)


class Inbound(StrEnum):
    """What ``collect`` took a message in a sender's mailbox for (``inbound.kind``)."""

    BOUNCE = "bounce"  # a permanent failure of one of our messages
    DELAY = "delay"  # a delay notice
    REPLY = "reply"  # a person answering one of our messages
    AUTO_REPLY = "auto_reply"  # a vacation notice or other automatic answer: never a bounce
    COPY = "copy"  # a copy of one of our messages (the Sent folder): it did go out
    UNMATCHED = "unmatched"  # a notification or reply tied to no message of ours: left in place, listed
    OTHER = "other"  # none of these: left in place


DraftState = State | Unsent

TRANSITIONS: Mapping[State | None, frozenset[State]] = {
    None: frozenset({State.APPROVED}),
    State.APPROVED: frozenset({State.APPROVED, State.SENDING, State.REVOKED}),
    State.RETRYING: frozenset({State.APPROVED, State.SENDING, State.REVOKED}),
    State.FAILED: frozenset({State.APPROVED, State.REVOKED, State.PRINTED}),
    State.REVOKED: frozenset({State.APPROVED}),
    State.SENDING: frozenset({State.SENT, State.PRINTED, State.RETRYING, State.FAILED, State.UNCERTAIN}),
    State.UNCERTAIN: frozenset({State.SENT, State.PRINTED, State.RETRYING, State.BOUNCED}),
    State.SENT: frozenset({State.BOUNCED}),
    State.BOUNCED: frozenset({State.PRINTED}),
    State.PRINTED: frozenset({State.POSTED}),
    State.POSTED: frozenset(),
}
# What a channel's acceptance leaves (any other channel: sent). Only a PRINTED row can be posted, and
# only the paper channel reaches PRINTED: nothing e-mailed is ever marked posted (a letter the e-mail
# did not reach is printed on the paper channel: reprint moves its row there).
ACCEPTED: Mapping[str, State] = {Channel.EMAIL: State.SENT, Channel.PAPER: State.PRINTED}


def accepted_state(channel: str) -> State:
    return ACCEPTED.get(channel, State.SENT)


def _leading_to(target: State) -> frozenset[State]:
    return frozenset(state for state, nexts in TRANSITIONS.items() if state is not None and target in nexts)


# Derived from the table, so a new transition changes every consumer at once. Iterate ``State``
# (definition order) when the order shows, never these sets (their order changes between runs).
REVOCABLE = _leading_to(State.REVOKED)  # approved, not yet handed to a channel
CLAIMABLE = _leading_to(State.SENDING)  # the engine sends these (when due)
APPROVABLE = _leading_to(State.APPROVED)
EVIDENCE = frozenset(State) - APPROVABLE  # handed to a channel: bytes kept, never rebuilt or re-approved
FAILURE_STATES = TRANSITIONS[State.SENDING] - set(ACCEPTED.values())  # what a send that did not succeed leaves
POSTABLE = _leading_to(State.POSTED)  # printed: a person posts these
# Not derivable either: a sent message may still bounce, days later; until then it counts as delivered.
DELIVERED = frozenset({State.SENT, State.POSTED})
# What a notification may turn into bounced: a server had the message (or may have had it).
BOUNCEABLE = _leading_to(State.BOUNCED)
# Not derivable: the table does not say which states move on without a person. Approved messages the
# engine will still settle by itself (waiting, or on the wire right now); uncertain needs someone.
WAITING = CLAIMABLE | {State.SENDING}


@dataclass(frozen=True)
class Label:
    short: str  # a heading, chip or badge: "Chờ gửi lại"
    long: str  # inside a sentence: "đang ở trạng thái 'đang chờ gửi lại'"


# The one table of what staff read for a state or an event: CLI, report, scheduler and pages.
LABELS: Mapping[str, Label] = {
    Unsent.DRAFTED: Label("Chưa duyệt", "chưa duyệt"),
    Unsent.REJECTED: Label("Bị loại", "bị loại"),
    State.APPROVED: Label("Đã duyệt", "đã duyệt, chờ gửi"),
    State.SENDING: Label("Đang gửi", "đang gửi"),
    State.SENT: Label("Đã gửi", "đã gửi"),
    State.RETRYING: Label("Chờ gửi lại", "đang chờ gửi lại"),
    State.FAILED: Label("Thất bại", "thất bại"),
    State.UNCERTAIN: Label("Chưa chắc chắn", "chưa chắc chắn"),
    State.PRINTED: Label("Đã in", "đã in, chờ gửi bưu điện"),
    State.POSTED: Label("Đã gửi bưu điện", "đã gửi bưu điện"),
    State.REVOKED: Label("Đã hủy duyệt", "đã hủy duyệt"),
    State.BOUNCED: Label("Bị trả lại", "bị trả lại"),
    Answer.CONFIRMED: Label("Đã xác nhận", "người nhận đã xác nhận đã nhận công văn"),
    Answer.REPLIED: Label("Đã trả lời", "người nhận đã trả lời công văn"),
    Answer.UNANSWERED: Label("Chưa xác nhận", "người nhận chưa xác nhận"),
    CampaignEvent.PAUSED: Label("Tạm dừng", "tạm dừng"),
    CampaignEvent.RESUMED: Label("Gửi tiếp", "gửi tiếp"),
    CampaignEvent.BUILT: Label("Tạo bản thảo", "tạo bản thảo"),
    CampaignEvent.SIGNED: Label("Ký số", "ký số"),
    CampaignEvent.LIST_ACCEPTED: Label("Nhận danh sách", "nhận danh sách"),
    MailEvent.DELAYED: Label("Chậm chuyển", "máy chủ báo chậm chuyển thư"),
}
# What staff read for what collect found in a mailbox.
INBOUND_LABELS: Mapping[str, str] = {
    Inbound.BOUNCE: "thư báo trả lại (không chuyển được)",
    Inbound.DELAY: "thư báo chậm chuyển",
    Inbound.REPLY: "thư trả lời của người nhận",
    Inbound.AUTO_REPLY: "thư trả lời tự động (vắng mặt, …)",
    Inbound.COPY: "bản lưu thư đã gửi",
    Inbound.UNMATCHED: "không khớp với thư nào của chiến dịch",
    Inbound.OTHER: "thư khác",
}
# What a draft can show, in the order pages and summaries list them (a revoked one shows drafted).
DRAFT_STATES: tuple[DraftState, ...] = (Unsent.DRAFTED, *(s for s in State if s is not State.REVOKED))


def count_line(counts: Mapping[str, int], separator: str = " ") -> str:
    """``chưa duyệt 3, đã gửi 2``: a draft-state count, in :data:`DRAFT_STATES` order, for a line of text."""
    return ", ".join(f"{LABELS[state].long}{separator}{counts[state]}" for state in DRAFT_STATES if counts.get(state))


def event_label(state: str | None) -> str:
    """The heading of an event's state: no state yet reads as not approved; unknown as itself."""
    label = LABELS.get(state or Unsent.DRAFTED)
    return label.short if label else str(state)


_STORED_STATES = ", ".join(f"'{state}'" for state in State)  # the CHECK a ledger file enforces


def _deliveries_table(name: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {name} (
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    sender TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ({_STORED_STATES})),
    approval_id INTEGER NOT NULL REFERENCES approvals (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    message_id TEXT NOT NULL DEFAULT '',
    to_addrs TEXT NOT NULL DEFAULT '[]',
    cc_addrs TEXT NOT NULL DEFAULT '[]',
    code INTEGER,
    reply TEXT NOT NULL DEFAULT '',
    started_at TEXT,
    sent_at TEXT,
    file_hashes TEXT NOT NULL DEFAULT '{{}}',
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'email',
    "where" TEXT NOT NULL DEFAULT '',
    posted_by TEXT NOT NULL DEFAULT '',
    posted_on TEXT,
    PRIMARY KEY (campaign, key)
);"""


_RECEIPT_TOKENS = """CREATE TABLE IF NOT EXISTS receipt_tokens (
    token_sha256 TEXT PRIMARY KEY,
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    via TEXT NOT NULL,
    created_at TEXT NOT NULL
)"""
_CONFIRMATIONS = """CREATE TABLE IF NOT EXISTS confirmations (
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    at TEXT NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    PRIMARY KEY (campaign, key)
)"""
_RECEIPT_TABLES = f"{_RECEIPT_TOKENS};\n{_CONFIRMATIONS};"
_DELIVERIES_INDEX = "CREATE INDEX IF NOT EXISTS deliveries_by_sender ON deliveries (sender, state, sent_at)"
_SCHEMA = f"""
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

{_deliveries_table("deliveries")}
{_DELIVERIES_INDEX};

CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    login TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_campaign ON events (campaign, key, id);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

{_RECEIPT_TABLES}

CREATE TABLE IF NOT EXISTS mailbox_cursors (
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (mailbox, folder)
);

CREATE TABLE IF NOT EXISTS inbound (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    campaign TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL DEFAULT '',
    clues TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    from_address TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT '',
    UNIQUE (mailbox, sha256)
);
CREATE INDEX IF NOT EXISTS inbound_by_campaign ON inbound (campaign, key, id);
CREATE TRIGGER IF NOT EXISTS inbound_no_update BEFORE UPDATE ON inbound
    BEGIN SELECT RAISE(ABORT, 'inbound messages are append-only'); END;
CREATE TRIGGER IF NOT EXISTS inbound_no_delete BEFORE DELETE ON inbound
    BEGIN SELECT RAISE(ABORT, 'inbound messages are append-only'); END;

CREATE TABLE IF NOT EXISTS campaigns (
    campaign TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL DEFAULT '',
    changed_at TEXT
);
"""

# PRAGMA user_version. Version 0 is the ledger before versions: SMTP-named columns. Version 1 has
# channel-neutral columns; version 2 the account (login) and the origin of each event beside the
# actor's name; version 3 the paper states (printed, posted) and who posted when; version 4 the
# confirmation links' token hashes and the recipients' confirmations; version 5 the bounced
# state (the mailbox cursors and inbound messages are new tables, made by _SCHEMA).
SCHEMA_VERSION = 5
_V1_COLUMNS = ('campaign, key, sender, state, approval_id, attempts, next_attempt_at, message_id, to_addrs, '
               'cc_addrs, code, reply, started_at, sent_at, file_hashes, last_error, updated_at, channel, "where"')
_V3_COLUMNS = f"{_V1_COLUMNS}, posted_by, posted_on"
_MIGRATIONS: Mapping[int, tuple[str, ...]] = {  # to version N from N - 1; columns end up as in _SCHEMA
    1: ("ALTER TABLE deliveries RENAME COLUMN smtp_code TO code",
        "ALTER TABLE deliveries RENAME COLUMN smtp_reply TO reply",
        "ALTER TABLE deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'email'",
        """ALTER TABLE deliveries ADD COLUMN "where" TEXT NOT NULL DEFAULT ''"""),
    2: ("ALTER TABLE events ADD COLUMN login TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT ''"),
    # A new CHECK: create the table anew, copy every row, drop the old, rename (SQLite's own recipe).
    3: (_deliveries_table("deliveries_v2"),
        f"INSERT INTO deliveries_v2 ({_V1_COLUMNS}) SELECT {_V1_COLUMNS} FROM deliveries",
        "DROP TABLE deliveries",
        "ALTER TABLE deliveries_v2 RENAME TO deliveries",
        _DELIVERIES_INDEX),
    4: (_RECEIPT_TOKENS, _CONFIRMATIONS),
    5: (_deliveries_table("deliveries_v5"),
        f'INSERT INTO deliveries_v5 ({_V3_COLUMNS}) SELECT {_V3_COLUMNS} FROM deliveries',
        "DROP TABLE deliveries",
        "ALTER TABLE deliveries_v5 RENAME TO deliveries",
        _DELIVERIES_INDEX),
}

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
    message_sha256: str  # the approved bytes: the payload (message.eml, or letter.pdf on paper)
    approved_by: str
    approved_at: str
    attempts: int
    next_attempt_at: str | None
    message_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    code: int | None  # the channel's last answer (an SMTP reply code)
    reply: str
    started_at: str | None
    sent_at: str | None  # when the channel accepted it (on paper: when it went into its print bundle)
    file_hashes: Mapping[str, str]
    last_error: str
    updated_at: str
    channel: str  # "email" | "paper"
    where: str  # the step the last answer came at, e.g. "RCPT TO:<a@b.vn>"; on paper: bundle and pages
    posted_by: str  # paper: who posted it
    posted_on: str | None  # paper: the day it was posted, YYYY-MM-DD


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
    actor: str  # the person's full name (or "outreach" for the sending process)
    detail: str
    login: str = ""  # the account, when staff accounts exist
    source: str = ""  # "web 192.0.2.7", "cli nva"


@dataclass(frozen=True)
class Confirmation:
    """A recipient's press of «Xác nhận đã nhận công văn»: the first one counts."""

    campaign: str
    key: str
    at: str
    address: str  # the client's address as the web server saw it
    user_agent: str


@dataclass(frozen=True)
class Receipt:
    """What a confirmation link names: one letter (campaign, key), and whether it is confirmed."""

    campaign: str
    key: str
    via: str  # the campaign of the message that carries the link (the letter's, or a reminder's)
    state: State | None  # the letter's delivery state: only a letter handed to a channel can be confirmed
    confirmation: Confirmation | None

    @property
    def confirmable(self) -> bool:
        return self.state in EVIDENCE


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
    message_sha256: str  # of the payload
    channel: str = Channel.EMAIL


@dataclass(frozen=True)
class Attempt:
    """What is about to be handed to a channel, recorded before the first byte is sent."""

    channel: str
    message_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    file_hashes: Mapping[str, str]


@dataclass(frozen=True)
class Outcome:
    state: Literal["sent", "retrying", "failed", "uncertain"]
    code: int | None
    reply: str
    where: str = ""
    error: str = ""  # Vietnamese explanation for anything but "sent"
    next_attempt_at: dt.datetime | None = None


@dataclass(frozen=True)
class InboundMessage:
    """One message ``collect`` handled in a sender's mailbox (``inbound``; append-only)."""

    mailbox: str
    folder: str
    uidvalidity: int
    uid: int
    sha256: str  # of the raw bytes: the same message met again (copied back, new UIDVALIDITY) is known
    kind: Inbound
    campaign: str = ""
    key: str = ""
    clues: str = ""  # what tied it to the delivery: "return path, Message-ID, Final-Recipient"
    status: str = ""  # the RFC 3463 status, e.g. 5.1.1
    text: str = ""  # the server's diagnostic, or the reply's text
    from_address: str = ""
    subject: str = ""
    evidence: str = ""  # the raw bytes' file, relative to the working folder
    at: str = ""


class Ledger:
    """One connection to the ledger; safe to use from several processes at once."""

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        try:
            self._upgrade()
        except BaseException:
            self._db.close()
            raise
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

    def sent_today(self, sender: Sender, moment: dt.datetime) -> int:
        """Messages of this sender (all campaigns) accepted by a server on ``moment``'s day: the day
        of its daily quota, midnight to midnight in the sender's own time zone."""
        tz = sender.schedule.tz
        since = dt.datetime.combine(moment.astimezone(tz).date(), dt.time(), tzinfo=tz)
        row = self._db.execute(
            "SELECT count(*) FROM deliveries WHERE sender = ? AND state = ? AND sent_at >= ? AND sent_at < ?",
            (sender.code, State.SENT, iso(since), iso(since + dt.timedelta(days=1))),
        ).fetchone()
        return int(row[0])

    def state_counts(self, campaign: str, channel: str | None = None) -> dict[tuple[str, str], int]:
        """(sender, state) -> how many messages (of one channel, if named): summaries that need no row
        loaded (scheduler, calendar)."""
        rows = self._db.execute(
            "SELECT sender, state, count(*) FROM deliveries WHERE campaign = ? AND channel = coalesce(?, channel) "
            "GROUP BY sender, state", (campaign, channel))
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def last_started_at(self, sender: str, channel: str) -> dt.datetime | None:
        """When this sender last handed a message to this channel, in any campaign (for the rate limit)."""
        row = self._db.execute("SELECT max(started_at) FROM deliveries WHERE sender = ? AND channel = ?",
                               (sender, channel)).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row[0] else None

    def consecutive_failures(self, campaign: str) -> int:
        """Send outcomes since the last success (or the last resume) that were not a success."""
        rows = self._db.execute(
            """SELECT to_state FROM events WHERE campaign = ? AND id > coalesce(
                   (SELECT max(id) FROM events WHERE campaign = ? AND key = '' AND to_state = ?), 0)
               AND from_state = ? ORDER BY id DESC""",
            (campaign, campaign, CampaignEvent.RESUMED, State.SENDING),
        )
        count = 0
        for row in rows:
            if row[0] not in FAILURE_STATES:
                break
            count += 1
        return count

    def replied_keys(self, campaign: str) -> frozenset[str]:
        """The letters whose recipient has replied (a person's answer, not an auto-reply), to the
        letter or to one of its reminders (of a reminder's campaign: of the letter it follows)."""
        letter = letter_campaign(campaign)
        rows = self._db.execute(
            "SELECT DISTINCT key FROM inbound WHERE kind = ? AND (campaign = ? OR substr(campaign, 1, ?) = ?)",
            (Inbound.REPLY, letter, len(letter) + 1, letter + REMINDER_SEPARATOR))
        return frozenset(row[0] for row in rows)

    def inbound(self, campaign: str | None = None, key: str | None = None,
                kinds: Sequence[Inbound] = tuple(Inbound), mailbox: str | None = None) -> list[InboundMessage]:
        """Messages collect handled, oldest first: of a campaign (and one of its drafts), of one
        mailbox, or all."""
        marks = ", ".join("?" for _ in kinds)
        rows = self._db.execute(
            f"SELECT * FROM inbound WHERE campaign = coalesce(?, campaign) AND key = coalesce(?, key) "
            f"AND mailbox = coalesce(?, mailbox) AND kind IN ({marks}) ORDER BY id", (campaign, key, mailbox, *kinds))
        return [_inbound(row) for row in rows]

    def mailbox_cursor(self, mailbox: str, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, last UID handled) of a mailbox's folder, or None before its first collect."""
        row = self._db.execute("SELECT uidvalidity, last_uid FROM mailbox_cursors WHERE mailbox = ? AND folder = ?",
                               (mailbox, folder)).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def message_ids(self) -> dict[str, tuple[str, str]]:
        """Message-ID (without angle brackets, lower case) -> (campaign, key), of every message handed
        to a server or that may have been."""
        rows = self._db.execute("SELECT message_id, campaign, key FROM deliveries WHERE message_id != ''")
        return {row[0].strip("<>").lower(): (row[1], row[2]) for row in rows}

    def delivery_keys(self) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self._db.execute("SELECT campaign, key FROM deliveries")]

    def pause_state(self, campaign: str) -> PauseState:
        return self._pause_row(self._db, campaign)

    def builders(self, campaign: str) -> set[str]:
        """The accounts (logins) that ever ran a build of this campaign or took a list into it: a
        build reads its lists and templates and writes its drafts, so under four-eyes none of them
        approves its letters."""
        rows = self._db.execute("SELECT DISTINCT login FROM events WHERE campaign = ? AND key = '' "
                                "AND to_state IN (?, ?) AND login != ''",
                                (campaign, CampaignEvent.BUILT, CampaignEvent.LIST_ACCEPTED))
        return {row[0] for row in rows}

    # ------------------------------------------------------------------ receipts

    def add_receipt_token(self, token: str, campaign: str, key: str, via: str, now: dt.datetime) -> None:
        """Remember a confirmation link's token (its sha256 only) for the letter ``campaign``/``key``,
        carried by a message of ``via``. Durable before the message that carries it can be approved."""
        with self._write() as db:
            db.execute("INSERT INTO receipt_tokens (token_sha256, campaign, key, via, created_at) VALUES (?, ?, ?, ?, ?)",
                       (token_digest(token), campaign, key, via, iso(now)))

    def receipt(self, token: str) -> Receipt | None:
        """The letter a link's token names, or None for a token no message carries."""
        row = self._db.execute("SELECT campaign, key, via FROM receipt_tokens WHERE token_sha256 = ?",
                               (token_digest(token),)).fetchone()
        if row is None:
            return None
        campaign, key = row["campaign"], row["key"]
        return Receipt(campaign, key, row["via"], self._state(self._db, campaign, key),
                       self.confirmations(campaign, key).get(key))

    def confirm(self, token: str, address: str, user_agent: str, now: dt.datetime) -> Receipt | None:
        """Record the recipient's confirmation (the first press counts; a second changes nothing) and
        revoke the letter's reminders not yet handed to a channel. None for an unknown token; a
        letter not yet handed to a channel is left unconfirmed (a test copy's link confirms nothing)."""
        at = iso(now)
        digest = token_digest(token)
        with self._write() as db:
            row = db.execute("SELECT campaign, key FROM receipt_tokens WHERE token_sha256 = ?", (digest,)).fetchone()
            if row is None:
                return None
            campaign, key = row["campaign"], row["key"]
            first = self._state(db, campaign, key) in EVIDENCE and db.execute(
                "INSERT INTO confirmations (campaign, key, at, address, user_agent, token_sha256) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING", (campaign, key, at, address, user_agent[:500], digest)).rowcount
            if first:
                actor = Actor("người nhận", "", f"web {address}")
                _event(db, at, campaign, key, None, Answer.CONFIRMED, actor, user_agent[:500])
                self._revoke_reminders(db, campaign, key, "người nhận đã xác nhận đã nhận công văn: không cần nhắc", at)
        return self.receipt(token)

    def _revoke_reminders(self, db: sqlite3.Connection, campaign: str, key: str, note: str, at: str) -> None:
        """The recipient answered: the letter's reminders not yet handed to a channel are revoked
        (a reply recorded from a mailbox calls this too)."""
        reminders = db.execute("SELECT campaign, state FROM deliveries WHERE key = ? AND substr(campaign, 1, ?) = ?",
                               (key, len(campaign) + 1, campaign + REMINDER_SEPARATOR)).fetchall()
        for reminder, state in reminders:
            if state in REVOCABLE:
                db.execute("UPDATE approvals SET revoked_by = ?, revoked_at = ?, revoke_note = ? "
                           "WHERE campaign = ? AND key = ? AND revoked_at IS NULL",
                           (SYSTEM_ACTOR.name, at, note, reminder, key))
                self._set(db, reminder, key, state, State.REVOKED, SYSTEM_ACTOR, note, at, {"next_attempt_at": None})

    def confirmations(self, campaign: str, key: str | None = None) -> dict[str, Confirmation]:
        """Confirmed letters of ``campaign`` (of a reminder's campaign: of the letter it follows)."""
        rows = self._db.execute("SELECT campaign, key, at, address, user_agent FROM confirmations "
                                "WHERE campaign = ? AND key = coalesce(?, key)", (letter_campaign(campaign), key))
        return {row["key"]: Confirmation(**dict(row)) for row in rows}

    def answered_keys(self, campaign: str) -> set[str]:
        """Letters whose recipient answered: confirmed receipt, or replied (read from the mailboxes
        by collect), so status, report, pages and reminders all follow one notion."""
        return set(self.confirmations(campaign)) | self.replied_keys(campaign)

    # ------------------------------------------------------------------ approvals

    def approve(self, campaign: str, requests: Sequence[ApprovalRequest], by: Actor, now: dt.datetime) -> list[Delivery]:
        """Approve exact bytes (all or none). A new approval of the same key replaces the old one."""
        at = iso(now)
        with self._write() as db:
            for request in requests:
                current = self._state(db, campaign, request.key)
                _check(campaign, request.key, current, State.APPROVED)
                db.execute(
                    "UPDATE approvals SET revoked_by = ?, revoked_at = ?, revoke_note = ? "
                    "WHERE campaign = ? AND key = ? AND revoked_at IS NULL",
                    (by.name, at, "thay bằng lần duyệt mới", campaign, request.key),
                )
                approval_id = db.execute(
                    "INSERT INTO approvals (campaign, key, message_sha256, approved_by, approved_at) VALUES (?, ?, ?, ?, ?)",
                    (campaign, request.key, request.message_sha256, by.name, at),
                ).lastrowid
                db.execute(
                    """INSERT INTO deliveries (campaign, key, sender, state, approval_id, updated_at, channel)
                       VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (campaign, key) DO UPDATE SET sender = excluded.sender, state = excluded.state,
                           approval_id = excluded.approval_id, attempts = 0, next_attempt_at = NULL,
                           last_error = '', updated_at = excluded.updated_at, channel = excluded.channel""",
                    (campaign, request.key, request.sender, State.APPROVED, approval_id, at, request.channel),
                )
                _event(db, at, campaign, request.key, current, State.APPROVED, by, f"sha256 {request.message_sha256}")
        return [self._must(campaign, r.key) for r in requests]

    def revoke(self, campaign: str, keys: Sequence[str], by: Actor, note: str, now: dt.datetime) -> list[Delivery]:
        at = iso(now)
        with self._write() as db:
            for key in keys:
                current = self._state(db, campaign, key)
                _check(campaign, key, current, State.REVOKED)
                db.execute(
                    "UPDATE approvals SET revoked_by = ?, revoked_at = ?, revoke_note = ? "
                    "WHERE campaign = ? AND key = ? AND revoked_at IS NULL",
                    (by.name, at, note, campaign, key),
                )
                self._set(db, campaign, key, current, State.REVOKED, by, note, at, {"next_attempt_at": None})
        return [self._must(campaign, key) for key in keys]

    # ------------------------------------------------------------------ sending

    def claim(self, campaign: str, key: str, attempt: Attempt, now: dt.datetime,
              replaced: Callable[[], str] | None = None, by: Actor = SYSTEM_ACTOR) -> Delivery:
        """approved/retrying -> sending, committed before anything is sent. Refused if paused, and
        (MessageReplaced) if ``replaced`` gives a reason: it runs inside the claim's transaction,
        where `build` cannot be replacing the draft's files (see :meth:`replacing_drafts`)."""
        at = iso(now)
        with self._write() as db:
            pause = self._pause_row(db, campaign)
            if pause.paused:
                raise paused_error(campaign, pause)
            row = db.execute("SELECT state, attempts FROM deliveries WHERE campaign = ? AND key = ?",
                             (campaign, key)).fetchone()
            current = row[0] if row else None
            if current not in CLAIMABLE:
                raise _illegal(campaign, key, current, State.SENDING)
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
                "channel": attempt.channel,
                "code": None,
                "reply": "",
                "where": "",
            }
            self._set(db, campaign, key, current, State.SENDING, by, attempt.message_id, at, fields)
        return self._must(campaign, key)

    def finish(self, campaign: str, key: str, outcome: Outcome, now: dt.datetime, by: Actor = SYSTEM_ACTOR) -> State:
        """sending -> sent (printed on paper) | retrying | failed | uncertain, with the channel's answer.
        Returns the state stored."""
        at = iso(now)
        fields: dict[str, object] = {
            "code": outcome.code,
            "reply": outcome.reply,
            "where": outcome.where,
            "last_error": outcome.error,
            "next_attempt_at": iso(outcome.next_attempt_at) if outcome.next_attempt_at else None,
        }
        detail = f"{outcome.code or ''} {outcome.reply} {outcome.error}".strip()
        with self._write(durable=False) as db:
            current, channel = self._state_and_channel(db, campaign, key)
            if current != State.SENDING:
                raise _illegal(campaign, key, current, outcome.state)
            new = accepted_state(channel) if outcome.state == State.SENT else _STATE_OF[outcome.state]
            if new in ACCEPTED.values():
                fields["sent_at"] = at
            self._set(db, campaign, key, current, new, by, detail, at, fields)
        return new

    def mark_interrupted(self, campaign: str, now: dt.datetime, by: Actor = SYSTEM_ACTOR) -> list[Delivery]:
        """Rows left ``sending`` by a process that died: the server may have the message -> uncertain.

        Call only while holding :meth:`send_lock`, so no live process is sending this campaign.
        """
        at = iso(now)
        error = ("Tiến trình gửi bị dừng giữa chừng khi thư đang được gửi: máy chủ có thể đã nhận thư. "
                 "Thư KHÔNG được gửi lại tự động; kiểm tra rồi chạy 'outreach resolve'.")
        with self._write() as db:
            keys = [r[0] for r in db.execute(
                "SELECT key FROM deliveries WHERE campaign = ? AND state = ?", (campaign, State.SENDING))]
            for key in keys:
                self._set(db, campaign, key, State.SENDING, State.UNCERTAIN, by, error, at,
                          {"last_error": error})
        return [self._must(campaign, key) for key in keys]

    def resolve(self, campaign: str, key: str, decision: Literal["sent", "resend"], by: Actor, note: str,
                now: dt.datetime) -> Delivery:
        """A person decides an uncertain message: it did arrive (sent; printed on paper), or send it
        again (retrying now)."""
        at = iso(now)
        with self._write() as db:
            current, channel = self._state_and_channel(db, campaign, key)
            arrived = accepted_state(channel)
            if current != State.UNCERTAIN:
                raise _illegal(campaign, key, current, arrived if decision == "sent" else State.RETRYING)
            if decision == "sent":
                started = db.execute("SELECT started_at FROM deliveries WHERE campaign = ? AND key = ?",
                                     (campaign, key)).fetchone()[0]
                self._set(db, campaign, key, current, arrived, by, note, at, {"sent_at": started})
            else:
                self._set(db, campaign, key, current, State.RETRYING, by, note, at, {"next_attempt_at": at})
        return self._must(campaign, key)

    def reprint(self, campaign: str, keys: Sequence[str], where: str, now: dt.datetime) -> list[Delivery]:
        """bounced | failed -> printed on the paper channel (all or none): the e-mail did not reach
        them, so their letters are in the supplementary bundle ``where``, to be posted."""
        at = iso(now)
        with self._write() as db:
            for key in keys:
                current = self._state(db, campaign, key)
                self._set(db, campaign, key, current, State.PRINTED, SYSTEM_ACTOR,
                          f"thư điện tử không đến được người nhận: in trong {where}", at,
                          {"channel": Channel.PAPER, "where": where, "sent_at": at})
        return [self._must(campaign, key) for key in keys]

    def post(self, campaign: str, keys: Sequence[str], by: Actor, on: dt.date, now: dt.datetime) -> list[Delivery]:
        """printed -> posted (all or none): ``by`` took these letters to the post on ``on``."""
        at = iso(now)
        with self._write() as db:
            for key in keys:
                current = self._state(db, campaign, key)
                self._set(db, campaign, key, current, State.POSTED, by, f"gửi bưu điện ngày {on:%d/%m/%Y}", at,
                          {"posted_by": by.name, "posted_on": on.isoformat()})
        return [self._must(campaign, key) for key in keys]

    def record(self, campaign: str, event: CampaignEvent, by: Actor, detail: str, now: dt.datetime) -> None:
        """A campaign-wide event that changes no delivery (a build, a signing run): who, when, from where."""
        with self._write() as db:
            _event(db, iso(now), campaign, "", None, event, by, detail)

    def record_build(self, campaign: str, by: Actor, scope: str) -> None:
        """`build` starts (outbox.DeliveryRecord): ``by`` ran it, over ``scope`` (which recipients)."""
        self.record(campaign, CampaignEvent.BUILT, by, scope, utc_now())

    # ------------------------------------------------------------------ mailboxes

    def record_inbound(self, message: InboundMessage, now: dt.datetime, advance: bool = True) -> State | None:
        """Record one handled message and move its folder's cursor past it, in one transaction; a
        bounce makes its delivery bounced, a copy in the Sent folder settles an uncertain one as sent,
        a delay or a reply is an event. Returns the delivery's state afterwards (None: no delivery).
        A message already recorded (same mailbox, same bytes) only moves the cursor. ``advance``
        False leaves the cursor (a message before this one is kept for a later run)."""
        at = iso(now)
        with self._write() as db:
            if advance:
                self._advance(db, message.mailbox, message.folder, message.uidvalidity, message.uid, at)
            if db.execute("SELECT 1 FROM inbound WHERE mailbox = ? AND sha256 = ?",
                          (message.mailbox, message.sha256)).fetchone():
                return self._state(db, message.campaign, message.key) if message.key else None
            fields = {name: getattr(message, name) for name in InboundMessage.__dataclass_fields__} | {"at": at}
            db.execute(f"INSERT INTO inbound ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",
                       tuple(fields.values()))
            if not message.key:
                return None
            current = self._state(db, message.campaign, message.key)
            said = " ".join(part for part in (message.status, message.text) if part)
            if message.kind == Inbound.BOUNCE and current in BOUNCEABLE:
                self._set(db, message.campaign, message.key, current, State.BOUNCED, SYSTEM_ACTOR,
                          f"{said} ({message.evidence})", at, {"last_error": f"Thư bị trả lại: {said}"})
                return State.BOUNCED
            if message.kind == Inbound.COPY and current == State.UNCERTAIN:
                started = db.execute("SELECT started_at FROM deliveries WHERE campaign = ? AND key = ?",
                                     (message.campaign, message.key)).fetchone()[0]
                self._set(db, message.campaign, message.key, current, State.SENT, SYSTEM_ACTOR,
                          f"bản lưu có cùng Message-ID trong thư mục {message.folder} của {message.mailbox} ({message.evidence})", at,
                          {"sent_at": started, "last_error": ""})
                return State.SENT
            event = {Inbound.DELAY: MailEvent.DELAYED, Inbound.REPLY: Answer.REPLIED}.get(message.kind)
            if event is not None and current is not None:
                _event(db, at, message.campaign, message.key, current, event, SYSTEM_ACTOR,
                       said if event == MailEvent.DELAYED else f"{message.from_address}: {message.subject}")
            if message.kind == Inbound.REPLY:
                self._revoke_reminders(db, letter_campaign(message.campaign), message.key,
                                       "người nhận đã trả lời công văn: không cần nhắc", at)
            return current

    def advance_cursor(self, mailbox: str, folder: str, uidvalidity: int, uid: int, now: dt.datetime) -> None:
        """Move a folder's cursor (a message left alone, or a new UIDVALIDITY with nothing in it yet)."""
        with self._write(durable=False) as db:
            self._advance(db, mailbox, folder, uidvalidity, uid, iso(now))

    @staticmethod
    def _advance(db: sqlite3.Connection, mailbox: str, folder: str, uidvalidity: int, uid: int, at: str) -> None:
        # A new UIDVALIDITY starts the count again: the old UIDs name nothing in the folder any more.
        db.execute(
            """INSERT INTO mailbox_cursors (mailbox, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (mailbox, folder) DO UPDATE SET
                   last_uid = CASE WHEN uidvalidity = excluded.uidvalidity THEN max(last_uid, excluded.last_uid)
                                   ELSE excluded.last_uid END,
                   uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at""",
            (mailbox, folder, uidvalidity, uid, at))


    # ------------------------------------------------------------------ pause

    def pause(self, campaign: str, reason: str, by: Actor, now: dt.datetime) -> None:
        self._set_pause(campaign, True, reason, by, now)

    def resume(self, campaign: str, by: Actor, now: dt.datetime) -> None:
        self._set_pause(campaign, False, "", by, now)

    def _set_pause(self, campaign: str, paused: bool, reason: str, by: Actor, now: dt.datetime) -> None:
        at = iso(now)
        with self._write() as db:
            db.execute(
                """INSERT INTO campaigns (campaign, paused, reason, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (campaign) DO UPDATE SET paused = excluded.paused, reason = excluded.reason,
                       changed_by = excluded.changed_by, changed_at = excluded.changed_at""",
                (campaign, int(paused), reason, by.name, at),
            )
            event = CampaignEvent.PAUSED if paused else CampaignEvent.RESUMED
            _event(db, at, campaign, "", None, event, by, reason)

    # ------------------------------------------------------------------ locking

    @contextlib.contextmanager
    def replacing_drafts(self, campaign: str) -> Iterator[Callable[[str], bool]]:
        """While inside, no process can claim a message (a claim needs the same write lock); gives
        whether a draft of ``campaign`` is evidence. `build` replaces a draft's files in here, once it
        has read that the draft is not evidence, and a claim checks the bytes it read are still there."""
        with self._write(durable=False) as db:
            yield lambda key: self._state(db, campaign, key) in EVIDENCE

    def evidence_keys(self, campaign: str) -> frozenset[str]:
        """The drafts of ``campaign`` handed to a channel: their bytes are kept, never rebuilt."""
        return frozenset(key for key, d in self.deliveries(campaign).items() if d.state in EVIDENCE)

    @contextlib.contextmanager
    def send_lock(self, campaign: str) -> Iterator[None]:
        """One sending process per campaign (an OS lock, released even on SIGKILL)."""
        def refusal(holder: str) -> SendInProgress:
            return SendInProgress(f"Chiến dịch {campaign} đang được gửi bởi một tiến trình khác ({holder}). "
                                  "Chờ tiến trình đó kết thúc rồi chạy lại.")

        with held_alone(self.path.with_name(send_lock_name(campaign)), refusal):
            yield

    # ------------------------------------------------------------------ internals

    def _upgrade(self) -> None:
        """Migrate a ledger written by an older version; a new file only gets its version number."""
        if self._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # read again, under the write lock
            if version > SCHEMA_VERSION:
                raise UserError(f"{self.path} được ghi bởi một phiên bản outreach mới hơn (lược đồ {version}, bản "
                                f"này chỉ đọc được tới {SCHEMA_VERSION}). Cách sửa: cập nhật outreach lên bản mới nhất.")
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'").fetchone():
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[step]:
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
    def _state_and_channel(db: sqlite3.Connection, campaign: str, key: str) -> tuple[State | None, str]:
        row = db.execute("SELECT state, channel FROM deliveries WHERE campaign = ? AND key = ?",
                         (campaign, key)).fetchone()
        return (row[0], row[1]) if row else (None, Channel.EMAIL)

    @staticmethod
    def _pause_row(db: sqlite3.Connection, campaign: str) -> PauseState:
        row = db.execute("SELECT paused, reason, changed_by, changed_at FROM campaigns WHERE campaign = ?",
                         (campaign,)).fetchone()
        return PauseState(bool(row[0]), row[1], row[2], row[3]) if row else PauseState(False)

    @staticmethod
    def _set(db: sqlite3.Connection, campaign: str, key: str, current: State | None, new: State, actor: Actor,
             detail: str, at: str, fields: Mapping[str, object]) -> None:
        _check(campaign, key, current, new)
        assignments = "".join(f', "{name}" = ?' for name in fields)  # quoted: "where" is a keyword
        db.execute(
            f"UPDATE deliveries SET state = ?, updated_at = ?{assignments} WHERE campaign = ? AND key = ?",
            (new, at, *fields.values(), campaign, key),
        )
        _event(db, at, campaign, key, current, new, actor, detail)

    def _must(self, campaign: str, key: str) -> Delivery:
        delivery = self.delivery(campaign, key)
        assert delivery is not None
        return delivery


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check(campaign: str, key: str, current: State | None, new: State) -> None:
    if new not in TRANSITIONS[current]:
        raise _illegal(campaign, key, current, new)


def _illegal(campaign: str, key: str, current: str | None, new: str) -> IllegalTransition:
    before = LABELS[current or Unsent.DRAFTED].long
    return IllegalTransition(
        f"Chiến dịch {campaign}, thư {key}: không thể chuyển từ trạng thái '{before}' sang '{LABELS[new].long}'."
    )


def paused_error(campaign: str, pause: PauseState) -> CampaignPaused:
    return CampaignPaused(
        f"Chiến dịch {campaign} đang tạm dừng (từ {pause.changed_at}, bởi {pause.changed_by}): {pause.reason} "
        f"Khi đã xử lý xong, chạy 'outreach resume {campaign}' để gửi tiếp."
    )


def _event(db: sqlite3.Connection, at: str, campaign: str, key: str, from_state: str | None, to_state: str,
           actor: Actor, detail: str) -> None:
    db.execute(
        "INSERT INTO events (at, campaign, key, from_state, to_state, actor, detail, login, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (at, campaign, key, from_state, to_state, actor.name, detail, actor.login, actor.source),
    )


_STATE_OF = {state.value: state for state in State}  # 30 times faster than State(value), per row read


def _inbound(row: sqlite3.Row) -> InboundMessage:
    values = {key: row[key] for key in row.keys() if key != "id"}
    return InboundMessage(**values | {"kind": Inbound(values["kind"])})


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        campaign=row["campaign"],
        key=row["key"],
        sender=row["sender"],
        state=_STATE_OF[row["state"]],
        message_sha256=row["message_sha256"],
        approved_by=row["approved_by"],
        approved_at=row["approved_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        message_id=row["message_id"],
        to=tuple(json.loads(row["to_addrs"])),
        cc=tuple(json.loads(row["cc_addrs"])),
        code=row["code"],
        reply=row["reply"],
        started_at=row["started_at"],
        sent_at=row["sent_at"],
        file_hashes=json.loads(row["file_hashes"]),
        last_error=row["last_error"],
        updated_at=row["updated_at"],
        channel=row["channel"],
        where=row["where"],
        posted_by=row["posted_by"],
        posted_on=row["posted_on"],
    )
