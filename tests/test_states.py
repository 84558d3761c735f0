"""One source for states: the enum, the sets derived from the transition table, the SQL CHECK, the
labels, and no page or module that re-types them."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from pathlib import Path

import outreach
from outreach.delivery import ledger as ledger_module
from outreach.delivery.ledger import (
    APPROVABLE,
    CLAIMABLE,
    DELIVERED,
    DRAFT_STATES,
    EVIDENCE,
    FAILURE_STATES,
    LABELS,
    POSTABLE,
    REVOCABLE,
    TRANSITIONS,
    WAITING,
    Answer,
    BOUNCEABLE,
    CampaignEvent,
    Ledger,
    MailEvent,
    State,
    Unsent,
    count_line,
    event_label,
)

PACKAGE = Path(outreach.__file__).parent
# The strings ledgers already written hold: a changed value would orphan their rows. A new one
# (printed, posted: schema 2) widens the CHECK, which takes a migration (test_ledger.py).
STORED = ("approved", "sending", "sent", "retrying", "failed", "uncertain", "printed", "posted", "revoked", "bounced")


def test_stored_values_are_those_of_existing_ledgers() -> None:
    assert tuple(State) == STORED
    assert set(TRANSITIONS) == {None, *State}


def test_the_sql_check_is_generated_from_the_enum(tmp_path: Path) -> None:
    Ledger(tmp_path / "ledger.sqlite").close()
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'deliveries'").fetchone()
    (listed,) = re.findall(r"CHECK \(state IN \(([^)]*)\)\)", sql)
    assert listed == ", ".join(f"'{value}'" for value in STORED)


def test_derived_sets_equal_the_sets_each_consumer_typed_before() -> None:
    assert REVOCABLE == {"approved", "retrying", "failed"}
    assert CLAIMABLE == {"approved", "retrying"}
    assert EVIDENCE == {"sending", "sent", "uncertain", "printed", "posted", "bounced"}
    assert FAILURE_STATES == {"retrying", "failed", "uncertain"}
    assert APPROVABLE == {"approved", "retrying", "failed", "revoked"}
    assert WAITING == {"approved", "retrying", "sending"}
    assert POSTABLE == {"printed"} and DELIVERED == {"sent", "posted"}
    assert BOUNCEABLE == {"sent", "uncertain"}
    assert DRAFT_STATES == ("drafted", "approved", "sending", "sent", "retrying", "failed", "uncertain", "printed",
                            "posted", "bounced")


def test_only_a_printed_letter_can_be_posted_and_nothing_twice() -> None:
    assert {state for state, nexts in TRANSITIONS.items() if State.POSTED in nexts} == {State.PRINTED}
    assert {state for state, nexts in TRANSITIONS.items() if State.PRINTED in nexts} == \
        {State.SENDING, State.UNCERTAIN, State.BOUNCED, State.FAILED}  # the last two: what the e-mail did not reach
    assert TRANSITIONS[State.POSTED] == frozenset() and TRANSITIONS[State.SENT] == {State.BOUNCED}
    assert TRANSITIONS[State.BOUNCED] == {State.PRINTED}  # its letter goes on paper (the supplementary bundle)


def test_every_state_and_event_has_both_labels_in_vietnamese() -> None:
    named = [*State, *Unsent, *CampaignEvent, *Answer, *MailEvent]
    assert set(LABELS) == set(named)
    for key in named:
        label = LABELS[key]
        assert label.short and label.long, key
        assert label.short[0].isupper() and label.long == label.long.lower(), key
        assert unicodedata.is_normalized("NFC", label.short + label.long), key
    assert len({LABELS[key].short for key in named}) == len(named)  # no two states read the same


def test_event_labels_and_count_lines() -> None:
    assert event_label(None) == "Chưa duyệt" and event_label("revoked") == "Đã hủy duyệt"
    assert event_label("resumed") == "Gửi tiếp" and event_label("something new") == "something new"
    assert count_line({"sent": 2, "drafted": 3, "failed": 0}) == "chưa duyệt 3, đã gửi 2"
    assert count_line({"approved": 1}, ": ") == "đã duyệt, chờ gửi: 1"


def test_templates_test_states_through_the_exported_sets() -> None:
    """A quoted state in a Jinja expression is a re-typed state: ``row.state in ('approved', …)``."""
    names = "|".join(value for value in [*State, *Unsent])
    literal = re.compile(rf"""['"]({names})['"]""")
    offenders = [f"{path.name}: {expression}"
                 for path in sorted((PACKAGE / "web" / "templates").glob("*.html"))
                 for expression in re.findall(r"{[{%].*?[%}]}", path.read_text(encoding="utf-8"), re.S)
                 if literal.search(expression)]
    assert offenders == []


def test_no_module_re_types_a_state_set() -> None:
    """Tuples or sets of two or more quoted state names outside the ledger are copies of its sets."""
    names = "|".join(value for value in [*State, *Unsent])
    pair = re.compile(rf"""[(\[{{]\s*['"]({names})['"]\s*,\s*['"]({names})['"]""")
    offenders = [f"{path.relative_to(PACKAGE)}: {line.strip()}"
                 for path in sorted(PACKAGE.rglob("*.py")) if path != Path(ledger_module.__file__)
                 for line in path.read_text(encoding="utf-8").splitlines() if pair.search(line)]
    assert offenders == []
