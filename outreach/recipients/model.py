"""Typed records that leave the recipients stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Mapping

from ..config import COPIES
from ..payment import Month

Severity = Literal["error", "warning", "converted"]


@dataclass(frozen=True)
class Participation:
    """A voluntary-insurance participant's row: what the renewal letter is computed from."""

    mode_months: int  # months paid at once (phương thức đóng)
    income: int  # đồng a month (mức thu nhập làm căn cứ đóng)
    paid_until: Month  # the last month already paid (đóng đến tháng)
    support_groups: tuple[str, ...] = ()  # sensitive (ethnicity, poverty): used for the amount, never printed
    months_supported_before: int = 0  # months of State support already received
    collector: str = ""  # the collection-service organisation that serves the person
    commune: str = ""  # the commune's official name, when the list names one
    insurance_code: str = ""  # mã số BHXH, 10 digits
    personal_id: str = ""  # số định danh cá nhân, 12 digits


@dataclass(frozen=True)
class Recipient:
    kind: str  # employers | collection_agents | communes | participants (also the audience name) | noi_nhan
    code: str
    name: str
    emails: tuple[str, ...] = ()
    address: str = ""
    district: str = ""  # optional: districts were abolished in 2025
    commune_code: str = ""
    tax_code: str = ""
    phone: str = ""  # E.164, or "" when absent
    managing_office: str = ""  # employers: "" means the province office
    contact: str = ""
    source_file: str = ""
    source_row: int = 0  # the row number Excel shows
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    participation: Participation | None = None  # participants only

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.code}"

    @property
    def salutation(self) -> str:
        """The addressee as written after ``Kính gửi:``."""
        if self.kind == "communes":
            return f"Ủy ban nhân dân {self.name}"
        if self.kind == "participants":
            return f"Ông/Bà {self.name}"
        if self.kind == COPIES:  # a Nơi nhận body, or the original letter whose name is its Kính gửi line
            return self.name
        return f"{self.name} (mã đơn vị {self.code})"

    @property
    def masked_code(self) -> str:
        """The code as it may appear outside the letter (e-mail bodies, envelope labels). A person's ID
        keeps its last four digits only: a personal ID's first six encode province, sex and birth year."""
        if self.kind != "participants":
            return self.code
        return "*" * (len(self.code) - 4) + self.code[-4:]


@dataclass(frozen=True)
class Problem:
    file: str
    row: int  # as Excel shows it; 0 for a whole-file problem
    column: str  # the header as written in the file, or "" for a whole row/file
    severity: Severity
    code: str  # stable machine code, e.g. "email_invalid"
    message: str  # Vietnamese: what is wrong and how to fix it
    value: str = ""
    fix: str = ""


@dataclass(frozen=True)
class RecipientList:
    file: Path
    kind: str
    recipients: tuple[Recipient, ...]
    rejected_rows: tuple[int, ...]
    problems: tuple[Problem, ...]
    rows: int  # data rows read

    @property
    def converted(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "converted")
