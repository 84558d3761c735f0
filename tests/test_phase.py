"""A campaign's phase as a pure function of its manifest, the ledger's counts, its period and a moment."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from outreach.config import load_config
from outreach.delivery.phase import PHASE_LABELS, Phase, campaign_phase
from outreach.outbox.manifest import Draft, Manifest

REPO = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2023, 1, 9, 2, 0, tzinfo=dt.timezone.utc)


def draft(code: str, email: bool = True, sender: str = "QLT") -> Draft:
    return Draft(campaign="c", audience="employers", code=code, name=f"Đơn vị {code}",
                 to=(f"{code.lower()}@example.vn",) if email else (), cc=(), sender=sender, district="",
                 folder=f"outbox/c/employers/{code}", files=(), message_sha256="")


# Three drafts with e-mail (two by QLT, one by TTPT) and one on paper.
MANIFEST = Manifest("c", "05/BHXH-QLT", "2023-01-02T08:00:00+07:00",
                    (draft("A"), draft("B"), draft("C", sender="TTPT"), draft("P", email=False)))


@pytest.fixture(scope="module")
def campaign():
    return replace(load_config(REPO).campaign("vssid-2022"), not_before=None, expires=NOW + dt.timedelta(days=1))


@pytest.mark.parametrize("counts,phase", [
    ({}, Phase.NUMBERED),
    ({("QLT", "revoked"): 2}, Phase.NUMBERED),  # a revoked approval is no approval
    ({("QLT", "approved"): 1}, Phase.APPROVED),
    ({("QLT", "approved"): 2, ("TTPT", "approved"): 1}, Phase.APPROVED),
    ({("QLT", "sent"): 1, ("QLT", "approved"): 1}, Phase.SENDING),
    ({("QLT", "sent"): 2}, Phase.SENDING),  # C is not approved yet
    ({("QLT", "failed"): 1}, Phase.SENDING),
    ({("QLT", "sent"): 2, ("TTPT", "sent"): 1}, Phase.SENDING),  # the letter on paper is not approved yet
    ({("QLT", "sent"): 2, ("TTPT", "sent"): 1, ("QLT", "approved"): 1}, Phase.SENDING),  # nor printed
    ({("QLT", "sent"): 2, ("TTPT", "sent"): 1, ("QLT", "printed"): 1}, Phase.SENDING),  # nor posted
    ({("QLT", "sent"): 2, ("TTPT", "sent"): 1, ("QLT", "posted"): 1}, Phase.FINISHED),
    ({("QLT", "sent"): 1, ("QLT", "failed"): 1, ("TTPT", "uncertain"): 1, ("QLT", "posted"): 1},
     Phase.FINISHED),  # nothing left to send
    ({("QLT", "posted"): 1, ("QLT", "failed"): 2, ("TTPT", "failed"): 1}, Phase.FINISHED),  # delivered: on paper
    ({("QLT", "sent"): 2, ("TTPT", "retrying"): 1}, Phase.SENDING),
    ({("QLT", "sent"): 2, ("TTPT", "sending"): 1}, Phase.SENDING),
])
def test_phase_follows_the_ledger(campaign, counts, phase) -> None:
    assert campaign_phase(MANIFEST, counts, campaign, NOW) is phase


def test_phase_before_drafts_and_before_the_number(campaign) -> None:
    assert campaign_phase(None, {}, campaign, NOW) is Phase.NOT_BUILT
    assert campaign_phase(replace(MANIFEST, document_number="     /BHXH-QLT"), {}, campaign, NOW) is Phase.BUILT


def test_expiry_ends_every_unfinished_campaign_and_spares_a_finished_one(campaign) -> None:
    later = NOW + dt.timedelta(days=1)  # the moment it expires
    assert campaign_phase(MANIFEST, {("QLT", "approved"): 2}, campaign, later - dt.timedelta(seconds=1)) is Phase.APPROVED
    assert campaign_phase(MANIFEST, {("QLT", "approved"): 2}, campaign, later) is Phase.EXPIRED
    assert campaign_phase(replace(MANIFEST, document_number=""), {}, campaign, later) is Phase.EXPIRED
    done = {("QLT", "sent"): 2, ("TTPT", "sent"): 1, ("QLT", "posted"): 1}
    assert campaign_phase(MANIFEST, done, campaign, later) is Phase.FINISHED
    assert campaign_phase(MANIFEST, {("QLT", "approved"): 2}, None, later) is Phase.APPROVED  # no longer configured


def test_every_phase_has_a_label() -> None:
    assert set(PHASE_LABELS) == set(Phase) and len(set(PHASE_LABELS.values())) == len(Phase)
