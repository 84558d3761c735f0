"""routing: who sends each copy (section 9 of the reference letter), tested as the pure function it is."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from outreach.config import Config, parse_config
from outreach.recipients.model import Recipient, RecipientList
from outreach.recipients.routing import Route, RoutingError, check_coverage, route

REPO = Path(__file__).resolve().parent.parent
SHIPPED = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))


def config(**office_settings: object) -> Config:
    data = copy.deepcopy(SHIPPED)
    data["district_offices"]["NTR"].update(office_settings)
    return parse_config(data, REPO)


def employer(managing_office: str = "", code: str = "TA12345") -> Recipient:
    return Recipient(kind="employers", code=code, name="Công ty TNHH Hải Đăng", managing_office=managing_office,
                     source_file="employers.xlsx", source_row=7)


def test_province_employers_and_the_other_audiences_follow_their_department() -> None:
    shipped = config()
    assert route(shipped, employer()) == Route(sender="QLT", cc=())
    assert route(shipped, Recipient(kind="communes", code="22333", name="Phường Vĩnh Hòa")).sender == "TTPT"
    assert route(shipped, Recipient(kind="collection_agents", code="DV00001", name="Bưu điện tỉnh")).sender == "TTPT"


@pytest.mark.parametrize("written", ["BHXH thành phố Nha Trang", "NTR", "Thành phố Nha Trang", "bhxh thành phố nha trang"])
def test_an_employer_of_a_district_office_is_copied_to_it_however_the_office_is_written(written: str) -> None:
    assert route(config(), employer(written)) == Route(sender="QLT", cc=("nhatrang@bhxh-khanhhoa.example.vn",))


def test_a_district_office_that_sends_to_its_own_employers_sends_them() -> None:
    assert route(config(sends_to_own_employers=True), employer("NTR")) == Route(sender="NTR", cc=())
    assert route(config(cc_on_employer_letters=False), employer("NTR")) == Route(sender="QLT", cc=())


def test_an_unknown_managing_office_names_the_known_ones() -> None:
    with pytest.raises(RoutingError) as caught:
        route(config(), employer("BHXH huyện Hòn Mun"))
    assert "BHXH huyện Hòn Mun" in str(caught.value) and "BHXH thành phố Nha Trang" in str(caught.value)
    assert "Cách sửa" in str(caught.value)


def test_check_coverage_rejects_only_the_uncovered_rows_with_where_they_are() -> None:
    covered, lost = employer("NTR", "TA00001"), employer("BHXH huyện Hòn Mun", "TA00002")
    lists = RecipientList(file=Path("employers.xlsx"), kind="employers", recipients=(covered, lost),
                          rejected_rows=(), problems=(), rows=2)
    checked = check_coverage(config(), lists)
    assert checked.recipients == (covered,)
    assert checked.rejected_rows == (lost.source_row,)
    [problem] = checked.problems
    assert (problem.row, problem.severity) == (7, "error") and "Hòn Mun" in problem.message
