"""Vietnamese text and the data it is checked against: Unicode NFC, the legacy TCVN3 and VNI
encodings, diacritic- and tone-placement-insensitive keys, control characters, Khánh Hòa's
administrative units, and cells written to Excel files safely."""

from .adminunits import AdminUnits, Commune, load_admin_units
from .excel import append_row
from .fonts import LETTER_FONTS, font_key, is_letter_font
from .mailaddress import InvalidAddress, MailAddress, mail_address
from .numbers import (
    BUILTIN_FORMATS,
    excel_display,
    format_day,
    format_money,
    format_number,
    read_day,
    read_number,
)
from .vntext import (
    CONTROL_CHARACTERS,
    detect_legacy,
    fold_diacritics,
    match_key,
    show_controls,
    tcvn3_to_unicode,
    to_nfc,
    unicode_to_tcvn3,
    unicode_to_vni,
    vni_to_unicode,
)

__all__ = [
    "AdminUnits",
    "BUILTIN_FORMATS",
    "CONTROL_CHARACTERS",
    "Commune",
    "InvalidAddress",
    "LETTER_FONTS",
    "MailAddress",
    "append_row",
    "detect_legacy",
    "excel_display",
    "fold_diacritics",
    "font_key",
    "format_day",
    "format_money",
    "format_number",
    "is_letter_font",
    "load_admin_units",
    "mail_address",
    "match_key",
    "read_day",
    "read_number",
    "show_controls",
    "tcvn3_to_unicode",
    "to_nfc",
    "unicode_to_tcvn3",
    "unicode_to_vni",
    "vni_to_unicode",
]
