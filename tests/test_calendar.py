"""The office calendar and the forecast: pure functions of a schedule and a moment (no clock, no sleep)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from outreach.localtime import format_day, format_moment, local_time
from outreach.schedule.calendar import OfficeCalendar, Workload, forecast
from outreach.config import SendingSchedule, TimeWindow

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=VN)


def calendar(*, windows=((8, 0, 11, 0), (13, 30, 16, 30)), days=(0, 1, 2, 3, 4), batch_size=20,
             messages_per_minute=30, daily_quota=500, days_off=()) -> OfficeCalendar:
    return OfficeCalendar(SendingSchedule(
        days=days,
        windows=tuple(TimeWindow(dt.time(a, b), dt.time(c, d)) for a, b, c, d in windows),
        timezone="Asia/Ho_Chi_Minh", batch_size=batch_size, messages_per_minute=messages_per_minute,
        daily_quota=daily_quota, days_off=tuple(days_off)))


# ---------------------------------------------------------------------------- days and windows


def test_window_start_is_open_and_end_is_closed() -> None:
    office = calendar()
    monday = (2023, 1, 9)
    assert office.open_window(at(*monday, 7, 59, 59)) is None
    assert str(office.open_window(at(*monday, 8, 0))) == "08:00–11:00"
    assert str(office.open_window(at(*monday, 10, 59, 59))) == "08:00–11:00"
    assert office.open_window(at(*monday, 11, 0)) is None
    assert office.open_window(at(*monday, 12, 0)) is None
    assert str(office.open_window(at(*monday, 13, 30))) == "13:30–16:30"
    assert office.open_window(at(*monday, 16, 30)) is None


def test_moments_are_read_in_the_senders_time_zone() -> None:
    office = calendar()
    utc_0100 = dt.datetime(2023, 1, 9, 1, 0, tzinfo=dt.timezone.utc)  # 08:00 in Khánh Hòa
    assert str(office.open_window(utc_0100)) == "08:00–11:00"
    assert office.open_window(utc_0100 - dt.timedelta(seconds=1)) is None
    assert str(office.open_window(dt.datetime(2023, 1, 9, 8, 0))) == "08:00–11:00"  # naive = local
    assert office.local(utc_0100) == at(2023, 1, 9, 8, 0)


def test_weekends_days_off_and_public_holidays() -> None:
    office = calendar(days_off=[dt.date(2023, 1, 19)])
    assert office.day_off_reason(dt.date(2023, 1, 14)) == "Ngày nghỉ hằng tuần (Thứ Bảy)"
    assert office.day_off_reason(dt.date(2023, 1, 15)) == "Ngày nghỉ hằng tuần (Chủ Nhật)"
    assert office.day_off_reason(dt.date(2023, 1, 19)) == "Ngày nghỉ của cơ quan"
    assert office.day_off_reason(dt.date(2023, 1, 2)) == "Nghỉ lễ: Tết Dương lịch (nghỉ bù)"
    assert office.day_off_reason(dt.date(2023, 9, 4)) == "Nghỉ lễ: Quốc khánh (nghỉ bù)"
    assert office.is_working_day(dt.date(2023, 1, 18))
    assert office.open_window(at(2023, 1, 14, 9, 0)) is None
    assert office.spans(dt.date(2023, 1, 14)) == []
    six_days = calendar(days=(0, 1, 2, 3, 4, 5))
    assert six_days.is_working_day(dt.date(2023, 1, 14))


def test_tet_2023_is_skipped_from_29_tet_to_mung_nam() -> None:
    office = calendar()
    reasons = {day: office.day_off_reason(dt.date(2023, 1, day)) for day in range(20, 27)}
    assert reasons[20] == "Nghỉ lễ: 29 Tết"
    assert reasons[23] == "Nghỉ lễ: Mùng hai Tết Nguyên Đán"
    assert reasons[26] == "Nghỉ lễ: Mùng năm Tết Nguyên Đán"
    assert all(reason and reason.startswith("Nghỉ lễ") for reason in reasons.values())
    assert office.is_working_day(dt.date(2023, 1, 27))
    # Thursday before Tết, after the last window: the next opening is the Friday after Tết.
    assert office.next_opening(at(2023, 1, 19, 17, 0)) == at(2023, 1, 27, 8, 0)


def test_next_opening() -> None:
    office = calendar()
    assert office.next_opening(at(2023, 1, 9, 9, 15)) == at(2023, 1, 9, 9, 15)  # open now
    assert office.next_opening(at(2023, 1, 9, 11, 0)) == at(2023, 1, 9, 13, 30)
    assert office.next_opening(at(2023, 1, 9, 6, 0)) == at(2023, 1, 9, 8, 0)
    assert office.next_opening(at(2023, 1, 13, 16, 30)) == at(2023, 1, 16, 8, 0)  # Friday -> Monday
    assert calendar(days=()).next_opening(at(2023, 1, 9), horizon_days=30) is None


def test_rate_capacity_and_quota() -> None:
    office = calendar(batch_size=20, messages_per_minute=30, daily_quota=5000)
    assert office.rate_per_minute() == 20  # one batch of 20 per one-minute tick
    assert office.rate_per_minute(interval_s=30) == 30  # two ticks a minute: the throttle limits
    assert office.capacity_between(at(2023, 1, 9, 8), at(2023, 1, 9, 11)) == 3600
    assert office.day_capacity(dt.date(2023, 1, 9)) == 5000  # 6 h × 20/min = 7200, quota 5000
    assert calendar(daily_quota=10_000).day_capacity(dt.date(2023, 1, 9)) == 7200
    assert office.day_capacity(dt.date(2023, 1, 14)) == 0
    slow = calendar(batch_size=20, messages_per_minute=6, daily_quota=5000)
    assert slow.window_minutes() == 360 and slow.rate_per_minute() == 6
    assert slow.day_capacity(dt.date(2023, 1, 9)) == 2160  # the throttle limits: 6/min × 360 min


def test_formatting() -> None:
    assert format_day(dt.date(2023, 1, 9)) == "T2 09/01/2023"
    assert format_day(dt.date(2023, 1, 15)) == "CN 15/01/2023"
    assert format_moment(dt.datetime(2023, 1, 9, 1, 0, tzinfo=dt.timezone.utc), VN) == "08:00 T2 09/01/2023"
    assert local_time("2023-01-09T07:05:00.000+00:00") == "14:05 ngày 09/01/2023" and local_time(None) == ""


def test_a_sending_period_includes_its_start_and_excludes_its_expiry() -> None:
    period = Workload("c", "QLT", 1, not_before=at(2023, 1, 9, 8, 0), expires=at(2023, 1, 10, 8, 0))
    assert period.not_yet_open(at(2023, 1, 9, 7, 59)) and not period.is_open(at(2023, 1, 9, 7, 59))
    assert period.is_open(at(2023, 1, 9, 8, 0)) and period.is_open(at(2023, 1, 10, 7, 59))
    assert period.has_expired(at(2023, 1, 10, 8, 0)) and not period.is_open(at(2023, 1, 10, 8, 0))
    assert Workload("c", "QLT", 1).is_open(at(2023, 1, 9, 8, 0))


# ---------------------------------------------------------------------------- forecast


def test_forecast_spreads_messages_over_working_days_and_finds_the_finish_day() -> None:
    office = calendar(windows=((8, 0, 11, 0),), daily_quota=100)
    load = Workload("vssid-2022", "QLT", 350)
    plans, (outcome,) = forecast({"QLT": office}, [load], at(2023, 1, 12), days=7)
    expected = [(p.day, p.expected.get("vssid-2022", 0)) for p in plans]
    assert expected == [(dt.date(2023, 1, 12), 100), (dt.date(2023, 1, 13), 100), (dt.date(2023, 1, 14), 0),
                        (dt.date(2023, 1, 15), 0), (dt.date(2023, 1, 16), 100), (dt.date(2023, 1, 17), 50),
                        (dt.date(2023, 1, 18), 0)]
    saturday = plans[2]
    assert saturday.off == "Ngày nghỉ hằng tuần (Thứ Bảy)" and saturday.windows == "" and saturday.capacity == 0
    assert plans[0].windows == "08:00–11:00" and plans[0].off == "" and plans[0].capacity == 100
    assert outcome.finishes_on == dt.date(2023, 1, 17) and outcome.late == 0


def test_forecast_skips_tet_and_follows_beyond_the_days_shown() -> None:
    office = calendar(daily_quota=100)
    plans, (outcome,) = forecast({"QLT": office}, [Workload("c", "QLT", 250)], at(2023, 1, 19), days=3)
    assert [p.day.day for p in plans] == [19, 20, 21]
    assert plans[1].off == "Nghỉ lễ: 29 Tết"
    assert outcome.finishes_on == dt.date(2023, 1, 30)  # 19/1, then 27/1 after Tết, then Monday 30/1


def test_forecast_counts_quota_used_and_window_time_already_past() -> None:
    office = calendar(windows=((8, 0, 11, 0),), batch_size=1, messages_per_minute=1, daily_quota=150)
    load = [Workload("c", "QLT", 1000)]
    plans, _ = forecast({"QLT": office}, load, at(2023, 1, 9, 10, 0), days=2, sent_today={"QLT": 20})
    assert plans[0].capacity == 60 and plans[0].expected == {"c": 60}  # one hour left at 1/min
    assert plans[1].capacity == 150  # next day: 180 by rate, quota 150
    plans, _ = forecast({"QLT": office}, load, at(2023, 1, 9, 8, 0), days=1, sent_today={"QLT": 100})
    assert plans[0].expected == {"c": 50}


def test_forecast_reports_what_will_not_make_it_before_expiry() -> None:
    office = calendar(windows=((8, 0, 11, 0),), batch_size=1, messages_per_minute=1, daily_quota=1000)
    expiring = Workload("tet-2023", "QLT", 500, expires=at(2023, 1, 10, 9, 30))
    plans, (outcome,) = forecast({"QLT": office}, [expiring], at(2023, 1, 9), days=3)
    assert [p.expected.get("tet-2023", 0) for p in plans] == [180, 90, 0]  # 08:00–09:30 on the 10th
    assert outcome.late == 500 - 270 and outcome.finishes_on is None and not outcome.expired

    gone = Workload("old", "QLT", 7, expires=at(2023, 1, 1))
    _, (outcome,) = forecast({"QLT": office}, [gone], at(2023, 1, 9), days=3)
    assert outcome.late == 7 and outcome.expired


def test_forecast_shares_a_sender_between_campaigns_in_order_and_honours_not_before() -> None:
    office = calendar(windows=((8, 0, 11, 0),), batch_size=1, messages_per_minute=1, daily_quota=100)
    first = Workload("a", "QLT", 150)
    later = Workload("b", "QLT", 30, not_before=at(2023, 1, 10, 8, 0))
    other = Workload("c", "TTPT", 10)
    plans, outcomes = forecast({"QLT": office, "TTPT": calendar()}, [first, later, other], at(2023, 1, 9), days=3)
    qlt = [p.expected for p in plans if p.sender == "QLT"]
    assert qlt == [{"a": 100}, {"a": 50, "b": 30}, {}]
    assert [p.sender for p in plans[:2]] == ["QLT", "TTPT"]  # day by day, senders in the order given
    assert [o.finishes_on for o in outcomes] == [dt.date(2023, 1, 10), dt.date(2023, 1, 10), dt.date(2023, 1, 9)]


def test_forecast_not_before_mid_window_and_unknown_sender() -> None:
    office = calendar(windows=((8, 0, 11, 0),), batch_size=1, messages_per_minute=1, daily_quota=1000)
    load = [Workload("a", "QLT", 1000, not_before=at(2023, 1, 9, 10, 0)), Workload("x", "ZZ", 5, expires=at(2023, 2, 1))]
    plans, outcomes = forecast({"QLT": office}, load, at(2023, 1, 9), days=1)
    assert plans[0].expected == {"a": 60}
    assert outcomes[1].late == 5 and outcomes[1].finishes_on is None  # nobody sends for ZZ
