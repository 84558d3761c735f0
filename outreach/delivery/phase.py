"""Where a campaign stands, derived in one place: ``outreach status``, the web pages and
``outreach schedule show`` all ask :func:`campaign_phase` and show :data:`PHASE_LABELS`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

from ..config import Campaign
from ..outbox import Manifest
from .ledger import DELIVERED, EVIDENCE, FAILURE_STATES, POSTABLE, WAITING, State

# Reached only through a send: a message in one of these was handed to a channel at least once.
HANDED_OVER = EVIDENCE | FAILURE_STATES
# Still to happen before the campaign is done: the engine's part, or (printed) a person's trip to the post.
OUTSTANDING = WAITING | POSTABLE


class Phase(StrEnum):
    NOT_BUILT = "not_built"  # no manifest yet
    BUILT = "built"  # drafts, the letter not numbered yet: nothing can be approved
    NUMBERED = "numbered"  # numbered, nothing approved yet
    APPROVED = "approved"  # approved messages wait; none handed to a server yet
    SENDING = "sending"  # messages handed to servers, not finished
    FINISHED = "finished"  # something delivered, nothing left to approve, send or post
    EXPIRED = "expired"  # past its expiry, not finished: what is left is never sent


PHASE_LABELS: Mapping[Phase, str] = {
    Phase.NOT_BUILT: "Chưa có bản thảo",
    Phase.BUILT: "Chưa cấp số",
    Phase.NUMBERED: "Đã cấp số, chờ duyệt",
    Phase.APPROVED: "Đã duyệt, chờ gửi",
    Phase.SENDING: "Đang trong đợt gửi",
    Phase.FINISHED: "Đã gửi xong",
    Phase.EXPIRED: "Đã hết hạn",
}


def campaign_phase(manifest: Manifest | None, ledger_counts: Mapping[tuple[str, str], int],
                   campaign: Campaign | None, now: dt.datetime) -> Phase:
    """The phase from the manifest, ``Ledger.state_counts`` (one GROUP BY, no rows loaded) and the
    campaign's period in config.toml (None: no longer configured, so no expiry)."""
    if manifest is None:
        return Phase.NOT_BUILT
    states: dict[str, int] = {}
    for (_, state), count in ledger_counts.items():
        states[state] = states.get(state, 0) + count
    approved = sum(count for state, count in states.items() if state != State.REVOKED)
    unapproved = max(len(manifest.drafts) - approved, 0)  # letters on paper too: each needs approval
    left = unapproved + sum(states.get(state, 0) for state in OUTSTANDING)
    if not left and any(states.get(state) for state in DELIVERED):
        return Phase.FINISHED
    if campaign is not None and campaign.has_expired(now):
        return Phase.EXPIRED
    if not manifest.numbered:
        return Phase.BUILT
    if any(states.get(state) for state in HANDED_OVER):
        return Phase.SENDING
    return Phase.APPROVED if approved else Phase.NUMBERED
