"""Vietnamese text utilities: NFC clean-up, legacy 8-bit encodings, name matching.

Pure functions, standard library only.

Legacy encodings. Office files made with the old 8-bit fonts store one byte per glyph;
Excel and Word hand those bytes back as the Latin-1 characters with the same code
(cp1252 characters for 0x80-0x9F). Both legacy tables below use only 0xA1-0xFE, so the
0x80-0x9F range never needs converting: the cp1252 characters Word puts there
(curly quotes, dashes) pass through unchanged.

- TCVN3 (ABC, fonts ``.VnTime``/``.VnTimeH``): one code per letter. It has no codes for
  capitals with a tone; ``.VnTimeH`` fonts draw the lowercase codes as capitals.
- VNI-Windows (fonts ``VNI-*``): a base letter followed by a mark character, with a
  few letters as single characters.

Tone placement. ``Hòa`` and ``Hoà`` are both in use and stay different after NFC.
The office writes the tone of an open ``oa``/``oe``/``uy`` syllable on the first vowel
(``Hòa``, ``Khỏe``, ``Thủy``, ``Ủy``), as the 2022 administrative-unit data does;
:func:`normalise_tone_placement` rewrites text into that style and :func:`match_key`
ignores placement altogether.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LegacyEncoding",
    "detect_legacy",
    "fold_diacritics",
    "match_key",
    "normalise_tone_placement",
    "show_controls",
    "tcvn3_to_unicode",
    "to_nfc",
    "unicode_to_tcvn3",
    "unicode_to_vni",
    "vni_to_unicode",
]

LegacyEncoding = Literal["tcvn3", "vni"]

_GRAVE, _HOOK, _TILDE, _ACUTE, _DOT = "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"
_TONES = (_GRAVE, _HOOK, _TILDE, _ACUTE, _DOT)
_TONE_SET = frozenset(_TONES)
_BASE_VOWELS = "aăâeêioôơuưy"


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _toned(letter: str, tone: str) -> str:
    return _nfc(letter + tone)


# --------------------------------------------------------------------------- NFC, folding


def to_nfc(s: str) -> str:
    """NFC-normalise, strip, and collapse every whitespace run (NBSP included) to one space."""
    return " ".join(_nfc(s).split())


# C0 controls but tab, line feed and carriage return; DEL; C1 (U+009B is a terminal's CSI, as ESC [ is).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def show_controls(s: str) -> str:
    """Control characters as visible symbols, so that a terminal or a workbook shows them and runs none:
    BEL → ``␇``, ESC → ``␛``, DEL → ``␡``, a C1 control → ``⟨U+009B⟩``."""
    def visible(match: re.Match[str]) -> str:
        code = ord(match.group())
        return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else f"⟨U+{code:04X}⟩"
    return CONTROL_CHARACTERS.sub(visible, s)


def fold_diacritics(s: str) -> str:
    """Lower-case form without diacritics, for headers: ``Tên đơn vị`` -> ``ten don vi``."""
    # đ has no decomposition, so NFD alone would keep it.
    decomposed = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


# --------------------------------------------------------------------------- TCVN3

# Codes of the toned lowercase vowels, tones in the order of _TONES (grave, hook, tilde,
# acute, dot below), as laid out in TCVN 5712:1993 (VN3).
_TCVN3_TONED_CODES: dict[str, tuple[int, int, int, int, int]] = {
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TCVN3_TONELESS_CODES: dict[str, int] = {
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
}  # fmt: skip


def _tcvn3_own_codes() -> dict[str, str]:
    """Letters that have a code of their own (everything except toned capitals)."""
    table = {letter: chr(code) for letter, code in _TCVN3_TONELESS_CODES.items()}
    for vowel, codes in _TCVN3_TONED_CODES.items():
        for tone, code in zip(_TONES, codes, strict=True):
            table[_toned(vowel, tone)] = chr(code)
    return table


def _tcvn3_toned_capitals(own: dict[str, str]) -> dict[str, str]:
    return {
        _toned(vowel, tone).upper(): own[_toned(vowel, tone)]
        for vowel in _TCVN3_TONED_CODES
        for tone in _TONES
    }


_TCVN3_OWN = _tcvn3_own_codes()
_ENCODE_TCVN3 = str.maketrans({**_TCVN3_OWN, **_tcvn3_toned_capitals(_TCVN3_OWN)})
_DECODE_TCVN3 = str.maketrans({code: letter for letter, code in _TCVN3_OWN.items()})


def tcvn3_to_unicode(s: str, uppercase: bool = False) -> str:
    """Convert TCVN3 (ABC) text read as Latin-1 characters to Unicode NFC.

    ``Kh¸nh Hßa`` -> ``Khánh Hòa``. Pass ``uppercase=True`` for text in a ``.VnTimeH``-style
    capitals font (name ending in ``H``): such text uses the lowercase codes and is shown
    in capitals, so the result is upper-cased. ư is U+00AD (soft hyphen); a reader that
    drops soft hyphens loses it beyond repair.
    """
    converted = s.translate(_DECODE_TCVN3)
    return converted.upper() if uppercase else converted


def unicode_to_tcvn3(s: str) -> str:
    """Convert Unicode text to TCVN3 as Latin-1 characters.

    TCVN3 has no codes for capitals with a tone, so those become the lowercase code
    (``Hòa`` -> ``Hßa`` and ``HÒA`` -> ``HßA``): the conversion loses their case.
    """
    return _nfc(s).translate(_ENCODE_TCVN3)


# --------------------------------------------------------------------------- VNI

# VNI writes a vowel as a base character plus one mark character. Vowels with a
# circumflex or breve fold that mark and the tone into a single mark character.
_VNI_TONE_MARK = {"": "", _GRAVE: "ø", _HOOK: "û", _TILDE: "õ", _ACUTE: "ù", _DOT: "ï"}
_VNI_CIRCUMFLEX_MARK = {"": "â", _GRAVE: "à", _HOOK: "å", _TILDE: "ã", _ACUTE: "á", _DOT: "ä"}
_VNI_BREVE_MARK = {"": "ê", _GRAVE: "è", _HOOK: "ú", _TILDE: "ü", _ACUTE: "é", _DOT: "ë"}
# i with a tone is always one character; ỵ is the one y that is.
_VNI_I = {"": "i", _GRAVE: "ì", _HOOK: "æ", _TILDE: "ó", _ACUTE: "í", _DOT: "ò"}
_VNI_Y_DOT = "î"
_VNI_BASE = {"a": "a", "e": "e", "o": "o", "u": "u", "y": "y", "ơ": "ô", "ư": "ö"}
_VNI_CIRCUMFLEX_BASE = {"â": "a", "ê": "e", "ô": "o"}


def _vni_lowercase(vowel: str, tone: str) -> str:
    if vowel == "i":
        return _VNI_I[tone]
    if vowel == "y" and tone == _DOT:
        return _VNI_Y_DOT
    if vowel in _VNI_CIRCUMFLEX_BASE:
        return _VNI_CIRCUMFLEX_BASE[vowel] + _VNI_CIRCUMFLEX_MARK[tone]
    if vowel == "ă":
        return "a" + _VNI_BREVE_MARK[tone]
    return _VNI_BASE[vowel] + _VNI_TONE_MARK[tone]


def _vni_codes() -> dict[str, str]:
    """Every Vietnamese letter outside ASCII, both cases; VNI capitals use capital marks."""
    table = {"đ": "ñ", "Đ": "Ñ"}
    for vowel in _BASE_VOWELS:
        for tone in ("", *_TONES):
            letter, code = _toned(vowel, tone), _vni_lowercase(vowel, tone)
            if not letter.isascii():
                table[letter] = code
                table[letter.upper()] = code.upper()
    return table


_VNI_OWN = _vni_codes()
_ENCODE_VNI = str.maketrans(_VNI_OWN)
_VNI_TO_LETTER = {code: letter for letter, code in _VNI_OWN.items()}
# Longest sequences first, so "oâ" (ô) wins over "o" and "ôù" (ớ) over "ô" (ơ).
_VNI_SEQUENCE = re.compile(
    "|".join(re.escape(code) for code in sorted(_VNI_TO_LETTER, key=len, reverse=True))
)


def vni_to_unicode(s: str) -> str:
    """Convert VNI-Windows text read as Latin-1 characters to NFC (``Vieät`` -> ``Việt``)."""
    return _VNI_SEQUENCE.sub(lambda m: _VNI_TO_LETTER[m.group()], s)


def unicode_to_vni(s: str) -> str:
    """Convert Unicode text to VNI-Windows as Latin-1 characters (``Việt`` -> ``Vieät``)."""
    return _nfc(s).translate(_ENCODE_VNI)


# --------------------------------------------------------------------------- syllables

_INITIALS = (
    "ngh", "ng", "gh", "gi", "kh", "nh", "ph", "th", "tr", "ch", "qu",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)  # fmt: skip
_FINALS = ("ch", "ng", "nh", "c", "m", "n", "p", "t", "")
_STOP_FINALS = frozenset({"c", "ch", "p", "t"})
_PALATAL_FINALS = frozenset({"ch", "nh"})
_PALATAL_NUCLEI = frozenset({"a", "ê", "i", "y", "oa", "uê", "uy"})

_OPEN, _CLOSED, _EITHER = "open", "closed", "either"
_NUCLEI: dict[str, str] = {
    **dict.fromkeys(
        ("a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uê", "uy"), _EITHER
    ),
    **dict.fromkeys(("ă", "â", "iê", "yê", "uô", "ươ", "oă", "uâ", "uyê", "oo"), _CLOSED),
    **dict.fromkeys(
        ("ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua",
         "ưa", "ui", "ưi", "ưu", "ươi", "ươu", "iêu", "yêu", "oai", "oay", "oao", "oeo",
         "uây", "uôi", "uya", "uyu", "uơ"),
        _OPEN,
    ),
}  # fmt: skip
_MARKED_VOWELS = frozenset("ăâêôơư")
# Open syllables whose tone the office writes on the first vowel; the "new style" puts it
# on the second (Hoà, Khoẻ, Thuý).
_TWO_STYLE_NUCLEI = frozenset({"oa", "oe", "uy"})


@dataclass(frozen=True)
class _Syllable:
    letters: tuple[str, ...]  # NFC letters without the tone, original case
    tone: str  # combining tone mark, or "" for level tone
    tone_at: int  # index into letters of the letter carrying the tone, -1 if none
    initial: str
    nucleus: str
    final: str


def _split_tone(word: str) -> tuple[list[str], str, int] | None:
    """Letters of ``word`` without tone and the single tone mark; None if it has two."""
    clusters: list[str] = []
    tone, tone_at = "", -1
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONE_SET and clusters:
            if tone:
                return None
            tone, tone_at = ch, len(clusters) - 1
        elif unicodedata.combining(ch) and clusters:
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return [_nfc(cluster) for cluster in clusters], tone, tone_at


def _nucleus_fits(nucleus: str, final: str) -> bool:
    kind = _NUCLEI.get(nucleus)
    if kind is None:
        return False
    if not final:
        return kind != _CLOSED
    return kind != _OPEN and (final not in _PALATAL_FINALS or nucleus in _PALATAL_NUCLEI)


def _parts(base: str) -> tuple[str, str, str] | None:
    """(initial, nucleus, final) of a lowercase toneless syllable, longest initial first."""
    for initial in _INITIALS:
        if not base.startswith(initial):
            continue
        rest = base[len(initial) :]
        for final in _FINALS:
            nucleus = rest[: len(rest) - len(final)]
            if rest.endswith(final) and _nucleus_fits(nucleus, final):
                return initial, nucleus, final
    return None


def _analyse(word: str) -> _Syllable | None:
    split = _split_tone(word)
    if split is None:
        return None
    letters, tone, tone_at = split
    base = "".join(letters).lower()
    # Every Vietnamese letter is one precomposed character; anything else is foreign.
    if len(base) != len(letters):
        return None
    parts = _parts(base)
    if parts is None:
        return None
    return _Syllable(tuple(letters), tone, tone_at, *parts)


def _office_tone_slot(nucleus: str, closed: bool) -> int:
    """Index in the nucleus where the office writes the tone."""
    marked = [i for i, vowel in enumerate(nucleus) if vowel in _MARKED_VOWELS]
    if marked:
        return marked[-1]  # ươ carries it on ơ
    if closed:
        return len(nucleus) - 1
    return 1 if len(nucleus) == 3 else 0


def _accepted_tone_slots(nucleus: str, closed: bool) -> set[int]:
    slots = {_office_tone_slot(nucleus, closed)}
    if not closed and nucleus in _TWO_STYLE_NUCLEI:
        slots.add(1)
    return slots


def _is_vietnamese_syllable(word: str) -> bool:
    """True if ``word`` is spelt like a Vietnamese syllable, in either tone-placement style."""
    syllable = _analyse(word)
    if syllable is None:
        return False
    if not syllable.tone:
        return True
    if syllable.final in _STOP_FINALS and syllable.tone not in (_ACUTE, _DOT):
        return False
    slot = syllable.tone_at - len(syllable.initial)
    return slot in _accepted_tone_slots(syllable.nucleus, bool(syllable.final))


# --------------------------------------------------------------------------- tone placement

# Letters plus combining marks: a tone typed on a letter it cannot compose with stays a
# separate mark even in NFC, and must still count as part of its word.
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")


def _retone_office_style(word: str) -> str:
    syllable = _analyse(word)
    if syllable is None or not syllable.tone:
        return word
    letters = list(syllable.letters)
    slot = len(syllable.initial) + _office_tone_slot(syllable.nucleus, bool(syllable.final))
    letters[slot] = _nfc(letters[slot] + syllable.tone)
    return "".join(letters)


def normalise_tone_placement(s: str) -> str:
    """Rewrite tone placement into the office style of the 2022 administrative data.

    Open ``oa``/``oe``/``uy`` syllables carry the tone on the first vowel (``Hoà`` ->
    ``Hòa``, ``Thuý`` -> ``Thúy``, ``Khoẻ`` -> ``Khỏe``); every other syllable gets the
    standard position (``Toàn``, ``Quý``, ``Nguyễn``, ``người``). Words that are not
    Vietnamese syllables are left alone. Returns NFC. For display text only: compare
    names with :func:`match_key` instead.
    """
    return _WORD.sub(lambda m: _retone_office_style(m.group()), _nfc(s))


def _tone_to_end(word: str) -> str:
    tones = "".join(ch for ch in word if ch in _TONE_SET)
    return "".join(ch for ch in word if ch not in _TONE_SET) + tones


def match_key(s: str) -> str:
    """Key for comparing names regardless of case, NFC/NFD, spacing and tone placement.

    ``Hoà``, ``Hòa`` and ``HÒA`` share a key; ``Hoa``, ``Hóa`` and ``Hài`` do not. Each
    syllable's tone mark is moved to the end of the syllable, so only its placement is
    forgotten, never the tone or the letters.
    """
    decomposed = " ".join(unicodedata.normalize("NFD", s).split())
    return _WORD.sub(lambda m: _tone_to_end(m.group()), decomposed).casefold()


# --------------------------------------------------------------------------- detection

_LEGACY_DECODERS: dict[LegacyEncoding, Callable[[str], str]] = {
    "tcvn3": tcvn3_to_unicode,
    "vni": vni_to_unicode,
}


def _legacy_word_pattern(code_chars: Iterable[str]) -> re.Pattern[str]:
    # TCVN3 codes include non-letters (« ¸ ¬ soft hyphen): they belong inside words.
    extra = re.escape("".join(sorted(set(code_chars))))
    return re.compile(rf"(?:[^\W\d_]|[{extra}])+")


_LEGACY_WORD: dict[LegacyEncoding, re.Pattern[str]] = {
    "tcvn3": _legacy_word_pattern(_TCVN3_OWN.values()),
    "vni": _legacy_word_pattern("".join(_VNI_OWN.values())),
}
_CP1252_EXTRAS = frozenset(bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore"))
# Fewer converted words than this is not enough to rewrite a column.
_MIN_EVIDENCE_WORDS = 2


def _fits_byte_font(text: str) -> bool:
    """Whether an 8-bit font cell read as Latin-1/cp1252 could have produced ``text``."""
    return all(ord(ch) < 0x100 or ch in _CP1252_EXTRAS for ch in text)


def _encoding_from_font(font_name: str | None) -> LegacyEncoding | None:
    name = (font_name or "").strip().casefold()
    if name.startswith(".vn"):
        return "tcvn3"
    if name.startswith("vni-"):
        return "vni"
    return None


def _column_reads_as(cells: list[str], encoding: LegacyEncoding) -> bool:
    """Every converted word is Vietnamese, and enough of them were not Vietnamese before."""
    decode, word = _LEGACY_DECODERS[encoding], _LEGACY_WORD[encoding]
    evidence = neutral = 0
    for cell in cells:
        for original in word.findall(cell):
            converted = decode(original)
            if converted.isascii():
                continue
            if not _is_vietnamese_syllable(converted):
                return False
            if _is_vietnamese_syllable(original):
                neutral += 1
            else:
                evidence += 1
    return evidence >= _MIN_EVIDENCE_WORDS and evidence >= neutral


def detect_legacy(
    texts: Iterable[str], font_name: str | None = None
) -> LegacyEncoding | None:
    """Which legacy encoding a column of cells is in, or None when not sure.

    A character an 8-bit font cannot produce (ư, ạ, a combining mark ...) means the
    column is Unicode: None, whatever the font. Otherwise a ``.Vn*`` font means TCVN3
    and a ``VNI-*`` font VNI. Without a telling font, an encoding is chosen only if
    converting the column turns every non-ASCII word into a Vietnamese syllable, at
    least two words were not Vietnamese before conversion, and those outnumber the
    words that read as Vietnamese either way; if both encodings qualify, None.
    """
    cells = [text for text in texts if text.strip()]
    if not all(_fits_byte_font(cell) for cell in cells):
        return None
    by_font = _encoding_from_font(font_name)
    if by_font is not None:
        return by_font
    matches = [enc for enc in _LEGACY_DECODERS if _column_reads_as(cells, enc)]
    return matches[0] if len(matches) == 1 else None
