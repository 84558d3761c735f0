"""Sending by the office calendar: ``outreach run``, one tick at a time (``schedule show`` is in plan.py).

Each sender (a department of the provincial office, or a district office; ``Draft.sender``) sends
its own drafts in its own windows, on its working days (Vietnamese public holidays and the
configured days off skipped), at most ``batch_size`` messages per tick, ``messages_per_minute``
and ``daily_quota``. Everything goes through :func:`outreach.delivery.send_campaign`, so the
ledger's guarantees (exactly once, retries, pause) hold, and a restart simply continues.

Behaviour decided here:

* Active campaigns are those in config.toml whose ``outbox/<campaign>/manifest.json`` exists.
  A sender serves its campaigns earliest expiry first (then config order) and shares one batch,
  one quota and one rate limit between them.
* A campaign sends only in [not_before, expires). After its expiry nothing more is sent, ever
  (not even after downtime); what is left is reported each tick, never sent late. The expiry and
  the window end are checked right before each message (``send_campaign``), not only per tick.
* A stop request (SIGTERM, SIGINT) lets the message being handed to the server finish, then
  stops before the next one; a second request stops at once (the message in flight, if any, is
  then found ``sending`` at the next start and becomes ``uncertain``: never sent twice).
* Time is injected everywhere: ``tick(now=…)``; nothing here reads the clock when given one.
"""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import schedule as schedule_lib

from .calendar import (
    TICK_INTERVAL_S,
    OfficeCalendar,
)
from ..accounts import Actor
from ..config import Campaign, Config, Sender
from ..delivery import (
    CLAIMABLE,
    SYSTEM_ACTOR,
    FAILURE_STATES,
    LABELS,
    CampaignPaused,
    Clock,
    CollectReport,
    Ledger,
    SendInProgress,
    SendReport,
    Sleep,
    State,
    collect,
    send_campaign,
    utc_now,
)
from ..errors import UserError
from ..localtime import OFFICE_TZ, aware, format_day, format_moment
from ..outbox import SENT_LATER, Halt, Manifest, ManifestCache, Stop
from .presence import Heartbeat, keeping_schedule

STOP_REQUESTED = "Đã dừng theo yêu cầu; thư còn lại sẽ được gửi khi chạy lại 'outreach run'."
NOTHING_TO_SEND = "không có thư chờ gửi"
BLOCKED = "blocked"  # SenderTick.problems: skipped messages that need a person
StopFlag = Callable[[], bool]


# ============================================================================ one tick


@dataclass
class CampaignTick:
    campaign: str
    sender: str
    state: str  # sent | idle | not_started | expired | paused | busy | error | stopped
    pending: int  # approved messages of this sender still to send, after the tick
    sent: list[str] = field(default_factory=list)
    note: str = ""  # Vietnamese, for the log line ("" when there is nothing to say)
    report: SendReport | None = None


@dataclass
class SenderTick:
    sender: str
    name: str
    sent: int
    pending: int  # approved messages waiting in its active campaigns, after the tick
    idle: str  # why it sent nothing (Vietnamese), "" when it was its time to send
    campaigns: list[CampaignTick]
    problems: dict[str, int] = field(default_factory=dict)  # retrying/failed/uncertain/blocked this tick
    quota_reached: bool = False  # the daily quota is used up after this tick
    printed: int = 0  # letters on paper put into a print bundle this tick


@dataclass
class TickReport:
    at: dt.datetime  # the tick's moment, local time
    senders: list[SenderTick]
    notes: list[str]  # campaign-wide notes (expired, not yet open, paused, unknown sender …)
    stopped: bool
    line: str  # the one Vietnamese log line
    collected: CollectReport | None = None  # what the senders' mailboxes held (bounces, replies)

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.senders)

    def sender(self, code: str) -> SenderTick:
        return next(s for s in self.senders if s.sender == code)

    def as_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))


class _VirtualClock:
    """``now`` plus the time spent sleeping: the tick's clock when the caller gives none."""

    def __init__(self, start: dt.datetime, sleep: Sleep) -> None:
        self.start = start
        self.slept = 0.0
        self._sleep = sleep

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.slept)

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)
        self.slept += seconds


