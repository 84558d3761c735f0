"""The office calendar of one sender: working days, sending windows, Vietnamese public holidays, quota.

Pure functions of a :class:`SendingSchedule` and a moment; the scheduler and `schedule show` use
them, and tests give them any moment they like (time is injected, nothing sleeps).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays

from .config import SendingSchedule, TimeWindow

WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@lru_cache(maxsize=64)
def _vietnam_holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("VN", years=[year], language="vi").items())


@dataclass(frozen=True)
class OfficeCalendar:
    schedule: SendingSchedule

    def local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.schedule.tz)
        return moment.astimezone(self.schedule.tz)

    def day_off_reason(self, day: dt.date) -> str | None:
        """Why nothing is sent that day (Vietnamese), or None on a working day."""
        if day in self.schedule.days_off:
            return "Ngày nghỉ của cơ quan"
        holiday = _vietnam_holidays(day.year).get(day)
        if holiday:
            return f"Nghỉ lễ: {holiday}"
        if day.weekday() not in self.schedule.days:
            return f"{WEEKDAY_NAMES[day.weekday()]} không làm việc"
        return None

    def is_working_day(self, day: dt.date) -> bool:
        return self.day_off_reason(day) is None

    def open_window(self, moment: dt.datetime) -> TimeWindow | None:
        """The window open at this moment, if any: start included, end excluded."""
        local = self.local(moment)
        if not self.is_working_day(local.date()):
            return None
        now = local.time()
        return next((w for w in self.schedule.windows if w.start <= now < w.end), None)

    def next_opening(self, moment: dt.datetime, horizon_days: int = 400) -> dt.datetime | None:
        """When the next window opens (now, if one is open)."""
        local = self.local(moment)
        if self.open_window(local):
            return local
        for offset in range(horizon_days):
            day = local.date() + dt.timedelta(days=offset)
            if not self.is_working_day(day):
                continue
            for window in self.schedule.windows:
                start = dt.datetime.combine(day, window.start, tzinfo=self.schedule.tz)
                if start > local:
                    return start
        return None

    def window_minutes(self) -> int:
        return sum((w.end.hour * 60 + w.end.minute) - (w.start.hour * 60 + w.start.minute) for w in self.schedule.windows)

    def day_capacity(self, day: dt.date) -> int:
        """How many messages this sender can send on that day."""
        if not self.is_working_day(day):
            return 0
        return min(self.schedule.daily_quota, self.window_minutes() * self.schedule.messages_per_minute)


@dataclass(frozen=True)
class DayPlan:
    day: dt.date
    sender: str
    windows: str  # "08:00–11:00, 13:30–16:30", or the reason the day is off
    capacity: int
    expected: dict[str, int]  # campaign -> messages expected that day


@dataclass(frozen=True)
class CampaignForecast:
    campaign: str
    sender: str
    pending: int
    finishes_on: dt.date | None  # None: not within the horizon
    expires: dt.datetime | None
    late: int  # messages that would still be unsent at expiry


def forecast(calendars: dict[str, OfficeCalendar], pending: dict[tuple[str, str], int],
             expiries: dict[str, dt.datetime | None], start: dt.date, days: int,
             sent_today: dict[str, int] | None = None) -> tuple[list[DayPlan], list[CampaignForecast]]:
    """Spread each sender's pending messages over its working days, campaigns in the order given."""
    remaining = dict(pending)
    finishes: dict[tuple[str, str], dt.date] = {}
    plans: list[DayPlan] = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        for sender, calendar in calendars.items():
            capacity = calendar.day_capacity(day) - (sent_today or {}).get(sender, 0) * (offset == 0)
            capacity = max(capacity, 0)
            expected: dict[str, int] = {}
            for (campaign, who), count in remaining.items():
                if who != sender or count == 0 or capacity == 0:
                    continue
                expiry = expiries.get(campaign)
                if expiry and day > calendar.local(expiry).date():
                    continue
                taken = min(count, capacity)
                capacity -= taken
                remaining[(campaign, who)] -= taken
                expected[campaign] = taken
                if remaining[(campaign, who)] == 0:
                    finishes[(campaign, who)] = day
            reason = calendar.day_off_reason(day)
            windows = reason or ", ".join(str(w) for w in calendar.schedule.windows)
            plans.append(DayPlan(day, sender, windows, calendar.day_capacity(day), expected))
    horizon_end = start + dt.timedelta(days=days)

    def late(campaign: str, sender: str) -> int:
        expiry = expiries.get(campaign)
        if expiry is None or calendars[sender].local(expiry).date() >= horizon_end:
            return 0
        return remaining[(campaign, sender)]

    forecasts = [
        CampaignForecast(campaign, sender, count, finishes.get((campaign, sender)), expiries.get(campaign),
                         late=late(campaign, sender))
        for (campaign, sender), count in pending.items()
    ]
    return plans, forecasts
