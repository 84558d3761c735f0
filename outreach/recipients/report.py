"""The validation report staff read: a terminal table, an XLSX workbook and a JSON object."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..text import append_row
from .model import Problem, RecipientList

SEVERITY_LABELS = {"error": "Lỗi (loại dòng)", "warning": "Cảnh báo", "converted": "Đã chuyển đổi"}
REPORT_HEADERS = ("Tệp", "Dòng", "Cột", "Giá trị", "Mức độ", "Vấn đề", "Cách sửa")


@dataclass(frozen=True)
class ValidationSummary:
    lists: tuple[RecipientList, ...]

    @property
    def problems(self) -> list[Problem]:
        return [p for lst in self.lists for p in lst.problems]

    @property
    def rows(self) -> int:
        return sum(lst.rows for lst in self.lists)

    @property
    def valid(self) -> int:
        return sum(len(lst.recipients) for lst in self.lists)

    @property
    def rejected(self) -> int:
        return sum(len(lst.rejected_rows) for lst in self.lists)

    def count(self, severity: str) -> int:
        return sum(1 for p in self.problems if p.severity == severity)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [str(lst.file) for lst in self.lists],
            "rows": self.rows,
            "valid": self.valid,
            "rejected": self.rejected,
            "warnings": self.count("warning"),
            "converted": self.count("converted"),
            "problems": [
                {"file": p.file, "row": p.row, "column": p.column, "severity": p.severity, "code": p.code,
                 "message": p.message, "value": p.value}
                for p in self.problems
            ],
        }


def _problem_message(problem: Problem) -> str:
    """The message without its trailing fix, which has a column of its own in tables."""
    suffix = f" Cách sửa: {problem.fix}"
    return problem.message[: -len(suffix)] if problem.fix and problem.message.endswith(suffix) else problem.message


def format_terminal(summary: ValidationSummary, width: int | None = None) -> str:
    width = width or shutil.get_terminal_size((110, 20)).columns
    lines = []
    for lst in summary.lists:
        lines.append(f"{lst.file}: {lst.rows} dòng dữ liệu, {len(lst.recipients)} hợp lệ, "
                     f"{len(lst.rejected_rows)} bị loại.")
        for p in lst.problems:
            where = (f"  dòng {p.row}" if p.row else "  toàn tệp") + (f", cột «{p.column}»" if p.column else "")
            value = f" giá trị «{p.value}»" if p.value else ""
            head = f"{where}{value} — {SEVERITY_LABELS[p.severity]}: "
            body = textwrap.fill(_problem_message(p) + (f" → {p.fix}" if p.fix else ""), width=max(width, 60),
                                 initial_indent=head, subsequent_indent="      ")
            lines.append(body)
    lines.append(
        f"Tổng: {summary.rows} dòng, {summary.valid} hợp lệ, {summary.rejected} bị loại, "
        f"{summary.count('warning')} cảnh báo, {summary.count('converted')} ô đã chuyển đổi."
    )
    return "\n".join(lines)


def write_xlsx(summary: ValidationSummary, path: Path) -> None:
    """Two sheets: every problem, and the converted cells on their own."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    problems_sheet = workbook.active
    problems_sheet.title = "Kết quả kiểm tra"
    converted_sheet = workbook.create_sheet("Ô đã chuyển đổi")
    for sheet, items in ((problems_sheet, summary.problems),
                         (converted_sheet, [p for p in summary.problems if p.severity == "converted"])):
        _fill_sheet(sheet, items, Font(bold=True), Alignment(wrap_text=True, vertical="top"))
    summary_sheet = workbook.create_sheet("Tổng hợp", 0)
    summary_sheet.append(["Tệp", "Dòng dữ liệu", "Hợp lệ", "Bị loại"])
    for lst in summary.lists:
        append_row(summary_sheet, [str(lst.file), lst.rows, len(lst.recipients), len(lst.rejected_rows)])
    summary_sheet.column_dimensions["A"].width = 60
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def _fill_sheet(sheet: Any, problems: Sequence[Problem], bold: Any, wrap: Any) -> None:
    sheet.append(REPORT_HEADERS)
    for cell in sheet[1]:
        cell.font = bold
    for p in problems:
        append_row(sheet, [p.file, p.row, p.column, p.value, SEVERITY_LABELS[p.severity], _problem_message(p), p.fix])
    for letter, width in zip("ABCDEFG", (40, 7, 22, 30, 16, 60, 45)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    sheet.freeze_panes = "A2"
