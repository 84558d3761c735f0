"""Values as the workbooks staff open must hold them: text stays text, whatever its first character,
and a control character is shown, not refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from .vntext import show_controls

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

# The first characters that make a spreadsheet evaluate what follows (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append`` for values read from users' files, servers and ledgers."""
    sheet.append([_cell(sheet, value) if isinstance(value, str) else value for value in values])


def _cell(sheet: Any, value: str) -> str | Cell:
    text = show_controls(value)  # openpyxl refuses C0 controls, and a reader should see them
    if not text.startswith(FORMULA_START):
        return text
    from openpyxl.cell.cell import Cell  # only what writes a workbook pays for openpyxl (~60 MB, 0.1 s)

    # What Excel stores for text typed after an apostrophe: a string, still a string once edited.
    cell = Cell(sheet, value=text)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
