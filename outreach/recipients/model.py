"""Typed records that leave the recipients stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Mapping

Severity = Literal["error", "warning", "converted"]


@dataclass(frozen=True)
class Recipient:
    kind: str  # employers | collection_agents | communes (also the audience name)
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

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.code}"

    @property
    def salutation(self) -> str:
        """The addressee as written after ``Kính gửi:``."""
        if self.kind == "communes":
            return f"Ủy ban nhân dân {self.name}"
        return f"{self.name} (mã đơn vị {self.code})"


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