def tick(config: Config, now: dt.datetime, *, sleep: Sleep = time.sleep,
         log: Callable[[str], object] = print, clock: Clock | None = None,
         should_stop: StopFlag | None = None, by: Actor = SYSTEM_ACTOR) -> TickReport:
    """One scheduler tick for every sender and active campaign; logs one Vietnamese line.

    ``now`` is the tick's moment (naive = Việt Nam time). The clock during the tick is ``clock``
    if given, else ``now`` plus what was slept (the rate limit's waits go through ``sleep``).
    ``should_stop`` is asked before each message: True finishes the tick at once.
    """
    now = aware(now)
    if clock is None:
        virtual = _VirtualClock(now, sleep)
        clock, sleep = virtual, virtual.sleep
    stop_asked = should_stop or (lambda: False)
    active = active_campaigns(config)
    senders = config.senders()
    report = TickReport(now.astimezone(OFFICE_TZ), [], [], False, "")
    with Ledger.open(config.root) as ledger:
        for campaign, _ in active:
            stray = {code: n for code, n in _pending(ledger, campaign.name).items() if code not in senders and n}
            for code, count in stray.items():
                report.notes.append(f"{campaign.name}: {count} thư của đơn vị gửi '{code}' không có trong "
                                    "config.toml, không gửi")
        senders_of = {c.name: {d.sender for d in m.drafts} for c, m in active}
        for code, sender in senders.items():
            mine = [(c, m) for c, m in active if code in senders_of[c.name]]
            if not mine:
                continue
            if stop_asked():
                report.stopped = True
                break
            result = _tick_sender(config, ledger, sender, mine, now, clock, sleep, stop_asked, report, by)
            report.senders.append(result)
            if report.stopped:
                break
        if config.mailboxes() and not report.stopped:
            _collect(config, ledger, clock, report)
    report.line = _tick_line(report, bool(active))
    log(report.line)
    return report


def _tick_sender(config: Config, ledger: Ledger, sender: Sender,
                 campaigns: list[tuple[Campaign, Manifest]], now: dt.datetime, clock: Clock, sleep: Sleep,
                 stop_asked: StopFlag, report: TickReport, by: Actor) -> SenderTick:
    code = sender.code
    calendar = OfficeCalendar(sender.schedule)
    ticks: list[CampaignTick] = []
    sendable: list[tuple[Campaign, Manifest, CampaignTick]] = []
    for campaign, manifest in campaigns:
        pending = _pending(ledger, campaign.name)[code]
        entry = CampaignTick(campaign.name, code, "idle", pending)
        ticks.append(entry)
        if pending == 0:
            continue
        if campaign.has_expired(now):
            entry.state = "expired"
            entry.note = f"{campaign.name}/{code}: hết hạn, {pending} thư chưa gửi sẽ không gửi"
        elif campaign.not_yet_open(now):
            entry.state = "not_started"
            entry.note = (f"{campaign.name}/{code}: chưa đến giờ gửi (từ {format_moment(campaign.not_before, OFFICE_TZ)}), "
                          f"{pending} thư chờ")
        elif ledger.pause_state(campaign.name).paused:
            entry.state = "paused"
            entry.note = (f"{campaign.name}: đang tạm dừng, {pending} thư chờ "
                          f"(xử lý xong thì chạy 'outreach resume {campaign.name}')")
        else:
            sendable.append((campaign, manifest, entry))
        if entry.note and entry.note not in report.notes:
            report.notes.append(entry.note)

    result = SenderTick(code, sender.name, 0, 0, "", ticks)
    local = calendar.local(now)
    quota = sender.schedule.daily_quota
    if not sendable:
        result.idle = NOTHING_TO_SEND
    elif (off := calendar.day_off_reason(local.date())) is not None:
        result.idle = _lower_first(off)
    elif calendar.open_window(now) is None:
        opening = calendar.next_opening(now)
        result.idle = "ngoài giờ gửi" + (f", mở lại {format_moment(opening)}" if opening else "")
    elif ledger.sent_today(sender, now) >= quota:
        result.idle = f"đã đủ hạn mức ngày ({quota} thư)"
    else:
        _send_sender(config, ledger, sender, calendar, sendable, clock, sleep, stop_asked, result, report, by)
        result.quota_reached = ledger.sent_today(sender, clock()) >= quota

    for entry in ticks:
        entry.pending = _pending(ledger, entry.campaign)[code]
    result.pending = sum(e.pending for e in ticks if e.state not in ("expired",))
    return result


