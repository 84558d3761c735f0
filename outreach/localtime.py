"""How the office reads time: its zone, its weekday names, and the two ways it writes a moment.

Each sender's schedule carries its own zone (config.toml ``timezone``), which its windows and its
quota's day follow; :data:`OFFICE_TZ` is for what belongs to no sender: pages, reports, log lines,
campaign dates written without a zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

OFFICE_TIMEZONE = "Asia/Ho_Chi_Minh"
OFFICE_TZ = ZoneInfo(OFFICE_TIMEZONE)
WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")  # Monday first, as config.toml writes days


def aware(moment: dt.datetime) -> dt.datetime:
    """A moment typed by a person without a zone is office time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=OFFICE_TZ)


def office_today() -> dt.date:
    """Today in the office, whatever zone the machine keeps: the day a number is issued on or a page shows."""
    return dt.datetime.now(OFFICE_TZ).date()


def local_time(value: str | dt.datetime | None, tz: dt.tzinfo = OFFICE_TZ) -> str:
    """``14:05 ngày 09/01/2023``, for a sentence or a page, from a stored UTC ISO string or a moment
    (a naive one is UTC, as the ledger stores it)."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(tz).strftime("%H:%M ngày %d/%m/%Y")


def day_of(value: str | None) -> str:
    """``10/01/2023`` from a day as the ledger stores it (``2023-01-10``); "" for none."""
    return f"{dt.date.fromisoformat(value):%d/%m/%Y}" if value else ""


def format_day(day: dt.date) -> str:
    """``T2 09/01/2023``: a day of a schedule table or a log line."""
    return f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"


def format_moment(moment: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """``08:00 T2 09/01/2023`` in the given zone (the moment's own zone by default)."""
    local = moment.astimezone(tz) if tz is not None else moment
    return f"{local:%H:%M} {format_day(local.date())}"
