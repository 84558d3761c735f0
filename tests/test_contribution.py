"""Voluntary-insurance amounts per payment mode and support group, against figures worked by hand.

Per month: 22% × income, less the State's support of percent(group) × 22% × the rural poverty line
(1,500,000 đ): 330,000 đ of contribution at the lowest income; support 66,000 (20%), 99,000 (30%),
132,000 (40%), 165,000 (50%) from 1/7/2025, and 33,000 (10%), 82,500 (25%), 99,000 (30%) before.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest

from outreach.config import load_config
from outreach.payment.contribution import ContributionError, ContributionRules, Month, next_period

REPO = Path(__file__).resolve().parent.parent

DEADLINES = MappingProxyType({1: 1, 3: 3, 6: 4, 12: 7})


def rules(day: dt.date, support: dict[str, int], ceiling: int = 46_800_000) -> ContributionRules:
    return ContributionRules(effective_from=day, rate_percent=Decimal(22), poverty_line=1_500_000,
                             income_ceiling=ceiling, support_percent=MappingProxyType({k: Decimal(v) for k, v in support.items()}),
                             default_group="khac", support_months_cap=120, deadline_months=DEADLINES)


BEFORE = rules(dt.date(2024, 7, 1), {"ho_ngheo": 30, "can_ngheo": 25, "khac": 10})
SINCE_2025 = rules(dt.date(2025, 7, 1), {"ho_ngheo": 50, "xa_dao": 50, "can_ngheo": 40, "dan_toc_thieu_so": 30, "khac": 20})
LAW = (BEFORE, SINCE_2025)


@pytest.mark.parametrize("paid_until, mode, income, groups, amount, support, deadline", [
    # 12 months at the lowest income, no group: 12 × (330,000 − 66,000)
    (Month(2026, 12), 12, 1_500_000, (), 3_168_000, 792_000, dt.date(2027, 7, 31)),
    # monthly, 2,000,000, near-poor: 440,000 − 132,000; due within the month
    (Month(2026, 12), 1, 2_000_000, ("can_ngheo",), 308_000, 132_000, dt.date(2027, 1, 31)),
    # 3 months, 3,000,000, no group: 3 × (660,000 − 66,000); due within the three months
    (Month(2027, 1), 3, 3_000_000, (), 1_782_000, 198_000, dt.date(2027, 4, 30)),
    # 6 months, 2,500,000, poor: 6 × (550,000 − 165,000); due within the first four months
    (Month(2026, 12), 6, 2_500_000, ("ho_ngheo",), 2_310_000, 990_000, dt.date(2027, 4, 30)),
    # 6 months, ethnic minority: 6 × (330,000 − 99,000)
    (Month(2026, 12), 6, 1_500_000, ("dan_toc_thieu_so",), 1_386_000, 594_000, dt.date(2027, 4, 30)),
    # island commune: 12 × (330,000 − 165,000)
    (Month(2026, 12), 12, 1_500_000, ("xa_dao",), 1_980_000, 1_980_000, dt.date(2027, 7, 31)),
    # in two groups, the higher one counts: 12 × (880,000 − 132,000)
    (Month(2027, 1), 12, 4_000_000, ("can_ngheo", "dan_toc_thieu_so"), 8_976_000, 1_584_000, dt.date(2027, 8, 31)),
    # a month before the change: the old 10% (330,000 − 33,000); from July 2025 the new 20%
    (Month(2025, 5), 1, 1_500_000, (), 297_000, 33_000, dt.date(2025, 6, 30)),
    (Month(2025, 6), 1, 1_500_000, (), 264_000, 66_000, dt.date(2025, 7, 31)),
    # before the change an ethnic-minority person had no group of their own: the default 10%
    (Month(2025, 5), 1, 1_500_000, ("dan_toc_thieu_so",), 297_000, 33_000, dt.date(2025, 6, 30)),
    # near-poor before the change: 25% of 330,000 = 82,500
    (Month(2025, 3), 3, 1_500_000, ("can_ngheo",), 742_500, 247_500, dt.date(2025, 6, 30)),
    # a monthly figure with a fraction: 22% × 1,512,345 = 332,715.9 → 332,716; less 66,000
    (Month(2026, 12), 1, 1_512_345, (), 266_716, 66_000, dt.date(2027, 1, 31)),
])
def test_amounts_per_mode_and_group(paid_until, mode, income, groups, amount, support, deadline):
    result = next_period(LAW, paid_until=paid_until, mode_months=mode, income=income, groups=groups)
    assert (result.amount, result.support, result.deadline) == (amount, support, deadline)
    assert result.gross == result.amount + result.support
    assert result.period_start == paid_until.plus(1) and result.period_end == paid_until.plus(mode)


@pytest.mark.parametrize("before, supported, amount", [
    (115, 5, 12 * 330_000 - 5 * 66_000),  # the cap of 120 months leaves five
    (120, 0, 12 * 330_000),
    (200, 0, 12 * 330_000),
])
def test_support_stops_at_its_cap(before, supported, amount):
    result = next_period(LAW, paid_until=Month(2026, 12), mode_months=12, income=1_500_000, months_supported_before=before)
    assert (result.supported_months, result.amount) == (supported, amount)


@pytest.mark.parametrize("kwargs, column, words", [
    ({"income": 1_400_000}, "income", "thấp hơn mức tối thiểu 1.500.000"),
    ({"income": 46_800_001}, "income", "cao hơn mức tối đa 46.800.000"),
    ({"mode_months": 2}, "payment_mode", "phương thức đóng 2 tháng"),
    ({"paid_until": Month(2024, 5)}, "paid_until", "chưa có tham số"),
])
def test_what_cannot_be_computed_says_why(kwargs, column, words):
    arguments = {"paid_until": Month(2026, 12), "mode_months": 12, "income": 1_500_000, **kwargs}
    with pytest.raises(ContributionError) as error:
        next_period(LAW, **arguments)
    assert error.value.column == column and words in str(error.value)


def test_months():
    assert Month(2026, 12).plus(1) == Month(2027, 1) and Month(2027, 1).plus(-1) == Month(2026, 12)
    assert Month(2028, 2).last_day == dt.date(2028, 2, 29) and str(Month(2027, 3)) == "03/2027"
    with pytest.raises(ValueError):
        Month(2026, 13)


def test_the_shipped_config_holds_both_sets_of_rules():
    voluntary = load_config(REPO).voluntary
    assert [r.effective_from for r in voluntary.rules] == [dt.date(2024, 7, 1), dt.date(2025, 7, 1)]
    for paid_until, amount in ((Month(2025, 5), 297_000), (Month(2026, 12), 264_000)):
        assert next_period(voluntary.rules, paid_until=paid_until, mode_months=1, income=1_500_000).amount == amount