def _send_sender(config: Config, ledger: Ledger, sender: Sender, calendar: OfficeCalendar,
                 sendable: list[tuple[Campaign, Manifest, CampaignTick]], clock: Clock, sleep: Sleep,
                 stop_asked: StopFlag, result: SenderTick, report: TickReport, by: Actor) -> None:
    """Up to ``batch_size`` messages of this sender, campaign after campaign, while its window is open."""
    window_closed = (f"Đã hết khung giờ gửi của {sender.name}; thư còn lại được gửi trong khung giờ tiếp theo.")

    def halt() -> Halt | None:
        if stop_asked():
            return Halt(Stop.REQUESTED, STOP_REQUESTED)
        if calendar.open_window(clock()) is None:
            return Halt(Stop.WINDOW_CLOSED, window_closed)
        return None

    budget = sender.schedule.batch_size
    problems: Counter[str] = Counter()
    for campaign, manifest, entry in sendable:
        if budget <= 0:
            break
        try:
            sent = send_campaign(config, manifest, ledger, department=sender.code, limit=budget,
                                 clock=clock, sleep=sleep, should_stop=halt, by=by)
        except CampaignPaused:
            entry.state, entry.note = "paused", f"{campaign.name}: đang tạm dừng"
            report.notes.append(entry.note)
            continue
        except SendInProgress:
            entry.state, entry.note = "busy", f"{campaign.name}: một tiến trình khác đang gửi, để lượt sau"
            report.notes.append(entry.note)
            continue
        except UserError as error:
            entry.state, entry.note = "error", f"{campaign.name}/{sender.code}: lỗi — {error.message}"
            report.notes.append(entry.note)
            continue
        entry.report = sent
        entry.sent = list(sent.sent)
        entry.state = "sent" if sent.sent else "idle"
        attempted = len(sent.sent) + len(sent.retrying) + len(sent.failed) + len(sent.uncertain)
        budget -= attempted
        result.sent += len(sent.sent)
        result.printed += len(sent.printed)
        problems.update({State.RETRYING: len(sent.retrying), State.FAILED: len(sent.failed),
                         State.UNCERTAIN: len(sent.uncertain) + len(sent.interrupted)})
        problems[BLOCKED] += sum(1 for p in sent.skipped if p.reason not in SENT_LATER)
        if sent.paused:
            entry.note = f"{campaign.name}: tự động tạm dừng sau nhiều lần gửi lỗi"
            report.notes.append(entry.note)
        if sent.stop is Stop.REQUESTED:
            entry.state = "stopped"
            report.stopped = True
            break
        if sent.stop is Stop.WINDOW_CLOSED:
            break
        if sent.stop is Stop.EXPIRED:  # during the batch
            entry.state = "expired"
            entry.note = f"{campaign.name}/{sender.code}: hết hạn trong lúc gửi, thư còn lại sẽ không gửi"
            report.notes.append(entry.note)
    result.problems.update({k: v for k, v in problems.items() if v})


def _collect(config: Config, ledger: Ledger, clock: Clock, report: TickReport) -> None:
    """Every tick reads the mailboxes too: a bounce is known (and its letter put on paper) within a tick."""
    try:
        report.collected = collect(config, ledger, clock=clock)
    except UserError as error:  # a missing password stops collecting, never the sending
        report.notes.append(f"không đọc được hộp thư: {error.message}")
        return
    summary = report.collected.summary()
    if summary:
        report.notes.append(summary)


def _tick_line(report: TickReport, any_active: bool) -> str:
    at = report.at
    parts = [f"[{format_day(at.date())} {at:%H:%M:%S}]"]
    for s in report.senders:
        if s.idle == NOTHING_TO_SEND:
            continue  # a sender whose campaigns are done is not mentioned
        if s.idle:
            text = f"{s.sender}: {s.idle}"
            if s.pending:
                text += f"; còn {s.pending} thư chờ gửi"
        else:
            text = f"{s.sender}: đã gửi {s.sent}, còn {s.pending} thư chờ gửi"
            if s.printed:
                text += f", {s.printed} thư giấy đã xếp vào bản in"
            labels = {**{state: LABELS[state].short.lower() for state in State if state in FAILURE_STATES},
                      BLOCKED: "không gửi được (xem 'outreach status')"}
            text += "".join(f", {s.problems[k]} {label}" for k, label in labels.items() if s.problems.get(k))
            if s.quota_reached:
                text += "; đã đủ hạn mức ngày"
        parts.append(text)
    parts.extend(report.notes)
    if not any_active:
        parts.append("không có chiến dịch nào đã tạo bản thảo")
    elif len(parts) == 1:
        parts.append("không có thư chờ gửi")
    if report.stopped:
        parts.append("đã dừng theo yêu cầu")
    return f"{parts[0]} {' | '.join(parts[1:])}"


# ============================================================================ the loop


class _Stop:
    """Set by SIGTERM/SIGINT: the first asks for a clean stop, the second stops at once."""

    def __init__(self, event: threading.Event | None = None) -> None:
        self.event = event or threading.Event()
        self.signals = 0

    def __call__(self) -> bool:
        return self.event.is_set()

    def handle(self, signum: int, frame: object) -> None:
        self.signals += 1
        self.event.set()
        if self.signals > 1:
            raise KeyboardInterrupt


