"""Who sends each recipient's copy (section 9 of the reference letter), as a pure function of config.

- Communes and collection-service organisations: the department that serves the audience (TTPT).
- Employers: by the collection-management hierarchy. Managed by the province office (empty
  managing office) → QLT. Managed by a district office → that office sends when the config says it
  sends to its own employers; otherwise QLT sends and copies the district office when configured.
- Voluntary-insurance participants: the department that serves them (TTPT), or their district
  office when the config says it sends to its own participants. Never a copy: the letter is personal.
  They pay into their district office's account when it has one, else into the province's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ..config import BankAccount, Config, DistrictOffice
from ..errors import UserError
from .columns import FIELD_LABELS
from .participants import payment_problems
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


def _managing_office(config: Config, recipient: Recipient) -> DistrictOffice | None:
    """The district office named by the recipient's row; None for the province office."""
    if not recipient.managing_office:
        return None
    office = find_district_office(config, recipient.managing_office)
    if office is None:
        known = ", ".join(o.name for o in config.district_offices.values()) or "(chưa khai báo)"
        raise RoutingError(
            f"Không có cơ quan gửi cho nơi quản lý '{recipient.managing_office}'. Cách sửa: ghi 'BHXH tỉnh' hoặc "
            f"tên một BHXH huyện đã khai báo trong config.toml [district_offices] ({known})."
        )
    return office


def route(config: Config, recipient: Recipient) -> Route:
    department = config.department_for(recipient.kind)
    if recipient.kind not in ("employers", "participants"):
        return Route(sender=department.code, cc=())
    office = _managing_office(config, recipient)
    if office is None:
        return Route(sender=department.code, cc=())
    if recipient.kind == "participants":
        return Route(sender=office.code if office.sends_to_own_participants else department.code, cc=())
    if office.sends_to_own_employers:
        return Route(sender=office.code, cc=())
    return Route(sender=department.code, cc=(office.sender,) if office.cc_on_employer_letters else ())


def payment_account(config: Config, recipient: Recipient) -> BankAccount:
    """The account a participant pays into: their district office's, else the province's."""
    if config.voluntary is None:
        raise RoutingError("config.toml chưa có [voluntary]. Cách sửa: thêm tham số BHXH tự nguyện và tài khoản "
                           "nhận tiền (xem config.toml mẫu).")
    office = _managing_office(config, recipient)
    return office.account if office is not None and office.account is not None else config.voluntary.account


def check_coverage(config: Config, recipients: RecipientList, today: dt.date | None = None) -> RecipientList:
    """Reject the recipients config cannot serve, so `validate` says so before `build` does: no sender
    covers them, or (participants) the law in force on ``today`` gives no amount for their row."""
    kept, problems, rejected = [], list(recipients.problems), list(recipients.rejected_rows)
    for recipient in recipients.recipients:
        try:
            route(config, recipient)
        except RoutingError as error:
            problems.append(Problem(str(recipients.file), recipient.source_row, "Cơ quan quản lý", "error",
                                    "no_sender", str(error), recipient.managing_office))
            rejected.append(recipient.source_row)
            continue
        found = (payment_problems(config.voluntary, recipient, today or dt.date.today())
                 if recipient.participation is not None and config.voluntary is not None else [])
        problems.extend(Problem(str(recipients.file), recipient.source_row, FIELD_LABELS.get(p.column, ""), p.severity,
                                p.code, p.message) for p in found)
        if any(p.severity == "error" for p in found):
            rejected.append(recipient.source_row)
        else:
            kept.append(recipient)
    return replace(recipients, recipients=tuple(kept), problems=tuple(problems), rejected_rows=tuple(sorted(rejected)))
