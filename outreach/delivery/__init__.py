"""Delivery: approval, sending exactly once, and the record of it.

* ``ledger``: the single source of truth (SQLite): approvals, delivery states, append-only events;
  the ``State`` enum, the sets derived from its transitions and the one table of Vietnamese labels.
* ``phase``: the campaign's phase (built, numbered, approved, sending, finished, expired).
* ``approval``: approve (bound to the sha256 of the payload: message.eml, or letter.pdf on paper),
  revoke, resolve, resume, post (a person took printed letters to the post office).
* ``engine``: ``send_campaign``, which hands approved bytes to each draft's channel and records the answer.
* ``messenger``: the seam between the engine and a channel (``Messenger``, ``Handover``, ``Result``).
* ``smtp``: the e-mail channel over SMTP (``SmtpMessenger``).
* ``paper``: the paper channel: approved letters into print bundles (``PaperMessenger``).
* ``ledger`` also keeps the confirmation links' token hashes and the recipients' confirmations
  (``Ledger.receipt``, ``confirm``, ``answered_keys``).
* ``trial``: test copies to a tester; ``report``: status counts and the delivery report XLSX.
* ``sink``: a local SMTP server storing a Maildir, for the demo and the tests.
* ``notices``: the tagged return path (VERP) set when sending; what a message in a sender's mailbox
  is (RFC 3464 report, non-standard bounce, auto-reply, reply, copy) and its clues (pure).
* ``collect``: ``outreach collect``: the senders' mailboxes over IMAP, each message tied to its
  delivery, recorded with its evidence, moved to a folder of its own (never deleted).

Callers outside the package import from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .approval import (Clock, FourEyes, approve, approved_copy_path, approved_states, check_approver, post, resolve,
                       resume, revoke)
from .collect import CollectReport, Found, collect
from .engine import RetryPolicy, SendReport, Sleep, send_campaign
from .smtp_advice import error_advice
from .ledger import (
    APPROVABLE,
    BOUNCEABLE,
    CLAIMABLE,
    DELIVERED,
    DRAFT_STATES,
    EVIDENCE,
    FAILURE_STATES,
    INBOUND_LABELS,
    LABELS,
    POSTABLE,
    REVOCABLE,
    SYSTEM_ACTOR,
    WAITING,
    Answer,
    Attempt,
    CampaignEvent,
    CampaignPaused,
    Confirmation,
    Delivery,
    DraftState,
    Event,
    IllegalTransition,
    Inbound,
    InboundMessage,
    Ledger,
    MailEvent,
    Outcome,
    PauseState,
    Receipt,
    SendInProgress,
    State,
    Unsent,
    count_line,
    event_label,
    sending_process,
    utc_now,
)
from .phase import PHASE_LABELS, Phase, campaign_phase
from .messenger import EMAIL, PAPER, Handover, Messenger, Result, Session
from .notices import Notice, read_notice, return_path_secret, verp_token
from .paper import PaperMessenger, bundle_of, bundles
from .report import (NEXT_STEPS, PaperLetter, StatusCounts, answer_of, answer_text, campaign_status, draft_state,
                     not_received, write_delivery_report)
from .smtp import SmtpMessenger
from .trial import TrialCopy, send_test_copy

if TYPE_CHECKING:
    from .sink import MaildirHandler, SmtpSink, run_sink

__all__ = [
    "APPROVABLE",
    "Answer",
    "Attempt",
    "BOUNCEABLE",
    "CLAIMABLE",
    "CampaignEvent",
    "CampaignPaused",
    "Clock",
    "CollectReport",
    "Confirmation",
    "DELIVERED",
    "DRAFT_STATES",
    "Delivery",
    "DraftState",
    "EMAIL",
    "EVIDENCE",
    "Event",
    "FAILURE_STATES",
    "Found",
    "FourEyes",
    "Handover",
    "INBOUND_LABELS",
    "IllegalTransition",
    "Inbound",
    "InboundMessage",
    "LABELS",
    "Ledger",
    "MailEvent",
    "MaildirHandler",
    "Messenger",
    "NEXT_STEPS",
    "Notice",
    "Outcome",
    "PAPER",
    "PHASE_LABELS",
    "POSTABLE",
    "PaperLetter",
    "PaperMessenger",
    "PauseState",
    "Phase",
    "REVOCABLE",
    "Receipt",
    "Result",
    "RetryPolicy",
    "SYSTEM_ACTOR",
    "SendInProgress",
    "SendReport",
    "Session",
    "Sleep",
    "SmtpMessenger",
    "SmtpSink",
    "State",
    "StatusCounts",
    "TrialCopy",
    "Unsent",
    "WAITING",
    "answer_of",
    "answer_text",
    "approve",
    "approved_copy_path",
    "approved_states",
    "bundle_of",
    "bundles",
    "campaign_phase",
    "campaign_status",
    "check_approver",
    "collect",
    "count_line",
    "draft_state",
    "error_advice",
    "event_label",
    "not_received",
    "post",
    "read_notice",
    "resolve",
    "resume",
    "return_path_secret",
    "revoke",
    "run_sink",
    "send_campaign",
    "send_test_copy",
    "sending_process",
    "utc_now",
    "verp_token",
    "write_delivery_report",
]

_SINK = ("MaildirHandler", "SmtpSink", "run_sink")


def __getattr__(name: str) -> object:
    # The sink brings aiosmtpd and asyncio (~130 ms to import): only the demo and the tests need it.
    if name in _SINK:
        from . import sink

        return getattr(sink, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
