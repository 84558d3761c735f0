"""Values as the workbooks staff open must hold them: text stays text, whatever its first character."""

from __future__ import annotations

from typing import Any, Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

# The first characters that make a spreadsheet evaluate what follows (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(text: str) -> str:
    """Control characters a workbook cannot hold, written as their visible symbols (BEL → ␇)."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda match: chr(0x2400 + ord(match.group())), text)


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append`` for values read from users' files, servers and ledgers."""
    sheet.append([_cell(sheet, value) if isinstance(value, str) else value for value in values])


def _cell(sheet: Any, value: str) -> str | Cell:
    text = cell_text(value)
    if not text.startswith(FORMULA_START):
        return text
    # What Excel stores for text typed after an apostrophe: a string, still a string once edited.
    cell = Cell(sheet, value=text)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
