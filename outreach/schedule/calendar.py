"""The office calendar of one sender: working days, sending windows, Vietnamese public holidays, quota.

Pure functions of a :class:`SendingSchedule` and a moment; the scheduler and `schedule show` use
them, and tests give them any moment they like (time is injected, nothing sleeps).

Throughput: a sender starts at most ``messages_per_minute`` messages a minute (the delivery
throttle) and at most ``batch_size`` per scheduler tick (one tick every ``interval_s`` seconds),
so its rate is ``min(messages_per_minute, batch_size * 60 / interval_s)`` messages a minute,
inside its windows only, up to ``daily_quota`` a day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import holidays

from ..config import SendingPeriod, SendingSchedule, TimeWindow

WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
TICK_INTERVAL_S = 60  # the scheduler runs one tick a minute
HORIZON_DAYS = 400  # how far ahead anything is looked for


@lru_cache(maxsize=64)
def _vietnam_holidays(year: int) -> dict[dt.date, str]:
    """Public holidays of Việt Nam (Tết, days in lieu included) with their Vietnamese names."""
    return dict(holidays.country_holidays("VN", years=[year], language="vi").items())


def vietnam_holiday(day: dt.date) -> str | None:
    return _vietnam_holidays(day.year).get(day)


@dataclass(frozen=True)
class OfficeCalendar:
    schedule: SendingSchedule

    def local(self, moment: dt.datetime) -> dt.datetime:
        """The moment in the sender's time zone; a naive moment is taken as already local."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.schedule.tz)
        return moment.astimezone(self.schedule.tz)

    def day_off_reason(self, day: dt.date) -> str | None:
        """Why nothing is sent that day (Vietnamese), or None on a working day."""
        holiday = vietnam_holiday(day)
        if holiday:
            return f"Nghỉ lễ: {holiday}"
        if day in self.schedule.days_off:
            return "Ngày nghỉ của cơ quan"
        if day.weekday() not in self.schedule.days:
            return f"Ngày nghỉ hằng tuần ({WEEKDAY_NAMES[day.weekday()]})"
        return None

    def is_working_day(self, day: dt.date) -> bool:
        return self.day_off_reason(day) is None

    def working_days_after(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day`` (a letter sent on a Friday, 1 -> the Monday)."""
        for _ in range(count):
            day += dt.timedelta(days=1)
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        return day

    def spans(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's windows as aware local moments [start, end); none on a day off."""
        if not self.is_working_day(day):
            return []
        tz = self.schedule.tz
        return [(dt.datetime.combine(day, w.start, tzinfo=tz), dt.datetime.combine(day, w.end, tzinfo=tz))
                for w in self.schedule.windows]

    def open_window(self, moment: dt.datetime) -> TimeWindow | None:
        """The window open at this moment, if any: start included, end excluded."""
        local = self.local(moment)
        if not self.is_working_day(local.date()):
            return None
        now = local.time()
        return next((w for w in self.schedule.windows if w.start <= now < w.end), None)

    def next_opening(self, moment: dt.datetime, horizon_days: int = HORIZON_DAYS) -> dt.datetime | None:
        """When sending may next happen: ``moment`` itself if a window is open, else the next window start."""
        local = self.local(moment)
        if self.open_window(local):
            return local
        for offset in range(horizon_days):
            for start, _ in self.spans(local.date() + dt.timedelta(days=offset)):
                if start > local:
                    return start
        return None

    def window_minutes(self) -> int:
        return sum((w.end.hour * 60 + w.end.minute) - (w.start.hour * 60 + w.start.minute) for w in self.schedule.windows)

    def rate_per_minute(self, interval_s: float = TICK_INTERVAL_S) -> float:
        """Messages a minute inside a window: the throttle, and one batch per tick."""
        return min(float(self.schedule.messages_per_minute), self.schedule.batch_size * 60.0 / interval_s)

    def capacity_between(self, start: dt.datetime, end: dt.datetime, interval_s: float = TICK_INTERVAL_S) -> int:
        """Messages that can start in [start, end) if it lies inside a window (quota not counted)."""
        seconds = (end - start).total_seconds()
        if seconds <= 0:
            return 0
        return math.floor(self.rate_per_minute(interval_s) * seconds / 60.0 + 1e-9)

    def day_capacity(self, day: dt.date, interval_s: float = TICK_INTERVAL_S) -> int:
        """How many messages this sender can send on that day."""
        windows = sum(self.capacity_between(start, end, interval_s) for start, end in self.spans(day))
        return min(self.schedule.daily_quota, windows)


# ---------------------------------------------------------------------------- forecast


@dataclass(frozen=True)
class Workload(SendingPeriod):
    """Messages one sender still has to send for one campaign, and when the campaign may send."""

    campaign: str
    sender: str
    pending: int
    not_before: dt.datetime | None = None
    expires: dt.datetime | None = None


@dataclass(frozen=True)
class DayPlan:
    day: dt.date
    sender: str
    windows: str  # "08:00–11:00, 13:30–16:30" ("" on a day off)
    off: str  # why nothing is sent that day, Vietnamese ("" on a working day)
    capacity: int  # messages the sender could send that day (after quota already used, windows already past)
    expected: dict[str, int]  # campaign -> messages expected that day


@dataclass(frozen=True)
class CampaignForecast(SendingPeriod):
    campaign: str
    sender: str
    pending: int
    finishes_on: dt.date | None  # the day the last message should go; None: not within the horizon
    not_before: dt.datetime | None
    expires: dt.datetime | None
    late: int  # messages that would still be unsent at expiry (they will never be sent)

    @property
    def expired(self) -> bool:
        """Every pending message is lost: nothing could be sent before the expiry."""
        return self.pending > 0 and self.late == self.pending and self.expires is not None


def forecast(calendars: Mapping[str, OfficeCalendar], workloads: Sequence[Workload], start: dt.datetime,
             days: int, *, sent_today: Mapping[str, int] | None = None, interval_s: float = TICK_INTERVAL_S,
             horizon_days: int = HORIZON_DAYS) -> tuple[list[DayPlan], list[CampaignForecast]]:
    """Spread each sender's pending messages over its windows, from ``start`` on.

    Campaigns of one sender share its windows and quota in the order given (the scheduler's
    order: earliest expiry first); a campaign only takes window time in [not_before, expires).
    ``sent_today``: messages each sender already sent on ``start``'s day (quota used). Day plans
    cover ``days`` days; finish dates and losses at expiry are followed up to ``horizon_days``.
    """
    sent_today = sent_today or {}
    plans: list[DayPlan] = []
    results: dict[int, CampaignForecast] = {}
    for sender, calendar in calendars.items():
        mine = [(index, w) for index, w in enumerate(workloads) if w.sender == sender]
        plans_of_sender, forecasts = _forecast_sender(calendar, sender, mine, calendar.local(start), days,
                                                      sent_today.get(sender, 0), interval_s, horizon_days)
        plans.extend(plans_of_sender)
        results.update(forecasts)
    for index, w in enumerate(workloads):  # a sender without a calendar sends nothing
        results.setdefault(index, CampaignForecast(w.campaign, w.sender, w.pending, None, w.not_before, w.expires,
                                                   late=w.pending if w.expires else 0))
    plans.sort(key=lambda p: (p.day, list(calendars).index(p.sender)))
    return plans, [results[index] for index in range(len(workloads))]


def _forecast_sender(calendar: OfficeCalendar, sender: str, workloads: list[tuple[int, Workload]],
                     start: dt.datetime, days: int, sent_today: int, interval_s: float,
                     horizon_days: int) -> tuple[list[DayPlan], dict[int, CampaignForecast]]:
    remaining = {index: max(w.pending, 0) for index, w in workloads}
    finished: dict[int, dt.date] = {}
    windows_text = ", ".join(str(w) for w in calendar.schedule.windows)
    plans: list[DayPlan] = []
    last_moment = start
    for offset in range(max(days, horizon_days)):
        day = start.date() + dt.timedelta(days=offset)
        if offset >= days and all(remaining[index] == 0 or w.has_expired(last_moment) for index, w in workloads):
            break
        quota = max(calendar.schedule.daily_quota - (sent_today if offset == 0 else 0), 0)
        spans = [(max(a, start), b) for a, b in calendar.spans(day) if b > max(a, start)]
        capacity = min(quota, sum(calendar.capacity_between(a, b, interval_s) for a, b in spans))
        expected: dict[str, int] = {}
        for span_start, span_end in spans:
            cuts = sorted({span_start, span_end} | {
                moment for _, w in workloads for moment in (w.not_before, w.expires)
                if moment is not None and span_start < moment < span_end})
            for piece_start, piece_end in zip(cuts, cuts[1:]):
                room = min(calendar.capacity_between(piece_start, piece_end, interval_s), quota)
                for index, w in workloads:
                    if room == 0:
                        break
                    if remaining[index] == 0 or not w.is_open(piece_start):
                        continue
                    taken = min(remaining[index], room)
                    room -= taken
                    quota -= taken
                    remaining[index] -= taken
                    expected[w.campaign] = expected.get(w.campaign, 0) + taken
                    if remaining[index] == 0:
                        finished[index] = day
        last_moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=start.tzinfo)
        if offset < days:
            off = calendar.day_off_reason(day) or ""
            plans.append(DayPlan(day, sender, "" if off else windows_text, off, capacity, expected))
    forecasts = {}
    for index, w in workloads:
        forecasts[index] = CampaignForecast(
            w.campaign, sender, w.pending, finished.get(index) if w.pending else None, w.not_before, w.expires,
            late=remaining[index] if w.has_expired(last_moment) else 0)
    return plans, forecasts
