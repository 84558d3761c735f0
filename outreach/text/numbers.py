"""Numbers, amounts and dates written the Vietnamese way, and an Excel cell shown as its format says.

Vietnamese documents group thousands with a dot and write decimals after a comma (``1.234.567``,
``2,5``), amounts in đồng (``24.800.000 đồng``) and dates day first (``05/01/2023``). A list's cell
reaches a letter as text; :func:`excel_display` writes it the way Excel shows it (its number format:
decimals, grouping, percent, literal text), with those conventions, so ``#,##0`` keeps its grouping.
:func:`read_number` and :func:`read_day` read such text back, for the letters' formatting filters.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Excel's built-in formats (ECMA-376 Part 1, 18.8.30) that are not General; the date ones are read as
# dates (calamine returns them as such), so only the numeric ones are listed.
BUILTIN_FORMATS = {
    1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
    48: "##0.0E+0", 49: "@",
}
_NUMBER_RUN = re.compile(r"[#0?][#0?,. ]*")
# [Red], [>=100], [$-42A] and other bracketed parts change colour or condition, not the digits; a
# currency [$₫-42A] keeps its symbol.
_BRACKETS = re.compile(r"\[\$([^\]-]*)[^\]]*\]|\[[^\]]*\]")
_VN_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_VN_PLAIN = re.compile(r"^[+-]?\d+(?:,\d+)?$")
_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def format_number(value: int | float | Decimal, decimals: int | None = None, grouping: bool = True,
                  digits: int = 1) -> str:
    """``1234567`` → ``1.234.567``; ``2.5`` → ``2,5``; ``decimals`` rounds half up (None: as many as
    the value has, none for a whole number); ``digits``: at least that many, with leading zeros."""
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if decimals is None:
        decimals = 0 if number == number.to_integral_value() else max(0, -number.normalize().as_tuple().exponent)
    number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    whole, _, fraction = f"{abs(number):f}".partition(".")
    whole = whole.zfill(digits)
    if grouping:
        whole = ".".join(reversed([whole[max(0, end - 3):end] for end in range(len(whole), 0, -3)]))
    return sign + whole + ("," + fraction if fraction else "")


def format_money(value: int | float | Decimal) -> str:
    """``24800000`` → ``24.800.000 đồng``."""
    return f"{format_number(value)} đồng"


def format_day(value: dt.date) -> str:
    """``05/01/2023``; a time that is not midnight follows: ``05/01/2023 08:30``."""
    if isinstance(value, dt.datetime) and value.time() != dt.time():
        return f"{value:%d/%m/%Y %H:%M}"
    return f"{value:%d/%m/%Y}"


def read_number(value: object) -> Decimal:
    """A number, or its text as Vietnamese writes it (``24.800.000``, ``2,5``, ``24800000``, an amount
    followed by ``đồng``/``đ``). ValueError for anything else: ``1.5`` is not a Vietnamese number."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if not isinstance(value, str):
        raise ValueError(value)
    text = re.sub(r"\s*(đồng|đ|₫|VNĐ|VND)$", "", value.strip(), flags=re.IGNORECASE).replace(" ", "")
    if _VN_GROUPED.match(text):
        text = text.replace(".", "")
    elif not _VN_PLAIN.match(text):
        raise ValueError(value)
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(value) from None


def read_day(value: object) -> dt.date:
    """A date, or its text: ``05/01/2023`` (day first) or ``2023-01-05``."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = _DAY.match(text)
        try:
            if match:
                day, month, year = map(int, match.groups())
                return dt.date(year, month, day)
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    raise ValueError(value)


def excel_display(value: object, number_format: str = "General") -> str:
    """The cell's value as Excel shows it with ``number_format``, in Vietnamese conventions."""
    if isinstance(value, dt.date):
        return format_day(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    section = number_format.split(";")[0]
    if section.strip().lower() in ("", "general", "@"):
        return _general(value)
    section = _BRACKETS.sub(lambda m: m.group(1) or "", section)
    literal = re.sub(r'"([^"]*)"|\\(.)|[_*].', lambda m: m.group(1) or m.group(2) or "", section)
    match = _NUMBER_RUN.search(literal)
    if match is None or "E+" in section.upper():
        return _general(value)
    run = match.group().rstrip(" ")
    integer_part, _, fraction_part = run.partition(".")
    percent = "%" in literal
    scaled = Decimal(str(value)) * (100 if percent else 1)
    # A trailing comma after the digits divides by a thousand per comma (#,##0, shows thousands).
    thousands = len(integer_part) - len(integer_part.rstrip(","))
    scaled /= Decimal(1000) ** thousands
    shown = format_number(scaled, len(re.sub(r"[^0?#]", "", fraction_part)), grouping="," in integer_part.rstrip(","),
                          digits=max(1, integer_part.count("0")))
    return (literal[:match.start()] + shown + literal[match.start() + len(run):]).strip()


def _general(value: int | float) -> str:
    """Excel's General: no grouping, at most 10 significant digits after rounding."""
    return format_number(value if isinstance(value, int) else Decimal(f"{value:.10g}"), grouping=False)
