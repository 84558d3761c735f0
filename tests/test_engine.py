"""The sending engine against a fake channel made of a plain function: no sockets, no SMTP.

What the engine decides from a channel's answer (sent, retrying, failed, uncertain, stop the
sender's batch) and that a message reaches the channel once. The SMTP wire itself is tested
against aiosmtpd in test_delivery.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from factories import (
    CAMPAIGN, SENDERS, START, Clock, FakeMessenger, Recipient, accepted, config_data, employers, make_outbox,
)
from outreach.config import Config, parse_config
from outreach.delivery import (
    Handover, Ledger, PaperMessenger, Result, RetryPolicy, SendReport, approve, send_campaign,
)
from outreach.errors import UserError
from outreach.outbox.manifest import Manifest


@dataclass
class Box:
    root: Path
    config: Config
    manifest: Manifest
    ledger: Ledger
    clock: Clock

    def send(self, *messengers: FakeMessenger, **options) -> SendReport:
        return send_campaign(self.config, self.manifest, self.ledger, messengers={m.name: m for m in messengers},
                             clock=self.clock, sleep=self.clock.sleep, **options)

    def state(self, key: str) -> str:
        return self.ledger.delivery(CAMPAIGN, key).state


@pytest.fixture
def box_factory(tmp_path: Path) -> Iterator[Callable[[list[Recipient]], Box]]:
    ledgers: list[Ledger] = []

    def factory(recipients: list[Recipient]) -> Box:
        root = tmp_path / "work"
        data = config_data(1)  # an SMTP profile nobody connects to: the fake channel replaces it
        manifest, _ = make_outbox(root, recipients, data)
        ledger = Ledger.open(root)
        ledgers.append(ledger)
        clock = Clock()
        approve(root, ledger, manifest, "Nguyễn Thị Duyệt", clock=clock)
        return Box(root, parse_config(data, root), manifest, ledger, clock)

    yield factory
    for ledger in ledgers:
        ledger.close()


def scripted(*results: Result) -> Callable[[Handover], Result]:
    """One result per handover, in order, then 'accepted' for anything after."""
    queue = list(results)
    return lambda handover: queue.pop(0) if queue else accepted(handover)


BUSY = Result("temporary", 451, "4.3.0 Hệ thống bận, thử lại sau", "RCPT TO:<dv1@example.vn>")
UNKNOWN_USER = Result("permanent", 550, "5.1.1 User unknown", "RCPT TO:<dv1@example.vn>")
NO_REPLY = Result("unknown", None, "SMTPServerDisconnected: Connection unexpectedly closed", "sau dấu chấm cuối")
DOWN = Result("temporary", None, "ConnectionRefusedError: [Errno 111]", "máy chủ thư 127.0.0.1:1", unreachable=True)


def test_an_accepted_message_is_sent_with_exactly_the_approved_bytes(box_factory) -> None:
    box = box_factory([Recipient("communes", "22333", "Ủy ban nhân dân Phường Vĩnh Hòa", ("ubnd@example.vn",),
                                 cc=("nhatrang@bhxh-khanhhoa.example.vn",), sender="TTPT")])
    messenger = FakeMessenger(accepted)

    report = box.send(messenger)

    assert report.sent == ["communes/22333"]
    (handover,) = messenger.handed
    draft = box.manifest.drafts[0]
    assert handover == Handover("communes/22333", SENDERS["TTPT"][0], ("ubnd@example.vn",
                                "nhatrang@bhxh-khanhhoa.example.vn"), draft.eml_path(box.root).read_bytes())
    assert messenger.checked == messenger.opened == ["TTPT"] and messenger.closed == 1
    delivery = box.ledger.delivery(CAMPAIGN, "communes/22333")
    assert (delivery.state, delivery.channel, delivery.code, delivery.reply, delivery.where) == (
        "sent", "email", 250, "2.0.0 Ok: queued as communes/22333", "DATA")


def test_temporary_twice_then_accepted_retries_with_backoff_then_sends(box_factory) -> None:
    box = box_factory(employers(1))
    messenger = FakeMessenger(scripted(BUSY, BUSY))

    first = box.send(messenger)
    assert [p.key for p in first.retrying] == ["employers/TA00001"] and first.sent == []
    assert "451 4.3.0 Hệ thống bận" in first.retrying[0].message
    delivery = box.ledger.delivery(CAMPAIGN, "employers/TA00001")
    assert (delivery.state, delivery.code, delivery.where) == ("retrying", 451, "RCPT TO:<dv1@example.vn>")
    assert delivery.next_attempt_at == (START + dt.timedelta(minutes=5)).isoformat(timespec="milliseconds")

    assert box.send(messenger).skipped[0].message.startswith("Chờ gửi lại sau")  # not due yet: not handed
    box.clock.advance(minutes=5)
    assert box.send(messenger).retrying[0].key == "employers/TA00001"
    assert box.ledger.delivery(CAMPAIGN, "employers/TA00001").next_attempt_at == (
        START + dt.timedelta(minutes=15)).isoformat(timespec="milliseconds")  # doubled: 10 minutes later
    box.clock.advance(minutes=10)
    assert box.send(messenger).sent == ["employers/TA00001"]

    assert messenger.handed_keys() == ["employers/TA00001"] * 3
    delivery = box.ledger.delivery(CAMPAIGN, "employers/TA00001")
    assert (delivery.state, delivery.attempts, delivery.code) == ("sent", 3, 250)


def test_temporary_until_the_last_attempt_fails(box_factory) -> None:
    box = box_factory(employers(1))
    messenger = FakeMessenger(lambda handover: BUSY)
    retry = RetryPolicy(max_attempts=2, retry_base=dt.timedelta(minutes=1))

    box.send(messenger, retry=retry)
    box.clock.advance(minutes=1)
    report = box.send(messenger, retry=retry)

    assert report.failed[0].message.startswith("Lỗi tạm thời lặp lại 2 lần")
    assert box.state("employers/TA00001") == "failed" and len(messenger.handed) == 2


@pytest.mark.parametrize(("answer", "state", "words"), [
    (UNKNOWN_USER, "failed", "550 5.1.1 User unknown"),  # refused for good
    (NO_REPLY, "uncertain", "KHÔNG được gửi lại tự động"),  # handed over, no answer: it may have arrived
])
def test_a_refused_or_unanswered_message_is_never_handed_over_again(box_factory, answer, state, words) -> None:
    box = box_factory(employers(2))
    messenger = FakeMessenger(scripted(answer))

    report = box.send(messenger)

    (problem,) = getattr(report, state)
    assert problem.key == "employers/TA00001" and words in problem.message
    assert report.sent == ["employers/TA00002"]
    for _ in range(3):
        box.clock.advance(hours=6)
        assert box.send(messenger).sent == []
    assert messenger.handed_keys() == ["employers/TA00001", "employers/TA00002"]
    assert box.state("employers/TA00001") == state


def test_unreachable_channel_stops_that_senders_batch_only(box_factory) -> None:
    commune = Recipient("communes", "22333", "UBND Phường Vĩnh Hòa", ("ubnd@example.vn",), sender="TTPT")
    box = box_factory([*employers(3), commune])
    messenger = FakeMessenger(lambda h: DOWN if h.envelope_from == SENDERS["QLT"][0] else accepted(h))

    report = box.send(messenger)

    assert [p.key for p in report.retrying] == ["employers/TA00001"]  # the one that found the channel down
    assert [p.key for p in report.skipped] == ["employers/TA00002", "employers/TA00003"]
    assert report.skipped[0].message.startswith("Không kết nối được máy chủ thư 127.0.0.1:1 (ConnectionRefusedError")
    assert report.sent == ["communes/22333"]  # the other sender goes on
    assert messenger.handed_keys() == ["employers/TA00001", "communes/22333"]
    assert [box.state(f"employers/TA0000{i}") for i in (2, 3)] == ["approved", "approved"]


def test_each_message_reaches_the_channel_once_across_runs_and_a_crash(box_factory) -> None:
    box = box_factory(employers(4))

    def dies_on_the_third(handover: Handover) -> Result:
        if handover.key == "employers/TA00003":
            raise KeyboardInterrupt  # the process is stopped while the channel has the message
        return accepted(handover)

    messenger = FakeMessenger(dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        box.send(messenger)
    assert box.state("employers/TA00003") == "sending"

    messenger.handler = accepted
    second = box.send(messenger)
    assert second.interrupted == ["employers/TA00003"] and second.sent == ["employers/TA00004"]
    assert box.send(messenger).sent == []

    assert messenger.handed_keys() == [f"employers/TA0000{i}" for i in (1, 2, 3, 4)]  # each once
    assert box.state("employers/TA00003") == "uncertain"


def test_credentials_are_checked_for_every_sender_before_the_first_message(box_factory) -> None:
    commune = Recipient("communes", "22333", "UBND Phường Vĩnh Hòa", ("ubnd@example.vn",), sender="TTPT")
    box = box_factory([*employers(2), commune])

    class NoPasswordForTTPT(FakeMessenger):
        def check(self, sender) -> None:
            super().check(sender)
            if sender.code == "TTPT":
                raise UserError("Hồ sơ SMTP 'sink' cần mật khẩu")

    messenger = NoPasswordForTTPT(accepted)
    with pytest.raises(UserError, match="cần mật khẩu"):
        box.send(messenger)
    assert messenger.checked == ["QLT", "TTPT"] and messenger.handed == []
    assert {d.state for d in box.ledger.deliveries(CAMPAIGN).values()} == {"approved"}


def test_dry_run_never_touches_the_channel(box_factory) -> None:
    box = box_factory(employers(2))
    messenger = FakeMessenger(accepted)

    report = box.send(messenger, dry_run=True)

    assert report.would_send == ["employers/TA00001", "employers/TA00002"]
    assert messenger.checked == messenger.opened == messenger.handed == []


def test_failures_in_a_row_pause_the_campaign(box_factory) -> None:
    box = box_factory(employers(4))
    messenger = FakeMessenger(lambda handover: UNKNOWN_USER)

    report = box.send(messenger, retry=RetryPolicy(pause_after_failures=2))

    assert len(report.failed) == 2 and report.paused.startswith("Tự động tạm dừng sau 2 lần")
    assert len(messenger.handed) == 2 and box.ledger.pause_state(CAMPAIGN).paused


PAPER_LETTER = Recipient("employers", "PG00001", "Hộ kinh doanh Bà Ba", ())


def printed(handover: Handover) -> Result:
    return Result("accepted", None, "xếp vào bản in", "paper/lo-in-01-QLT.pdf, trang 1")


def test_each_draft_goes_to_the_messenger_of_its_channel(box_factory) -> None:
    box = box_factory([*employers(1), PAPER_LETTER])
    mail = FakeMessenger(accepted)
    paper = FakeMessenger(printed, name="paper", paced=False, address=PaperMessenger(box.root / "p").envelope)

    report = box.send(mail, paper)

    assert report.sent == ["employers/TA00001"] and report.printed == ["employers/PG00001"]
    assert mail.handed_keys() == ["employers/TA00001"] and paper.handed_keys() == ["employers/PG00001"]
    draft = box.manifest.draft("PG00001")
    assert paper.handed[0] == Handover("employers/PG00001", SENDERS["QLT"][0], ("Hộ kinh doanh Bà Ba",),
                                       draft.path(box.root, "letter.pdf").read_bytes())  # the approved PDF
    assert paper.checked == paper.opened == ["QLT"] and paper.closed == 1
    delivery = box.ledger.delivery(CAMPAIGN, "employers/PG00001")
    assert (delivery.state, delivery.channel, delivery.where, delivery.message_id) == (
        "printed", "paper", "paper/lo-in-01-QLT.pdf, trang 1", "")
    assert box.state("employers/TA00001") == "sent"


def test_a_channel_with_no_messenger_in_the_run_is_left_as_it_is(box_factory) -> None:
    box = box_factory([*employers(1), PAPER_LETTER])
    mail = FakeMessenger(accepted)

    report = box.send(mail)

    assert report.sent == ["employers/TA00001"] and mail.handed_keys() == ["employers/TA00001"]
    assert [(p.key, p.reason) for p in report.skipped] == [("employers/PG00001", "no_channel")]
    assert box.state("employers/PG00001") == "approved"


def test_retry_policy_doubles_the_wait_up_to_its_cap() -> None:
    policy = RetryPolicy(retry_base=dt.timedelta(minutes=5), cap=dt.timedelta(hours=1))
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [dt.timedelta(minutes=m) for m in (5, 10, 20, 40, 60)]


def test_a_clock_behind_the_last_send_waits_one_interval_not_until_then(box_factory, caplog) -> None:
    box = box_factory(employers(3))
    box.config = parse_config(config_data(1, messages_per_minute=6), box.root)  # 10 s apart
    messenger = FakeMessenger(accepted)
    box.clock.advance(days=400)  # the clock was wrong when the first message went out
    assert box.send(messenger, limit=1).sent == ["employers/TA00001"]

    box.clock.now = START  # stepped back (NTP), or `run --once --at` a past moment
    box.clock.slept.clear()
    with caplog.at_level("WARNING", logger="outreach.delivery"):
        report = box.send(messenger)

    assert report.sent == ["employers/TA00002", "employers/TA00003"]
    assert box.clock.slept == [10.0, 10.0]  # never more than one interval, not 400 days
    (warning,) = [r for r in caplog.records if r.name == "outreach.delivery"]
    assert "đồng hồ" in warning.getMessage() and "QLT" in warning.getMessage()
