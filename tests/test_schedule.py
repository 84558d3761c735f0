"""`outreach run` / `schedule show`: department windows, holidays, quotas and expiry, through the real
ledger and a real SMTP sink on loopback. Time is injected: no test sleeps."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import types
from collections import Counter
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
import schedule as schedule_lib

from outreach.accounts import Actor
from outreach.delivery import Attempt, Ledger, Outcome, send_campaign
from outreach.outbox.manifest import Skip, Stop
from outreach.schedule import scheduler as tick_module
from outreach.errors import UserError
from outreach.schedule import run_scheduler, schedule_plan, scheduler_status, show_schedule, tick

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAMPAIGN = "vssid-2022"


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2023, month, day, hour, minute, second, tzinfo=VN)


class Sleeper:
    """The injected sleep: records, never waits (the tick's clock advances by what is slept)."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def run_tick(kit, now: dt.datetime, lines: list[str] | None = None, **options):
    options.setdefault("sleep", Sleeper())
    return tick(kit.config, now, log=(lines if lines is not None else []).append, **options)


def sent_times(kit, campaign: str) -> dict[str, dt.datetime]:
    with Ledger.open(kit.root) as ledger:
        return {key: dt.datetime.fromisoformat(d.started_at).astimezone(VN)
                for key, d in ledger.deliveries(campaign).items() if d.state == "sent"}


# ---------------------------------------------------------------------------- windows and days


def test_window_opens_and_closes(kit) -> None:
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 7, "QLT"))
    kit.approve(CAMPAIGN)
    lines: list[str] = []

    early = run_tick(kit, at(1, 9, 7, 59), lines)
    assert early.sent == 0 and early.sender("QLT").idle == "ngoài giờ gửi, mở lại 08:00 T2 09/01/2023"
    opening = run_tick(kit, at(1, 9, 8, 0), lines)
    assert opening.sent == 3  # batch_size per tick
    assert run_tick(kit, at(1, 9, 10, 59), lines).sent == 3
    closed = run_tick(kit, at(1, 9, 11, 0), lines)
    assert closed.sent == 0 and closed.sender("QLT").idle == "ngoài giờ gửi, mở lại 08:00 T3 10/01/2023"

    assert lines == [
        "[T2 09/01/2023 07:59:00] QLT: ngoài giờ gửi, mở lại 08:00 T2 09/01/2023; còn 7 thư chờ gửi",
        "[T2 09/01/2023 08:00:00] QLT: đã gửi 3, còn 4 thư chờ gửi",
        "[T2 09/01/2023 10:59:00] QLT: đã gửi 3, còn 1 thư chờ gửi",
        "[T2 09/01/2023 11:00:00] QLT: ngoài giờ gửi, mở lại 08:00 T3 10/01/2023; còn 1 thư chờ gửi",
    ]
    assert all(at(1, 9, 8) <= moment < at(1, 9, 11) for moment in sent_times(kit, CAMPAIGN).values())


def test_window_closing_mid_batch_stops_before_the_next_message(kit) -> None:
    kit.schedule("QLT", batch_size=5, messages_per_minute=6)  # one message every 10 s
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 5, "QLT"))
    kit.approve(CAMPAIGN)
    sleeper = Sleeper()

    report = run_tick(kit, at(1, 9, 10, 59, 40), sleep=sleeper)

    assert report.sent == 2 and sleeper.slept == [10.0, 10.0]  # 10:59:40, 10:59:50; 11:00:00 is too late
    assert sorted(sent_times(kit, CAMPAIGN).values()) == [at(1, 9, 10, 59, 40), at(1, 9, 10, 59, 50)]
    assert kit.states(CAMPAIGN) == Counter({"approved": 3, "sent": 2})
    (entry,) = report.sender("QLT").campaigns
    assert "Đã hết khung giờ gửi của Phòng Quản lý thu" in entry.report.stopped
    data = json.loads(json.dumps(report.as_json(), ensure_ascii=False))  # for `run --json` and the web
    assert data["at"] == "2023-01-09T10:59:40+07:00" and data["senders"][0]["sent"] == 2