def run_scheduler(config: Config, *, once: bool, at: dt.datetime | None = None,
                  interval_s: int = TICK_INTERVAL_S, log: Callable[[str], object] = print,
                  sleep: Sleep | None = None, wait: Callable[[float], object] | None = None,
                  by: Actor = SYSTEM_ACTOR, stop_requested: threading.Event | None = None,
                  on_started: Callable[[], object] | None = None) -> int:
    """``outreach run``: a tick now, then one every ``interval_s`` seconds (``schedule``) until stopped.

    ``at`` pretends the clock said that time when the run started (it then runs on from there);
    naive = Việt Nam time. SIGTERM/SIGINT: the message in flight finishes, then it stops and
    returns 0; a second signal stops at once and returns 130. ``sleep`` (rate-limit waits) and
    ``wait`` (between ticks) default to waits a stop request cuts short; tests inject them.
    ``stop_requested``: set by whoever runs it in a thread of its own (the web server), as a signal would;
    ``on_started``: called once it holds the folder's scheduler lock (a refusal raises instead).
    """
    if interval_s < 1:
        raise UserError(f"Khoảng cách giữa hai lượt gửi phải từ 1 giây trở lên (đang là {interval_s}).")
    stop = _Stop(stop_requested)
    sleep = sleep or stop.event.wait
    wait = wait or stop.event.wait
    clock: Clock = utc_now
    if at is not None:
        base, started = aware(at), time.monotonic()
        clock = lambda: base + dt.timedelta(seconds=time.monotonic() - started)  # noqa: E731

    def run_tick() -> None:
        try:
            tick(config, clock(), sleep=sleep, log=log, clock=clock, should_stop=stop, by=by)
        except (UserError, sqlite3.OperationalError) as error:
            if once:
                raise
            message = error.message if isinstance(error, UserError) else f"lỗi cơ sở dữ liệu: {error}"
            log(f"[{format_moment(clock(), OFFICE_TZ)}] Lượt gửi này bị bỏ qua: {message}")

    previous = _install_handlers(stop.handle)
    try:
        if once:
            run_tick()
        else:
            with keeping_schedule(config.workspace, clock()) as heartbeat:
                if on_started is not None:
                    on_started()
                log(f"Bắt đầu gửi theo lịch: {len(config.senders())} phòng/đơn vị gửi, mỗi {interval_s} giây một "
                    "lượt. Dừng bằng Ctrl-C hoặc SIGTERM: thư đang gửi được gửi xong rồi mới dừng.")
                _loop(run_tick, heartbeat, stop, clock, interval_s, wait)
        if stop():
            log("Đã dừng theo yêu cầu sau khi gửi xong thư đang gửi. Chạy lại 'outreach run' để gửi tiếp.")
        return 0
    except KeyboardInterrupt:
        log("Đã dừng ngay theo yêu cầu. Nếu khi đó có thư đang gửi dở, lần chạy sau thư đó ở trạng thái "
            "'chưa chắc chắn' (không tự gửi lại); kiểm tra rồi dùng 'outreach resolve'.")
        return 130
    finally:
        _restore_handlers(previous)


def _loop(run_tick: Callable[[], None], heartbeat: Heartbeat, stop: StopFlag, clock: Clock, interval_s: int,
          wait: Callable[[float], object]) -> None:
    """A tick now, then one every ``interval_s`` seconds until a stop is asked; each tick leaves its
    heartbeat (when it ran, when the next one is due) for the pages."""
    def beating_tick() -> None:
        started = clock()
        run_tick()
        heartbeat(started, started + dt.timedelta(seconds=interval_s))

    beating_tick()
    scheduler = schedule_lib.Scheduler()
    scheduler.every(interval_s).seconds.do(beating_tick)
    while not stop():
        scheduler.run_pending()
        if stop():
            break
        idle = scheduler.idle_seconds
        wait(min(max(idle if idle is not None else interval_s, 0.0), float(interval_s)))


def _install_handlers(handler: Callable[[int, object], None]) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # signals can only be caught in the main thread; the caller stops us otherwise
    return {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


# ============================================================================ shared helpers


def active_campaigns(config: Config) -> list[tuple[Campaign, Manifest]]:
    """Campaigns of config.toml with a built outbox, earliest expiry first, then config order."""
    built = [(c, _MANIFESTS.get(config.root, c.name)) for c in config.campaigns.values()]
    found = [(c, m) for c, m in built if m is not None]
    never = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    found.sort(key=lambda pair: pair[0].expires or never)  # stable: config order among equals
    return found


_MANIFESTS = ManifestCache()


def _pending(ledger: Ledger, campaign: str) -> Counter[str]:
    """Approved messages waiting (approved, or retrying), per sender: one GROUP BY, no rows loaded."""
    pending: Counter[str] = Counter()
    for (sender, state), count in ledger.state_counts(campaign).items():
        if state in CLAIMABLE:
            pending[sender] += count
    return pending


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    return value
