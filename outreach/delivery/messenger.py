"""The seam between the sending engine and a channel (listmonk's ``Messenger``, httpx's transport).

The engine hands a channel a :class:`Handover` (exactly the approved bytes and their envelope) and
gets back a channel-neutral :class:`Result`. The engine keeps the ledger, the quota and the retry
policy; a channel keeps its wire and knows its payload. E-mail over SMTP is one channel
(``smtp.SmtpMessenger``), paper the other (``paper.PaperMessenger``): a draft names its channel and
the engine hands it to ``messengers[draft.channel]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ..config import Sender
from ..outbox import Channel, Draft
from ..outbox import Envelope

EMAIL = Channel.EMAIL  # approval binds to message.eml
PAPER = Channel.PAPER  # approval binds to letter.pdf

Kind = Literal[
    "accepted",   # the channel took the message: sent
    "temporary",  # refused for now, before the channel could have it: try again later
    "permanent",  # refused for good: failed
    "unknown",    # handed over, no answer came: the recipient may have it, so it is never resent
]


@dataclass(frozen=True)
class Handover:
    """Everything a channel is given: the approved bytes, unchanged, and who they go from and to."""

    key: str  # the draft's key (audience/code), for the channel's own records
    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes
    # Names the delivery in what comes back (RFC 3461 ENVID, where the server offers DSN); "" for none.
    envelope_id: str = ""


@dataclass(frozen=True)
class Result:
    kind: Kind
    code: int | None  # the channel's own code (an SMTP reply code), if it gives one
    reply: str  # the channel's words, or the error
    where: str  # at which step, e.g. "RCPT TO:<a@b.vn>"
    unreachable: bool = False  # the channel could not be reached at all: the sender's batch stops
    advice: str = ""  # for staff, Vietnamese: what the failure means and what the office can do

    @property
    def said(self) -> str:
        """Where it happened and the channel's words, e.g. ``RCPT TO:<a@b.vn>: 550 5.1.1 No such user``."""
        return " ".join(part for part in (f"{self.where}:", str(self.code or ""), self.reply) if part)


class Session(Protocol):
    """One sender's batch on one channel (one SMTP connection)."""

    def deliver(self, handover: Handover) -> Result:
        """Hand one message over; never raises for the channel's failures, which are results."""
        ...

    def close(self) -> None: ...


class Messenger(Protocol):
    name: str  # the channel, e.g. "email"
    paced: bool  # the sender's daily quota, rate and --limit apply (a mail server's); paper has none

    def envelope(self, draft: Draft, data: bytes) -> Envelope | str:
        """Who the approved payload goes to, read from it; or why it must not go (Vietnamese), e.g.
        an e-mail whose recipients differ from the manifest's. Never touches the channel."""
        ...

    def check(self, sender: Sender) -> None:
        """Refuse up front, with a UserError, what would stop every message (a missing password)."""
        ...

    def open(self, sender: Sender) -> Session:
        """A session for this sender's batch, once ``check`` has passed. Nothing goes over the network
        yet: a channel that cannot be reached says so in the first ``deliver`` (``unreachable``)."""
        ...
