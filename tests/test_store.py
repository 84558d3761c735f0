"""web.store: the pure parts behind the pages — filters from a URL, and pages of a list."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from outreach.web.store import MAX_PER_PAGE, PER_PAGE, Filters, paginate


@pytest.mark.parametrize(("page", "per", "expected"), [
    (None, None, (1, 1, PER_PAGE)), ("", "", (1, 1, PER_PAGE)), ("2", "10", (2, 3, 10)), ("99", "10", (3, 3, 10)),
    ("-4", "10", (1, 3, 10)), ("abc", "x", (1, 1, PER_PAGE)), ("1", "0", (1, 1, PER_PAGE)),
    ("1", str(10 * MAX_PER_PAGE), (1, 1, MAX_PER_PAGE)),
])
def test_any_page_a_url_names_is_a_page_that_exists(page, per, expected) -> None:
    items = list(range(25))
    shown = paginate(items, page, per)
    assert (shown.number, shown.pages, shown.per) == expected
    assert shown.total == 25 and list(shown.items) == items[shown.first - 1: shown.last]


def test_an_empty_list_is_one_empty_page() -> None:
    shown = paginate([], "3", "10")
    assert (shown.number, shown.pages, shown.first, shown.last, list(shown.items)) == (1, 1, 0, 0, [])


def _row(name: str, state: str = "approved", audience: str = "employers", district: str = "Huyện Cam Lâm"):
    draft = SimpleNamespace(audience=audience, district=district, sender="QLT")
    return SimpleNamespace(draft=draft, state=state, flags=(), folded=name.casefold(), exact=name.casefold(), name=name)


def test_filters_keep_only_known_values_and_select_by_state_and_audience() -> None:
    rows = [_row("Công ty Thủy sản"), _row("Công ty Thuật Việt"), _row("UBND Phường Vĩnh Hòa", "sent", "communes")]
    assert Filters.from_args({"state": "not-a-state", "problem": "<script>"}) == Filters()
    assert Filters.from_args({"q": "  Công   ty "}).q == "Công ty"
    assert [r.name for r in Filters(state="sent").apply(rows)] == ["UBND Phường Vĩnh Hòa"]
    assert [r.name for r in Filters(audience="employers").apply(rows)] == ["Công ty Thủy sản", "Công ty Thuật Việt"]
