"""Values as the workbooks staff open must hold them: an openpyxl cell refuses control characters."""

from __future__ import annotations

from typing import Any, Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def cell_text(text: str) -> str:
    """Control characters a workbook cannot hold, written as their visible symbols (BEL → ␇)."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda match: chr(0x2400 + ord(match.group())), text)


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append`` for values read from users' files, servers and ledgers."""
    sheet.append([cell_text(value) if isinstance(value, str) else value for value in values])
