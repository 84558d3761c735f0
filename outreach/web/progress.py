"""Sending progress of one campaign: counts, whether a sending process runs now, recent events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..delivery import DELIVERED, DRAFT_STATES, Event, PauseState, State, event_label
from ..localtime import local_time
from .store import Row
from ..workspace import Workspace, lock_held


def send_running(root: Path, campaign: str) -> bool:
    """True while a process holds the campaign's send lock (``Ledger.send_lock``)."""
    return lock_held(Workspace(root).send_lock(campaign))


@dataclass(frozen=True)
class EventView:
    at: str
    key: str
    name: str
    change: str
    actor: str
    detail: str


@dataclass(frozen=True)
class Progress:
    campaign: str
    running: bool
    paused: bool
    pause_reason: str
    pause_by: str
    counts: dict[str, int]
    total: int
    approved: int  # approved at least once and not revoked: the messages this run is about
    sent: int  # delivered: e-mailed, or posted on paper
    percent: int
    events: tuple[EventView, ...]

    def as_json(self) -> dict:
        return asdict(self)


def progress(campaign: str, rows: Sequence[Row], pause: PauseState, running: bool,
             events: Sequence[Event]) -> Progress:
    counts = Counter(row.state for row in rows)
    approved = sum(counts[state] for state in State if state is not State.REVOKED)
    names = {row.key: row.draft.name for row in rows}
    delivered = sum(counts[state] for state in DELIVERED)
    return Progress(
        campaign=campaign,
        running=running,
        paused=pause.paused,
        pause_reason=pause.reason,
        pause_by=pause.changed_by,
        counts={state: counts.get(state, 0) for state in DRAFT_STATES},
        total=len(rows),
        approved=approved,
        sent=delivered,
        percent=round(100 * delivered / approved) if approved else 0,
        events=tuple(_event(event, names) for event in events),
    )


def _event(event: Event, names: dict[str, str]) -> EventView:
    before = event_label(event.from_state) if event.key else ""
    after = event_label(event.to_state)
    return EventView(
        at=local_time(event.at),
        key=event.key,
        name=names.get(event.key, "Cả chiến dịch" if not event.key else ""),
        change=f"{before} → {after}" if before else after,
        actor=event.actor,
        detail=event.detail,
    )
