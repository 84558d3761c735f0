"""routing: who sends each copy (section 9 of the reference letter), tested as the pure function it is."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from outreach.config import Config, parse_config
from outreach.errors import UserError
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


# --- section 9 in full: district offices send within their area -----------------------------------

NHA_TRANG, CAM_RANH = ("Thành phố Nha Trang", "22327"), ("Thành phố Cam Ranh", "22408")  # district, a commune in it


def located(kind: str, where: tuple[str, str], known_from: str) -> Recipient:
    """A commune or collection organisation in ``where``, its district given by the list's column or
    only by its commune's code (the 2022 administrative data then says which district)."""
    district, commune_code = where
    code = commune_code if kind == "communes" else "DV00001"
    return Recipient(kind=kind, code=code, name="Bưu điện Vĩnh Hòa" if kind != "communes" else "Phường Vĩnh Hòa",
                     district=district if known_from == "list" else "", commune_code=commune_code if known_from == "communes"
                     else "", source_file=f"{kind}.xlsx", source_row=5)


LOCATED_CASES = [
    (kind, known_from, inside, sends_to, "NTR" if inside and kind in sends_to else "TTPT")
    for kind in ("communes", "collection_agents")
    for known_from in ("list", "communes")
    for inside in (True, False)
    for sends_to in ([], ["communes", "collection_agents", "employers"], ["employers"])
]


@pytest.mark.parametrize("kind,known_from,inside,sends_to,expected", LOCATED_CASES)
def test_communes_and_collection_agents_are_sent_by_the_office_of_their_district_when_it_sends_to_them(
        kind: str, known_from: str, inside: bool, sends_to: list[str], expected: str) -> None:
    recipient = located(kind, NHA_TRANG if inside else CAM_RANH, known_from)
    assert route(config(sends_to=sends_to), recipient) == Route(sender=expected, cc=())


NTR_MAIL, CRA_MAIL = "nhatrang@bhxh-khanhhoa.example.vn", "camranh@bhxh-khanhhoa.example.vn"
ALL_THREE = ["communes", "collection_agents", "employers"]


@pytest.mark.parametrize("managing_office,district,sends_to,expected", [
    ("NTR", "", ALL_THREE, Route("NTR", ())),
    ("NTR", "Thành phố Cam Ranh", ALL_THREE, Route("NTR", ())),  # managed by NTR wherever its seat is
    ("NTR", "", ["communes"], Route("QLT", (NTR_MAIL,))),
    ("", "Thành phố Nha Trang", ALL_THREE, Route("QLT", ())),  # in Nha Trang, managed by the province
    ("CRA", "Thành phố Nha Trang", ALL_THREE, Route("QLT", (CRA_MAIL,))),
])
def test_employers_follow_their_managing_office_not_their_district(managing_office: str, district: str,
                                                                   sends_to: list[str], expected: Route) -> None:
    recipient = replace(employer(managing_office), district=district)
    assert route(config(sends_to=sends_to), recipient) == expected


@pytest.mark.parametrize("sends_to,expected", [(["participants"], "NTR"), (ALL_THREE, "TTPT"), ([], "TTPT")])
def test_participants_follow_their_managing_office_when_it_sends_to_them(sends_to: list[str], expected: str) -> None:
    person = Recipient(kind="participants", code="056123456789", name="Nguyễn Văn An", managing_office="NTR")
    assert route(config(sends_to=sends_to), person).sender == expected


def test_sends_to_own_employers_is_employers_in_sends_to() -> None:
    assert config(sends_to_own_employers=True).district_offices["NTR"].sends_to == ("employers",)
    assert config(sends_to=["communes"], sends_to_own_employers=True).district_offices["NTR"].sends_to == (
        "employers", "communes")


def test_an_unknown_audience_in_sends_to_is_a_config_error_naming_the_valid_ones() -> None:
    with pytest.raises(UserError) as caught:
        config(sends_to=["communes", "xa"])
    message = str(caught.value)
    assert "district_offices.NTR.sends_to" in message and "'xa'" in message and "collection_agents" in message
    assert "Cách sửa" in message


def test_an_office_sending_to_its_communes_needs_a_district_of_the_catalogue() -> None:
    with pytest.raises(UserError) as caught:
        config(sends_to=["communes"], district="Thành phố Hòn Mun")
    assert "district_offices.NTR.district" in str(caught.value) and "Thành phố Nha Trang" in str(caught.value)
    assert config(sends_to=["employers"], district="").district_offices["NTR"].sends_to == ("employers",)