def test_weekends_holidays_and_days_off_are_skipped(kit) -> None:
    kit.schedule("QLT", days_off=[dt.date(2023, 1, 19)])
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 3, "QLT"))
    kit.approve(CAMPAIGN)
    lines: list[str] = []

    for moment in (at(1, 14, 9), at(1, 15, 9), at(1, 19, 9), at(1, 20, 9), at(1, 23, 9), at(1, 26, 10)):
        assert run_tick(kit, moment, lines).sent == 0
    assert [line.split("] ")[1] for line in lines] == [
        "QLT: ngày nghỉ hằng tuần (Thứ Bảy); còn 3 thư chờ gửi",
        "QLT: ngày nghỉ hằng tuần (Chủ Nhật); còn 3 thư chờ gửi",
        "QLT: ngày nghỉ của cơ quan; còn 3 thư chờ gửi",
        "QLT: nghỉ lễ: 29 Tết; còn 3 thư chờ gửi",
        "QLT: nghỉ lễ: Mùng hai Tết Nguyên Đán; còn 3 thư chờ gửi",
        "QLT: nghỉ lễ: Mùng năm Tết Nguyên Đán; còn 3 thư chờ gửi",
    ]
    assert kit.received() == Counter()
    assert run_tick(kit, at(1, 27, 8, 0)).sent == 3  # the first working day after Tết


def test_quota_reached_then_resumed_the_next_working_day(kit) -> None:
    kit.schedule("QLT", daily_quota=4)
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 10, "QLT"))
    kit.approve(CAMPAIGN)
    lines: list[str] = []

    assert run_tick(kit, at(1, 13, 9, 0), lines).sent == 3  # Friday
    last = run_tick(kit, at(1, 13, 9, 1), lines)
    assert last.sent == 1 and last.sender("QLT").quota_reached
    full = run_tick(kit, at(1, 13, 10, 0), lines)
    assert full.sent == 0 and full.sender("QLT").idle == "đã đủ hạn mức ngày (4 thư)"
    assert run_tick(kit, at(1, 16, 7, 59), lines).sent == 0  # Monday, before the window
    assert run_tick(kit, at(1, 16, 8, 0), lines).sent == 3
    assert run_tick(kit, at(1, 16, 8, 1), lines).sent == 1

    assert lines[1].endswith("QLT: đã gửi 1, còn 6 thư chờ gửi; đã đủ hạn mức ngày")
    assert lines[2].endswith("QLT: đã đủ hạn mức ngày (4 thư); còn 6 thư chờ gửi")
    days = Counter(moment.date() for moment in sent_times(kit, CAMPAIGN).values())
    assert days == Counter({dt.date(2023, 1, 13): 4, dt.date(2023, 1, 16): 4})


