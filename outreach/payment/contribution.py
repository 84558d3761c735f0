"""What a voluntary-insurance participant pays for the next period, from dated parameters.

The parameters are law, and the law changes (Luật BHXH 2024 and NĐ 159/2025 from 1/7/2025): each
set in config.toml says from which day it applies, and the set in force on the first day of the
period to be paid is used. Nothing here knows a rate, a poverty line or a deadline of its own.

Per month: the contribution is ``rate × income``; the State supports ``percent(group) × rate ×
poverty line``, for at most ``support_months_cap`` months of a person's whole participation.
Each monthly figure is rounded to the đồng (half up) before it is multiplied by the months.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping, Sequence


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 2999:
            raise ValueError(f"no month {self.month:02d}/{self.year}")

    @classmethod
    def of(cls, day: dt.date) -> "Month":
        return cls(day.year, day.month)

    def plus(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year}"


@dataclass(frozen=True)
class ContributionRules:
    """One dated set of parameters (config.toml ``[[voluntary.rules]]``)."""

    effective_from: dt.date
    rate_percent: Decimal  # of the chosen income, e.g. 22
    poverty_line: int  # rural poverty line: the lowest income, and what support is a share of
    income_ceiling: int
    support_percent: Mapping[str, Decimal]  # support group → percent of rate × poverty line
    default_group: str  # the group of a participant the list names none for
    support_months_cap: int  # months of support over a person's whole participation
    deadline_months: Mapping[int, int]  # payment mode (months paid at once) → months to pay it within

    def support_for(self, groups: Sequence[str]) -> Decimal:
        """The highest percent among the person's groups; a group this set does not know (it was
        created later) counts as the default group."""
        known = [self.support_percent[g] for g in groups if g in self.support_percent]
        return max(known, default=self.support_percent[self.default_group])


class ContributionError(ValueError):
    """The amount cannot be computed; the message says why, in Vietnamese, without a fix."""

    def __init__(self, message: str, column: str = "") -> None:
        super().__init__(message)
        self.column = column  # the participant's field at fault: payment_mode, income, or "" (the rules)


@dataclass(frozen=True)
class Contribution:
    rules: ContributionRules
    period_start: Month
    period_end: Month
    months: int
    monthly: int  # rate × income, before support
    monthly_support: int
    supported_months: int  # months of this period the State supports (the cap may leave fewer)
    deadline: dt.date  # the last day the period may be paid

    @property
    def gross(self) -> int:
        return self.months * self.monthly

    @property
    def support(self) -> int:
        return self.supported_months * self.monthly_support

    @property
    def amount(self) -> int:
        """What the participant pays."""
        return self.gross - self.support


def rules_on(rules: Sequence[ContributionRules], day: dt.date) -> ContributionRules:
    in_force = [r for r in rules if r.effective_from <= day]
    if not in_force:
        raise ContributionError(f"chưa có tham số đóng BHXH tự nguyện áp dụng cho ngày {day:%d/%m/%Y}", "paid_until")
    return max(in_force, key=lambda r: r.effective_from)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def next_period(rules: Sequence[ContributionRules], *, paid_until: Month, mode_months: int, income: int,
                groups: Sequence[str] = (), months_supported_before: int = 0) -> Contribution:
    """The period after ``paid_until``, paid ``mode_months`` at once at ``income`` đồng a month."""
    start = paid_until.plus(1)
    applied = rules_on(rules, start.first_day)
    if mode_months not in applied.deadline_months:
        modes = ", ".join(f"{m} tháng" for m in sorted(applied.deadline_months))
        raise ContributionError(f"phương thức đóng {mode_months} tháng không có trong tham số áp dụng từ "
                                f"{applied.effective_from:%d/%m/%Y} (các phương thức: {modes})", "payment_mode")
    if income < applied.poverty_line:
        raise ContributionError(f"mức thu nhập {format_dong(income)} đồng thấp hơn mức tối thiểu "
                                f"{format_dong(applied.poverty_line)} đồng (chuẩn hộ nghèo khu vực nông thôn) "
                                f"áp dụng từ {applied.effective_from:%d/%m/%Y}", "income")
    if income > applied.income_ceiling:
        raise ContributionError(f"mức thu nhập {format_dong(income)} đồng cao hơn mức tối đa "
                                f"{format_dong(applied.income_ceiling)} đồng áp dụng từ "
                                f"{applied.effective_from:%d/%m/%Y}", "income")
    rate = applied.rate_percent / 100
    support_rate = applied.support_for(groups) / 100
    left = max(applied.support_months_cap - months_supported_before, 0)
    return Contribution(
        rules=applied,
        period_start=start,
        period_end=start.plus(mode_months - 1),
        months=mode_months,
        monthly=_round(rate * income),
        monthly_support=_round(support_rate * rate * applied.poverty_line),
        supported_months=min(mode_months, left),
        deadline=start.plus(applied.deadline_months[mode_months] - 1).last_day,
    )


def format_dong(amount: int) -> str:
    """``3168000`` → ``3.168.000``, as Vietnamese documents write amounts."""
    return f"{amount:,}".replace(",", ".")