def two_offices_claim_nha_trang() -> Config:
    data = copy.deepcopy(SHIPPED)
    data["district_offices"]["NTR"]["sends_to"] = ["communes"]
    data["district_offices"]["CRA"].update(sends_to=["communes"], district="Thành phố Nha Trang")
    return parse_config(data, REPO)


def communes_list(*recipients: Recipient) -> RecipientList:
    return RecipientList(file=Path("communes.xlsx"), kind="communes", recipients=recipients, rejected_rows=(),
                         problems=(), rows=len(recipients))


def test_validate_reports_a_commune_two_offices_claim_with_the_fix() -> None:
    claimed = located("communes", NHA_TRANG, "list")
    elsewhere = replace(located("communes", CAM_RANH, "list"), source_row=6)
    checked = check_coverage(two_offices_claim_nha_trang(), communes_list(claimed, elsewhere))
    assert checked.recipients == (elsewhere,) and checked.rejected_rows == (5,)
    [problem] = checked.problems
    assert (problem.row, problem.column, problem.severity) == (5, "Huyện/Thị xã/Thành phố", "error")
    assert "BHXH thành phố Nha Trang" in problem.message and "BHXH thành phố Cam Ranh" in problem.message
    assert "Cách sửa" in problem.message


def test_validate_reports_a_commune_nobody_sends_with_the_fix() -> None:
    data = copy.deepcopy(SHIPPED)
    data["district_offices"]["NTR"]["sends_to"] = ["communes"]
    data["departments"]["TTPT"]["audiences"] = [a for a in data["departments"]["TTPT"]["audiences"] if a != "communes"]
    inside, outside = located("communes", NHA_TRANG, "list"), replace(located("communes", CAM_RANH, "list"), source_row=6)
    checked = check_coverage(parse_config(data, REPO), communes_list(inside, outside))
    assert checked.recipients == (inside,) and checked.rejected_rows == (6,)
    [problem] = checked.problems
    assert problem.severity == "error" and "Thành phố Cam Ranh" in problem.message and "sends_to" in problem.message


def test_validate_warns_when_a_commune_of_unknown_district_cannot_reach_its_office() -> None:
    unknown = Recipient(kind="communes", code="", name="Phường Không Rõ", source_file="communes.xlsx", source_row=9)
    checked = check_coverage(config(sends_to=["communes"]), communes_list(unknown))
    assert checked.recipients == (unknown,)
    [problem] = checked.problems
    assert (problem.severity, problem.code) == ("warning", "district_unknown_sender")
    assert "Huyện/Thị xã/Thành phố" in problem.fix
    assert check_coverage(config(), communes_list(unknown)).problems == ()  # no office sends to communes: nothing to say


def test_a_collection_agent_listed_with_its_commune_only_goes_to_the_office_of_that_communes_district(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from outreach.recipients import load_list

    workbook = Workbook()
    workbook.active.append(["Mã tổ chức", "Tên tổ chức", "Địa chỉ", "Xã/Phường", "Email"])
    workbook.active.append(["DV00001", "Bưu điện Vĩnh Hòa", "2 Phạm Văn Đồng", "Phường Vĩnh Hòa", "bd@example.vn"])
    workbook.active.append(["DV00002", "Bưu điện Cam Nghĩa", "5 Đại lộ Hùng Vương", "Phường Cam Nghĩa", "bd2@example.vn"])
    workbook.save(tmp_path / "agents.xlsx")
    vinh_hoa, cam_nghia = load_list(tmp_path / "agents.xlsx", "collection_agents").recipients
    routed = config(sends_to=["collection_agents"])
    assert (route(routed, vinh_hoa).sender, route(routed, cam_nghia).sender) == ("NTR", "TTPT")


def test_an_office_sending_to_its_employers_needs_no_department_for_them() -> None:
    data = copy.deepcopy(SHIPPED)
    data["district_offices"]["NTR"]["sends_to"] = ["employers"]
    data["departments"]["QLT"]["audiences"] = []
    without_qlt = parse_config(data, REPO)
    assert route(without_qlt, employer("NTR")) == Route("NTR", ())
    with pytest.raises(RoutingError) as caught:
        route(without_qlt, employer(""))
    assert "employers" in str(caught.value) and "BHXH tỉnh" in str(caught.value) and "Cách sửa" in str(caught.value)