@pytest.mark.parametrize("reworded", [False, True])
def test_the_counts_follow_reasons_not_wording(kit, monkeypatch, reworded: bool) -> None:
    """Rewording any sentence of the delivery engine changes none of the scheduler's counts."""
    kit.schedule("QLT", batch_size=10, messages_per_minute=6)  # one message every 10 s
    manifest = kit.add_campaign(CAMPAIGN, kit.letters("employers", 6, "QLT"))
    kit.approve(CAMPAIGN)
    changed, waiting, *_, last = manifest.drafts
    (kit.root / changed.folder / "message.eml").write_bytes(b"edited after approval\r\n")
    with Ledger.open(kit.root) as ledger:  # a temporary failure at 10:00, next attempt due at 12:00
        ledger.claim(CAMPAIGN, waiting.key, Attempt("email", "<w@example.vn>", waiting.to, (), {}), at(1, 9, 10, 0))
        ledger.finish(CAMPAIGN, waiting.key, Outcome("retrying", 451, "4.3.2 busy", error="Lỗi tạm thời.", next_attempt_at=at(1, 9, 12)),
                      at(1, 9, 10, 0))
    if reworded:
        real = tick_module.send_campaign

        def send_reworded(*args, **kwargs):
            report = real(*args, **kwargs)
            report.skipped = [replace(p, message=f"(câu viết khác {i})") for i, p in enumerate(report.skipped)]
            report.stopped = "(lý do dừng viết khác)" if report.stopped else ""
            return report

        monkeypatch.setattr(tick_module, "send_campaign", send_reworded)

    report = run_tick(kit, at(1, 9, 10, 59, 30))  # sends at :30, :40, :50; the window closes at 11:00

    qlt = report.sender("QLT")
    assert report.sent == 3 and qlt.problems == {"blocked": 1} and report.notes == []
    (entry,) = qlt.campaigns
    assert entry.state == "sent" and entry.report.stop is Stop.WINDOW_CLOSED
    assert [(p.key, p.reason) for p in entry.report.skipped] == [
        (waiting.key, Skip.RETRY_LATER), (changed.key, Skip.CHANGED), (last.key, Skip.STOPPED)]


# ---------------------------------------------------------------------------- campaign period


def test_expiry_is_honoured_mid_batch_and_after_downtime(kit) -> None:
    kit.schedule("QLT", batch_size=5, messages_per_minute=12)  # one message every 5 s
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 6, "QLT"), expires=at(1, 10, 10, 0))
    kit.approve(CAMPAIGN)
    lines: list[str] = []

    report = run_tick(kit, at(1, 10, 9, 59, 50), lines)
    assert report.sent == 2  # 09:59:50 and 09:59:55; at 10:00:00 the campaign has expired
    assert "hết hạn trong lúc gửi" in lines[0]

    after = run_tick(kit, at(1, 10, 10, 1), lines)
    assert after.sent == 0 and after.notes == [f"{CAMPAIGN}/QLT: hết hạn, 4 thư chưa gửi sẽ không gửi"]
    assert lines[1] == "[T3 10/01/2023 10:01:00] vssid-2022/QLT: hết hạn, 4 thư chưa gửi sẽ không gửi"

    # The scheduler was down; it comes back the next morning, in the window: nothing is sent late.
    assert run_tick(kit, at(1, 11, 8, 0), lines).sent == 0
    assert kit.states(CAMPAIGN) == Counter({"sent": 2, "approved": 4})  # unsent stays unsent, reported
    assert sum(kit.received().values()) == 2

    # Nor by hand: delivery itself refuses an expired campaign.
    with Ledger.open(kit.root) as ledger:
        manual = send_campaign(kit.config, kit.manifests[CAMPAIGN], ledger,
                               clock=lambda: at(1, 11, 9, 0), sleep=Sleeper())
    assert manual.sent == [] and len(manual.skipped) == 4
    assert manual.stopped.startswith(f"Chiến dịch {CAMPAIGN} đã hết hạn lúc 10:00 ngày 10/01/2023")
    assert manual.stop is Stop.EXPIRED and {p.reason for p in manual.skipped} == {Skip.STOPPED}


def test_nothing_is_sent_before_not_before(kit) -> None:
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 2, "QLT"), not_before=at(1, 10, 9, 0))
    kit.approve(CAMPAIGN)
    lines: list[str] = []

    assert run_tick(kit, at(1, 10, 8, 30), lines).sent == 0
    assert lines[0].endswith(f"{CAMPAIGN}/QLT: chưa đến giờ gửi (từ 09:00 T3 10/01/2023), 2 thư chờ")
    assert run_tick(kit, at(1, 10, 9, 0), lines).sent == 2


