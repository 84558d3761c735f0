"""Who sends each recipient's copy (section 9 of the reference letter), as a pure function of config.

- Communes and collection-service organisations: the department that serves the audience (TTPT).
- Employers: by the collection-management hierarchy. Managed by the province office (empty
  managing office) → QLT. Managed by a district office → that office sends when the config says it
  sends to its own employers; otherwise QLT sends and copies the district office when configured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import Config, DistrictOffice
from ..errors import UserError
from .model import Problem, Recipient, RecipientList
from ..text import match_key


@dataclass(frozen=True)
class Route:
    sender: str  # code of a department or district office
    cc: tuple[str, ...]


class RoutingError(UserError):
    """No sender covers this recipient; the message says what to add to the config (Vietnamese)."""


def find_district_office(config: Config, managing_office: str) -> DistrictOffice | None:
    key = match_key(managing_office)
    for office in config.district_offices.values():
        if key in (match_key(office.code), match_key(office.name), match_key(office.district)):
            return office
    return None


def route(config: Config, recipient: Recipient) -> Route:
    department = config.department_for(recipient.kind)
    if recipient.kind != "employers" or not recipient.managing_office:
        return Route(sender=department.code, cc=())
    office = find_district_office(config, recipient.managing_office)
    if office is None:
        known = ", ".join(o.name for o in config.district_offices.values()) or "(chưa khai báo)"
        raise RoutingError(
            f"Không có cơ quan gửi cho nơi quản lý '{recipient.managing_office}'. Cách sửa: ghi 'BHXH tỉnh' hoặc "
            f"tên một BHXH huyện đã khai báo trong config.toml [district_offices] ({known})."
        )
    if office.sends_to_own_employers:
        return Route(sender=office.code, cc=())
    return Route(sender=department.code, cc=(office.sender,) if office.cc_on_employer_letters else ())


def check_coverage(config: Config, recipients: RecipientList) -> RecipientList:
    """Reject the recipients no sender covers, so `validate` says so before `build` does."""
    kept, problems, rejected = [], list(recipients.problems), list(recipients.rejected_rows)
    for recipient in recipients.recipients:
        try:
            route(config, recipient)
        except RoutingError as error:
            problems.append(Problem(str(recipients.file), recipient.source_row, "Cơ quan quản lý", "error",
                                    "no_sender", str(error), recipient.managing_office))
            rejected.append(recipient.source_row)
        else:
            kept.append(recipient)
    return replace(recipients, recipients=tuple(kept), problems=tuple(problems), rejected_rows=tuple(sorted(rejected)))
