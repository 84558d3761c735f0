"""Who sends each recipient's copy (section 9 of the reference letter), as a pure function of config.

A district office sends to the audiences of its ``sends_to`` within its area; everyone else is sent
by the province department that serves the audience.

- Communes and collection-service organisations: by where they are. The office whose district the
  recipient is in (the list's district column, else its commune's district in the shipped 2022
  administrative data) sends when ``communes`` / ``collection_agents`` is in its ``sends_to``;
  otherwise the department (TTPT). Two offices claiming one recipient is a routing error.
- Employers: by the collection-management hierarchy (phân cấp quản lý thu), never by address.
  Managed by the province office (empty managing office) → QLT. Managed by a district office → that
  office sends when ``employers`` is in its ``sends_to`` (``sends_to_own_employers``); otherwise QLT
  sends and copies the district office when configured.
- Voluntary-insurance participants: the department that serves them (TTPT), or their district
  office when ``participants`` is in its ``sends_to`` (``sends_to_own_participants``). Never a copy:
  the letter is personal. They pay into their district office's account when it has one, else into
  the province's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ..config import LOCATED_AUDIENCES, MANAGED_AUDIENCES, BankAccount, Config, Department, DistrictOffice
from ..errors import UserError
from .columns import FIELD_LABELS
from .participants import payment_problems
from .validate import make_problem
from .model import Problem, Recipient, RecipientList
from ..text import load_admin_units, match_key


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


def recipient_district(recipient: Recipient) -> str:
    """The official name of the district the recipient is in: the list's column, else its commune's
    in the 2022 data; "" when neither says (districts were abolished in 2025)."""
    units = load_admin_units()
    if recipient.district:
        return units.find_district(recipient.district) or recipient.district
    commune = units.commune_by_code(recipient.commune_code) if recipient.commune_code else None
    return (commune.district or "") if commune is not None else ""


def located_offices(config: Config, recipient: Recipient) -> list[DistrictOffice]:
    """The district offices that send to this commune or collection organisation: those whose
    district it is in and whose sends_to has its audience."""
    district = recipient_district(recipient)
    if recipient.kind not in LOCATED_AUDIENCES or not district:
        return []
    units = load_admin_units()
    return [office for office in config.district_offices.values() if recipient.kind in office.sends_to
            and match_key(units.find_district(office.district) or office.district) == match_key(district)]


def _department(config: Config, recipient: Recipient) -> Department:
    try:
        return config.department_for(recipient.kind)
    except UserError:
        where = (f"trên địa bàn '{recipient_district(recipient) or 'không rõ huyện'}'" if recipient.kind in LOCATED_AUDIENCES
                 else f"do '{recipient.managing_office or 'BHXH tỉnh'}' quản lý")
        raise RoutingError(
            f"Không có cơ quan gửi cho {recipient.name}: không phòng nào gửi cho nhóm '{recipient.kind}' và không BHXH "
            f"huyện nào nhận gửi cho nhóm này {where}. Cách sửa: thêm '{recipient.kind}' vào audiences của một phòng "
            "trong [departments], hoặc vào sends_to của BHXH huyện phụ trách (và ghi cột Huyện/Thị xã/Thành phố hoặc "
            "Cơ quan quản lý nếu danh sách chưa có)."
        ) from None


def route(config: Config, recipient: Recipient) -> Route:
    if recipient.kind in LOCATED_AUDIENCES:
        offices = located_offices(config, recipient)
        if len(offices) > 1:
            raise RoutingError(
                f"{recipient.name} ({recipient_district(recipient)}) được {len(offices)} cơ quan cùng nhận gửi: "
                f"{', '.join(f'{o.name} [district_offices.{o.code}]' for o in offices)}. Cách sửa: trong config.toml "
                f"chỉ để '{recipient.kind}' trong sends_to của một BHXH huyện có district này."
            )
        return Route(sender=offices[0].code if offices else _department(config, recipient).code, cc=())
    if recipient.kind not in MANAGED_AUDIENCES:
        return Route(sender=_department(config, recipient).code, cc=())
    office = _managing_office(config, recipient)
    if office is not None and recipient.kind in office.sends_to:
        return Route(sender=office.code, cc=())
    department = _department(config, recipient)
    if office is None or recipient.kind == "participants":
        return Route(sender=department.code, cc=())
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
        located = recipient.kind in LOCATED_AUDIENCES
        column = FIELD_LABELS["district"] if located else "Cơ quan quản lý"
        try:
            sender = route(config, recipient).sender
        except RoutingError as error:
            problems.append(Problem(str(recipients.file), recipient.source_row, column, "error", "no_sender", str(error),
                                    recipient.district if located else recipient.managing_office))
            rejected.append(recipient.source_row)
            continue
        if located and not recipient_district(recipient) and any(
                recipient.kind in office.sends_to for office in config.district_offices.values()):
            problems.append(make_problem(
                str(recipients.file), recipient.source_row, column, "warning", "district_unknown_sender",
                f"Không biết {recipient.name} thuộc huyện nào nên {config.senders()[sender].name} gửi, không phải BHXH "
                "huyện.", "", "điền cột Huyện/Thị xã/Thành phố (hoặc mã xã đúng danh mục) để BHXH huyện trên địa bàn gửi."))
        found = (payment_problems(config.voluntary, recipient, today or dt.date.today())
                 if recipient.participation is not None and config.voluntary is not None else [])
        problems.extend(Problem(str(recipients.file), recipient.source_row, FIELD_LABELS.get(p.column, ""), p.severity,
                                p.code, p.message) for p in found)
        if any(p.severity == "error" for p in found):
            rejected.append(recipient.source_row)
        else:
            kept.append(recipient)
    return replace(recipients, recipients=tuple(kept), problems=tuple(problems), rejected_rows=tuple(sorted(rejected)))