def test_paused_campaign_is_reported_and_others_go_on(kit) -> None:
    kit.add_campaign("a", kit.letters("employers", 2, "QLT", prefix="A"))
    kit.add_campaign("b", kit.letters("employers", 2, "QLT", prefix="B"))
    kit.approve("a")
    kit.approve("b")
    with Ledger.open(kit.root) as ledger:
        ledger.pause("a", "Kiểm tra lại số liệu.", Actor("Trưởng phòng"), at(1, 9, 7))

    report = run_tick(kit, at(1, 9, 9, 0))

    assert report.sent == 2 and kit.states("b") == Counter({"sent": 2})
    assert report.notes == ["a: đang tạm dừng, 2 thư chờ (xử lý xong thì chạy 'outreach resume a')"]


# ---------------------------------------------------------------------------- several senders


def test_departments_interleave_through_one_ledger(kit) -> None:
    """QLT (employers, mornings) and TTPT (communes and collection agents, afternoons) and the Nha Trang
    office (its own employers) share campaigns and one ledger; each keeps to its own windows."""
    kit.schedule("TTPT", batch_size=2)
    kit.add_campaign(CAMPAIGN, [*kit.letters("employers", 4, "QLT"), *kit.letters("communes", 3, "TTPT"),
                                *kit.letters("employers", 2, "NT", prefix="NT")])
    kit.add_campaign("tet-2023", [*kit.letters("collection_agents", 2, "TTPT"), *kit.letters("communes", 1, "TTPT",
                                                                                             prefix="T")],
                     expires=at(1, 19, 17, 0))
    kit.approve(CAMPAIGN)
    kit.approve("tet-2023")
    lines: list[str] = []

    for moment in (at(1, 9, 8, 0), at(1, 9, 8, 1), at(1, 9, 13, 30), at(1, 9, 13, 31), at(1, 9, 13, 32),
                   at(1, 9, 13, 33)):
        run_tick(kit, moment, lines)

    assert [line.split("] ")[1] for line in lines] == [
        "QLT: đã gửi 3, còn 1 thư chờ gửi | TTPT: ngoài giờ gửi, mở lại 13:30 T2 09/01/2023; còn 6 thư chờ gửi"
        " | NT: đã gửi 2, còn 0 thư chờ gửi",
        "QLT: đã gửi 1, còn 0 thư chờ gửi | TTPT: ngoài giờ gửi, mở lại 13:30 T2 09/01/2023; còn 6 thư chờ gửi",
        "TTPT: đã gửi 2, còn 4 thư chờ gửi",
        "TTPT: đã gửi 2, còn 2 thư chờ gửi",  # tet-2023 (earlier expiry) first, then vssid-2022 in the same batch
        "TTPT: đã gửi 2, còn 0 thư chờ gửi",
        "không có thư chờ gửi",
    ]
    ttpt_tet = sent_times(kit, "tet-2023")
    ttpt_vssid = {k: v for k, v in sent_times(kit, CAMPAIGN).items() if k.startswith("communes/")}
    assert max(ttpt_tet.values()) <= min(ttpt_vssid.values())
    assert all(m.time() >= dt.time(13, 30) for m in [*ttpt_tet.values(), *ttpt_vssid.values()])
    qlt = [m for k, m in sent_times(kit, CAMPAIGN).items() if k.startswith("employers/TA")]
    assert len(qlt) == 4 and all(m.time() < dt.time(11, 0) for m in qlt)
    with Ledger.open(kit.root) as ledger:
        senders = Counter(d.sender for c in (CAMPAIGN, "tet-2023") for d in ledger.deliveries(c).values())
    assert senders == Counter({"QLT": 4, "TTPT": 6, "NT": 2})
    assert set(kit.received().values()) == {1} and sum(kit.received().values()) == 12


def test_rate_limit_is_shared_by_a_senders_campaigns(kit) -> None:
    kit.schedule("QLT", batch_size=4, messages_per_minute=6)
    kit.add_campaign("a", kit.letters("employers", 2, "QLT", prefix="A"), expires=at(1, 20))
    kit.add_campaign("b", kit.letters("employers", 2, "QLT", prefix="B"))
    kit.approve("a")
    kit.approve("b")
    sleeper = Sleeper()

    assert run_tick(kit, at(1, 9, 9, 0), sleep=sleeper).sent == 4
    assert sleeper.slept == [10.0, 10.0, 10.0]  # the first of campaign b waits for the last of a
    moments = sorted([*sent_times(kit, "a").values(), *sent_times(kit, "b").values()])
    assert moments == [at(1, 9, 9, 0, s) for s in (0, 10, 20, 30)]


