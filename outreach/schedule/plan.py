"""``outreach schedule show``: what each sender will send on which working day, and when each
campaign is expected to finish, forecast from the office calendars and the ledger (pure but for
reading the ledger and the manifests)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any


from .calendar import (
    TICK_INTERVAL_S,
    CampaignForecast,
    DayPlan,
    OfficeCalendar,
    Workload,
    forecast,
)
from ..config import Config
from ..delivery import (
    EMAIL,
    CLAIMABLE,
    PHASE_LABELS,
    Ledger,
    Phase,
    State,
    campaign_phase,
)
from ..errors import UserError
from ..localtime import OFFICE_TZ, WEEKDAYS, aware, format_day, format_moment
from ..outbox import Manifest

from .scheduler import active_campaigns, jsonable


@dataclass(frozen=True)
class SenderSchedule:
    code: str
    name: str
    days: str  # "T2, T3, T4, T5, T6"
    windows: str  # "08:00–11:00, 13:30–16:30"
    batch_size: int
    messages_per_minute: int
    rate_per_minute: float  # what the scheduler really reaches: min(throttle, batch per tick)
    daily_quota: int
    days_off: tuple[dt.date, ...]


@dataclass(frozen=True)
class CampaignOutlook:
    campaign: str
    title: str
    sender: str
    approved: int  # approved, waiting to be sent
    unapproved: int  # drafts with an e-mail not approved yet (not in the forecast)
    sent: int
    forecast: CampaignForecast
    status: str  # Vietnamese sentence


@dataclass(frozen=True)
class SchedulePlan:
    start: dt.datetime  # local
    days: int
    senders: list[SenderSchedule]
    day_plans: list[DayPlan]
    campaigns: list[CampaignOutlook]
    phases: dict[str, Phase]  # every campaign with drafts, in the scheduler's order

    @property
    def late(self) -> list[CampaignOutlook]:
        """The campaigns that will not finish before they expire."""
        return [c for c in self.campaigns if c.forecast.late]

    def as_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def schedule_plan(config: Config, start: dt.date | dt.datetime, days: int = 14, *,
                  now: dt.datetime | None = None, interval_s: int = TICK_INTERVAL_S) -> SchedulePlan:
    """The coming sends per sender and campaign (approved messages only), for JSON and the web.

    ``start``: a day (from its midnight, or from ``now`` if ``now`` falls on that day) or a moment.
    The quota already used on the first day is read from the ledger.
    """
    if days < 1:
        raise UserError(f"Số ngày phải từ 1 trở lên (đang là {days}).")
    moment = _start_moment(start, now)
    active = active_campaigns(config)
    senders = config.senders()
    ledger = Ledger.open(config.root) if config.workspace.ledger.exists() else None
    try:
        states = {c.name: ledger.state_counts(c.name) if ledger else {} for c, _ in active}
        # The forecast is of e-mail: letters on paper are printed at the first tick, whatever the quota.
        mailed = {c.name: ledger.state_counts(c.name, EMAIL) if ledger else {} for c, _ in active}
        counts = {c.name: _counts(mailed[c.name], m) for c, m in active}
        phases = {c.name: campaign_phase(m, states[c.name], c, moment) for c, m in active}
        involved = [code for code in senders if any(code in counts[c.name] for c, _ in active)]
        if not involved:
            involved = list(config.departments)
        calendars = {code: OfficeCalendar(senders[code].schedule) for code in involved}
        used = {code: ledger.sent_today(senders[code], moment) if ledger else 0 for code in involved}
    finally:
        if ledger is not None:
            ledger.close()
    workloads = [Workload(c.name, code, counts[c.name][code]["approved"], c.not_before, c.expires)
                 for code in involved for c, _ in active if code in counts[c.name]]
    plans, forecasts = forecast(calendars, workloads, moment, days, sent_today=used, interval_s=interval_s)
    outlooks = []
    for workload, outcome in zip(workloads, forecasts):
        campaign = config.campaigns[workload.campaign]
        count = counts[workload.campaign][workload.sender]
        outlooks.append(CampaignOutlook(campaign.name, campaign.title, workload.sender, count["approved"],
                                        count["unapproved"], count["sent"], outcome, _status(outcome, moment)))
    schedules = [SenderSchedule(
        code, senders[code].name, ", ".join(WEEKDAYS[d] for d in senders[code].schedule.days),
        ", ".join(str(w) for w in senders[code].schedule.windows), senders[code].schedule.batch_size,
        senders[code].schedule.messages_per_minute, calendars[code].rate_per_minute(interval_s),
        senders[code].schedule.daily_quota, senders[code].schedule.days_off) for code in involved]
    return SchedulePlan(moment, days, schedules, plans, outlooks, phases)


def show_schedule(config: Config, start: dt.date | dt.datetime, days: int = 14, *,
                  now: dt.datetime | None = None, interval_s: int = TICK_INTERVAL_S) -> str:
    """``outreach schedule show``: the plan as a Vietnamese text table."""
    return format_plan(schedule_plan(config, start, days, now=now, interval_s=interval_s))


def format_plan(plan: SchedulePlan) -> str:
    lines = [f"Lịch gửi thư {plan.days} ngày, từ {format_moment(plan.start)} "
             "(giờ Việt Nam; chỉ tính thư đã duyệt)"]
    by_sender: dict[str, list[DayPlan]] = {}
    for day_plan in plan.day_plans:
        by_sender.setdefault(day_plan.sender, []).append(day_plan)
    campaigns = list(dict.fromkeys(c.campaign for c in plan.campaigns))
    for s in plan.senders:
        rate = f"{s.rate_per_minute:g}"
        lines += ["", f"{s.name} ({s.code}): làm việc {s.days}; khung giờ {s.windows}; "
                      f"{rate} thư/phút, tối đa {s.daily_quota} thư/ngày"]
        mine = [c for c in campaigns if any(o.campaign == c and o.sender == s.code for o in plan.campaigns)]
        header = ["Ngày", "Khung giờ / ngày nghỉ", "Gửi được", *mine]
        rows = []
        for p in by_sender.get(s.code, []):
            if p.off:
                rows.append([format_day(p.day), p.off, "–", *["–" for _ in mine]])
            else:
                rows.append([format_day(p.day), p.windows, str(p.capacity),
                             *[str(p.expected.get(c, 0)) for c in mine]])
        lines += _table(header, rows, right_from=2)
    lines += ["", "Chiến dịch:"]
    if not plan.phases:
        lines.append("  (chưa có chiến dịch nào đã tạo bản thảo)")
    for name, phase in plan.phases.items():
        lines.append(f"  {name}: {PHASE_LABELS[phase]}")
        for c in (c for c in plan.campaigns if c.campaign == name):
            extra = f", {c.unapproved} thư chưa duyệt (chưa tính)" if c.unapproved else ""
            lines.append(f"    {c.sender}: đã gửi {c.sent}, chờ gửi {c.approved}{extra}. {c.status}")
    late = plan.late
    if late:
        lines += ["", "CẢNH BÁO – không kịp gửi hết trước khi hết hạn:"]
        lines += [f"  {c.campaign} – {c.sender}: {c.forecast.late} thư sẽ không được gửi" for c in late]
    return "\n".join(lines)


def _status(outcome: CampaignForecast, moment: dt.datetime) -> str:
    expires = f" lúc {format_moment(outcome.expires, OFFICE_TZ)}" if outcome.expires else ""
    if outcome.pending == 0:
        return "Không còn thư đã duyệt chờ gửi."
    if outcome.has_expired(moment):
        return f"Đã hết hạn{expires}: {outcome.pending} thư chưa gửi sẽ không được gửi."
    if outcome.late:
        return f"KHÔNG KỊP: còn {outcome.late} thư chưa gửi khi hết hạn{expires}; các thư đó sẽ không được gửi."
    start = ""
    if outcome.not_yet_open(moment):
        start = f"Bắt đầu gửi từ {format_moment(outcome.not_before, OFFICE_TZ)}; "
    if outcome.finishes_on is not None:
        deadline = f" (hạn{expires})" if expires else ""
        return f"{start}Dự kiến gửi xong ngày {format_day(outcome.finishes_on)}{deadline}."
    return f"{start}Chưa gửi xong trong thời gian xem trước."


def _table(header: list[str], rows: list[list[str]], right_from: int) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def render(row: list[str]) -> str:
        cells = [cell.rjust(w) if i >= right_from else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        return ("  " + "  ".join(cells)).rstrip()

    return [render(header), *(render(r) for r in rows)]


def _counts(states: dict[tuple[str, str], int], manifest: Manifest) -> dict[str, dict[str, int]]:
    """Per sender with e-mail drafts: approved (waiting), unapproved (not in the forecast), sent."""
    emailed = Counter(d.sender for d in manifest.drafts if d.channel == EMAIL)
    counts = {sender: {"approved": 0, "unapproved": total, "sent": 0} for sender, total in emailed.items()}
    for (sender, state), count in states.items():
        if sender not in counts or state == State.REVOKED:
            continue
        counts[sender]["unapproved"] -= count
        if state in CLAIMABLE:
            counts[sender]["approved"] += count
        elif state == State.SENT:
            counts[sender]["sent"] += count
    for count in counts.values():
        count["unapproved"] = max(count["unapproved"], 0)
    return counts


def _start_moment(start: dt.date | dt.datetime, now: dt.datetime | None) -> dt.datetime:
    if isinstance(start, dt.datetime):
        return aware(start).astimezone(OFFICE_TZ)
    if now is not None:
        local_now = aware(now).astimezone(OFFICE_TZ)
        if local_now.date() == start:
            return local_now
    return dt.datetime.combine(start, dt.time(), tzinfo=OFFICE_TZ)