# ---------------------------------------------------------------------------- stop and restart


def test_restart_mid_window_resumes_without_duplicates(kit) -> None:
    kit.schedule("QLT", batch_size=10)
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 8, "QLT"))
    kit.approve(CAMPAIGN)
    lines: list[str] = []

    first = run_tick(kit, at(1, 9, 9, 0), lines, should_stop=lambda: kit.handler.count >= 2)  # stop asked

    assert first.stopped and first.sent == 2 and lines[0].endswith("| đã dừng theo yêu cầu")
    # A process then died after claiming a message, before the server answered.
    draft = kit.manifests[CAMPAIGN].drafts[2]
    with Ledger.open(kit.root) as ledger:
        ledger.claim(CAMPAIGN, draft.key, Attempt("email", "<x@y>", draft.to, (), {}), at(1, 9, 9, 1))

    again = run_tick(kit, at(1, 9, 9, 5), lines)  # a new process: fresh ledger connection, same window

    assert again.sent == 5
    (entry,) = again.sender("QLT").campaigns
    assert entry.report.interrupted == [draft.key]
    assert "1 chưa chắc chắn" in lines[1]
    assert kit.states(CAMPAIGN) == Counter({"sent": 7, "uncertain": 1})  # never resent automatically
    received = kit.received()
    assert set(received.values()) == {1} and len(received) == 7 and (CAMPAIGN, draft.key) not in received
    assert run_tick(kit, at(1, 9, 9, 10)).sent == 0


def test_run_once_at_a_given_time(kit) -> None:
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 5, "QLT"))
    kit.approve(CAMPAIGN)
    lines: list[str] = []

    code = run_scheduler(kit.config, once=True, at=dt.datetime(2023, 1, 9, 9, 0), log=lines.append,
                         sleep=Sleeper())

    assert code == 0 and len(lines) == 1
    assert lines[0].startswith("[T2 09/01/2023 09:00:") and "QLT: đã gửi 3, còn 2 thư chờ gửi" in lines[0]
    assert run_scheduler(kit.config, once=True, at=at(1, 9, 12, 0), log=lines.append) == 0
    assert "ngoài giờ gửi" in lines[1] and kit.states(CAMPAIGN) == Counter({"sent": 3, "approved": 2})


def test_sigterm_finishes_the_message_in_flight_then_exits_zero(kit) -> None:
    kit.schedule("QLT", batch_size=10)
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 6, "QLT"))
    kit.approve(CAMPAIGN)
    before = signal.getsignal(signal.SIGTERM)

    def terminate_during_second(number: int) -> None:
        if number == 2:  # the server is receiving message 2: the sender waits for its reply
            os.kill(os.getpid(), signal.SIGTERM)

    kit.handler.on_data = terminate_during_second
    lines: list[str] = []
    waits: list[float] = []

    code = run_scheduler(kit.config, once=False, at=at(1, 9, 9, 0), log=lines.append,
                         sleep=Sleeper(), wait=waits.append)

    assert code == 0 and waits == []  # stopped within the first tick, no wait for the next
    assert kit.states(CAMPAIGN) == Counter({"sent": 2, "approved": 4})  # message 2 finished, none cut
    assert lines[1].endswith("QLT: đã gửi 2, còn 4 thư chờ gửi | đã dừng theo yêu cầu")
    assert lines[-1].startswith("Đã dừng theo yêu cầu sau khi gửi xong thư đang gửi")
    assert signal.getsignal(signal.SIGTERM) is before

    kit.handler.on_data = None
    assert run_scheduler(kit.config, once=True, at=at(1, 9, 9, 5), log=lines.append, sleep=Sleeper()) == 0
    assert kit.states(CAMPAIGN) == Counter({"sent": 6})
    assert set(kit.received().values()) == {1} and len(kit.received()) == 6


class FakeTime:
    """The ``datetime`` module as ``schedule`` sees it, with a ``now`` the test moves."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        clock = self

        class FakeDateTime(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now

        self.module = types.SimpleNamespace(**{name: getattr(dt, name) for name in dir(dt) if not name.startswith("__")})
        self.module.datetime = FakeDateTime


def test_the_loop_ticks_every_interval_until_stopped(kit, monkeypatch) -> None:
    kit.schedule("QLT", batch_size=2)
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 5, "QLT"))
    kit.approve(CAMPAIGN)
    fake = FakeTime(dt.datetime(2023, 1, 9, 9, 0))
    monkeypatch.setattr(schedule_lib, "datetime", fake.module)
    lines: list[str] = []
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        fake.now += dt.timedelta(seconds=seconds)
        if len(waits) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while waiting for the next tick

    code = run_scheduler(kit.config, once=False, at=at(1, 9, 9, 0), interval_s=60, log=lines.append,
                         sleep=Sleeper(), wait=wait)

    assert code == 0 and waits == [60.0, 60.0, 60.0]
    assert lines[0].startswith("Bắt đầu gửi theo lịch: 3 phòng/đơn vị gửi, mỗi 60 giây một lượt")
    ticks = lines[1:-1]
    assert [t.split("] ")[1] for t in ticks] == ["QLT: đã gửi 2, còn 3 thư chờ gửi", "QLT: đã gửi 2, còn 1 thư chờ gửi",
                                                  "QLT: đã gửi 1, còn 0 thư chờ gửi"]
    assert lines[-1].startswith("Đã dừng theo yêu cầu")


def test_a_second_signal_stops_at_once(kit) -> None:
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 1, "QLT"))
    lines: list[str] = []
    before = signal.getsignal(signal.SIGINT)

    def wait(seconds: float) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    code = run_scheduler(kit.config, once=False, at=at(1, 9, 9, 0), log=lines.append, wait=wait)
    assert code == 130 and lines[-1].startswith("Đã dừng ngay theo yêu cầu")
    assert signal.getsignal(signal.SIGINT) is before


def test_the_pages_can_tell_whether_the_schedule_is_kept(kit) -> None:
    """While `outreach run` loops, its lock and heartbeat say so; a second run is refused; once it
    stops, the status says it is not running and keeps when it last ticked."""
    kit.add_campaign(CAMPAIGN, kit.letters("employers", 1, "QLT"))
    workspace = kit.config.workspace
    assert not scheduler_status(workspace).running
    seen: list = []
    second: list = []

    def wait(seconds: float) -> None:
        seen.append(scheduler_status(workspace))
        second.append(run_scheduler(kit.config, once=False, log=lambda line: None, wait=wait))  # never reached
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(UserError, match="đã đang chạy") as refused:
        run_scheduler(kit.config, once=False, at=at(1, 9, 9, 0), interval_s=60, log=lambda line: None, wait=wait)
    assert str(os.getpid()) in refused.value.message and second == []
    (running,) = seen
    assert running.running and running.pid == os.getpid()
    assert dt.datetime.fromisoformat(running.next_tick_at) - dt.datetime.fromisoformat(running.last_tick_at) == (
        dt.timedelta(seconds=60))
    stopped = scheduler_status(workspace)
    assert not stopped.running and stopped.pid is None and stopped.next_tick_at is None
    assert stopped.last_tick_at == running.last_tick_at


# ---------------------------------------------------------------------------- schedule show


def test_schedule_show_calendar_finish_dates_and_late_campaigns(kit) -> None:
    kit.schedule("QLT", daily_quota=4)
    kit.schedule("TTPT", daily_quota=2)
    kit.add_campaign(CAMPAIGN, [*kit.letters("employers", 10, "QLT"), *kit.letters("communes", 2, "TTPT")])
    kit.add_campaign("tet-2023", kit.letters("communes", 5, "TTPT", prefix="T"), expires=at(1, 20, 17, 0))
    kit.approve(CAMPAIGN)
    kit.approve("tet-2023")
    with Ledger.open(kit.root) as ledger:  # 3 sent by QLT already today
        send_campaign(kit.config, kit.manifests[CAMPAIGN], ledger, department="QLT", limit=3,
                      clock=lambda: at(1, 18, 8, 0), sleep=Sleeper())

    plan = schedule_plan(kit.config, dt.date(2023, 1, 18), days=10, now=at(1, 18, 9, 0))

    assert [s.code for s in plan.senders] == ["QLT", "TTPT"]
    qlt = {p.day.day: p for p in plan.day_plans if p.sender == "QLT"}
    assert qlt[18].capacity == 1 and qlt[18].expected == {CAMPAIGN: 1}  # quota 4, 3 already sent today
    assert qlt[19].expected == {CAMPAIGN: 4}
    assert qlt[23].off == "Nghỉ lễ: Mùng hai Tết Nguyên Đán" and qlt[23].expected == {}
    assert qlt[27].expected == {CAMPAIGN: 2}
    outlook = {(c.campaign, c.sender): c for c in plan.campaigns}
    assert outlook[(CAMPAIGN, "QLT")].forecast.finishes_on == dt.date(2023, 1, 27)
    assert (outlook[(CAMPAIGN, "QLT")].sent, outlook[(CAMPAIGN, "QLT")].approved) == (3, 7)
    tet = outlook[("tet-2023", "TTPT")]
    assert tet.forecast.late == 1  # 2 on the 18th, 2 on the 19th, the 20th is 29 Tết: 1 left at expiry
    assert tet.status.startswith("KHÔNG KỊP: còn 1 thư chưa gửi khi hết hạn lúc 17:00 T6 20/01/2023")
    assert outlook[(CAMPAIGN, "TTPT")].forecast.finishes_on == dt.date(2023, 1, 27)  # after tet-2023
    assert [c.campaign for c in plan.late] == ["tet-2023"]
    json.dumps(plan.as_json(), ensure_ascii=False)

    text = show_schedule(kit.config, dt.date(2023, 1, 18), days=10, now=at(1, 18, 9, 0))
    assert text.startswith("Lịch gửi thư 10 ngày, từ 09:00 T4 18/01/2023")
    assert "Phòng Quản lý thu (QLT): làm việc T2, T3, T4, T5, T6; khung giờ 08:00–11:00" in text
    assert "T2 23/01/2023  Nghỉ lễ: Mùng hai Tết Nguyên Đán" in text
    assert (f"  {CAMPAIGN}: Đang trong đợt gửi\n    QLT: đã gửi 3, chờ gửi 7. Dự kiến gửi xong ngày T6 27/01/2023.\n"
            "    TTPT: đã gửi 0, chờ gửi 2.") in text
    assert "  tet-2023: Đã duyệt, chờ gửi\n    TTPT: đã gửi 0, chờ gửi 5. KHÔNG KỊP" in text
    assert plan.phases == {"tet-2023": "approved", CAMPAIGN: "sending"}  # earliest expiry first
    assert "CẢNH BÁO – không kịp gửi hết trước khi hết hạn:\n  tet-2023 – TTPT: 1 thư sẽ không được gửi" in text


def test_schedule_show_without_ledger_or_campaigns(kit) -> None:
    text = show_schedule(kit.config, dt.date(2023, 1, 9), days=2)
    assert "Phòng Quản lý thu (QLT)" in text and "(chưa có chiến dịch nào đã tạo bản thảo)" in text
    assert not (kit.root / "outbox" / "ledger.sqlite").exists()  # showing creates nothing
