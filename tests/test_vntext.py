"""Tests for outreach.text.vntext: legacy encodings, detection, normalisation, name keys."""

from __future__ import annotations

import shutil
import string
import subprocess
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.text.vntext import (
    detect_legacy,
    fold_diacritics,
    match_key,
    normalise_tone_placement,
    tcvn3_to_unicode,
    to_nfc,
    unicode_to_tcvn3,
    unicode_to_vni,
    vni_to_unicode,
)

# The letter set is built from Unicode itself, independently of the module's tables.
TONE_MARKS = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # huyền hỏi ngã sắc nặng
BASE_VOWELS = "aăâeêioôơuưy"


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


LOWER_LETTERS = [nfc(v + t) for v in BASE_VOWELS for t in ("", *TONE_MARKS)] + ["đ"]
UPPER_LETTERS = [letter.upper() for letter in LOWER_LETTERS]
ALL_LETTERS = LOWER_LETTERS + UPPER_LETTERS
NON_ASCII_LETTERS = [letter for letter in ALL_LETTERS if not letter.isascii()]
TONED_CAPITALS = [nfc(v + t).upper() for v in BASE_VOWELS for t in TONE_MARKS]
TCVN3_OWN_CODE_LETTERS = [letter for letter in NON_ASCII_LETTERS if letter not in TONED_CAPITALS]

# Real words, NFC, tones placed the way the office writes them (Hòa, Thủy, Khỏe).
CORPUS = """
Công ty TNHH Thương mại Dịch vụ Xây dựng Cổ phần Doanh nghiệp tư nhân Hợp tác xã
Khánh Hòa Nha Trang Cam Ranh Ninh Vạn Diên Vĩnh Sơn Trường Sa Phường Thị trấn Hải
Phước Tân Lộc Thọ Ngọc Hiệp Xương Huân Thắng Thạnh Phương Sài Nguyên Lương Đồng
Nghĩa Phúc Bắc Nam Đông Tây Trung Thái Bảo hiểm hội Ủy ban dân Thủy Thúy Khỏe Quý
Quỳnh Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Lâm
giữa người rượu khuya khuỷu ngoài quyết quốc giấy tuần muốn xoong hoạch huých kênh
ếch ích yến yêu ơn ừ ý già gìn của mùa cửa Bình Phú Yên Cà Mau Hà Tiên Gò Hòn Chúa
Thành Tháp Vân Châu Mông Thôn Sài Gòn Lò Tô Bà Rịa Cô Tô Mê Linh Hóa Tuấn Khoa
Toàn Hoan Quang Quảng Giang Mỹ Kỳ Tư Văn Minh Tiến Thịnh Huế Chí Phố Ấp Tổ Khu
"""
CORPUS_WORDS = sorted(set(CORPUS.split()))
# Unicode words that an 8-bit font could also have produced: the risky ones for detection.
LATIN1_WORDS = [w for w in CORPUS_WORDS if all(ord(ch) < 0x100 for ch in w)]
TONED_WORDS = [w for w in CORPUS_WORDS if any(ch in TONE_MARKS for ch in nfd(w))]

COMPANIES = [
    "Công ty TNHH Thương mại và Dịch vụ Khánh Hòa",
    "Công ty Cổ phần Xây dựng Nha Trang",
    "Doanh nghiệp tư nhân Hoàng Long",
    "Hợp tác xã Nông nghiệp Diên Phú",
    "Trường Mầm non Vĩnh Hải",
    "Công ty TNHH MTV Yến sào Khánh Hòa",
    "Ủy ban nhân dân xã Cam Hải Tây",
    "Công ty TNHH Green Tech Việt Nam",
    "Khách sạn Sunrise Nha Trang",
    "Chi nhánh Công ty Cổ phần Đường Biên Hòa - Ninh Hòa (số 2)",
]

TCVN3_SAMPLES = [
    ("Kh¸nh Hßa", "Khánh Hòa"),
    ("C«ng ty", "Công ty"),
    ("B¶o hiÓm x· héi", "Bảo hiểm xã hội"),
    ("Céng hoµ x· héi chñ nghÜa ViÖt Nam", "Cộng hoà xã hội chủ nghĩa Việt Nam"),
    ("§éc lËp - Tù do - H¹nh phóc", "Độc lập - Tự do - Hạnh phúc"),
    ("M\u00adêng Kh\u00ad\u00acng", "Mường Khương"),
    ("¡n ¢n £m ¤ng ¥n ¦ng §¨ng", "Ăn Ân Êm Ông Ơn Ưng Đăng"),
]
VNI_SAMPLES = [
    ("Tieáng Vieät", "Tiếng Việt"),
    ("Baûo hieåm xaõ hoäi", "Bảo hiểm xã hội"),
    ("Xin chaøo caùc baïn", "Xin chào các bạn"),
    ("COÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("Ñoäc laäp - Töï do - Haïnh phuùc", "Độc lập - Tự do - Hạnh phúc"),
    ("Ñöôøng Nguyeãn Thò Minh Khai", "Đường Nguyễn Thị Minh Khai"),
    ("Khaùnh Hoøa", "Khánh Hòa"),
    ("Taêng Ñaéc Löïc Thuî Kæ", "Tăng Đắc Lực Thuỵ Kỉ"),
]


# --------------------------------------------------------------------------- TCVN3


@pytest.mark.parametrize("letter", TCVN3_OWN_CODE_LETTERS)
def test_tcvn3_round_trips_letter_with_own_code(letter: str) -> None:
    code = unicode_to_tcvn3(letter)
    assert len(code) == 1 and 0xA1 <= ord(code) <= 0xFE
    assert tcvn3_to_unicode(code) == letter


@pytest.mark.parametrize("letter", TONED_CAPITALS)
def test_tcvn3_toned_capital_uses_lowercase_code(letter: str) -> None:
    code = unicode_to_tcvn3(letter)
    assert code == unicode_to_tcvn3(letter.lower())
    assert tcvn3_to_unicode(code) == letter.lower()
    assert tcvn3_to_unicode(code, uppercase=True) == letter


def test_tcvn3_codes_are_distinct() -> None:
    codes = [unicode_to_tcvn3(letter) for letter in TCVN3_OWN_CODE_LETTERS]
    assert len(TCVN3_OWN_CODE_LETTERS) == 74
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    ("letter", "code"),
    [("Ă", "¡"), ("Â", "¢"), ("Ê", "£"), ("Ô", "¤"), ("Ơ", "¥"), ("Ư", "¦"), ("Đ", "§"),
     ("ă", "¨"), ("â", "©"), ("ê", "ª"), ("ô", "«"), ("ơ", "¬"), ("ư", "\u00ad"), ("đ", "®"),
     ("à", "µ"), ("ả", "¶"), ("ã", "·"), ("á", "¸"), ("ạ", "¹")],
)  # fmt: skip
def test_tcvn3_codes_from_reference(letter: str, code: str) -> None:
    assert unicode_to_tcvn3(letter) == code
    assert tcvn3_to_unicode(code) == letter


def test_tcvn3_table_agrees_with_iconv() -> None:
    """glibc's TCVN5712-1 is an independent table; TCVN3 (VN3) is its 0xA1-0xFE letters."""
    if shutil.which("iconv") is None:
        pytest.skip("iconv not installed")
    codes = "".join(unicode_to_tcvn3(letter) for letter in TCVN3_OWN_CODE_LETTERS)
    result = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"],
        input=codes.encode("latin-1"),
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip("iconv has no TCVN5712-1")
    assert list(result.stdout.decode("utf-8")) == TCVN3_OWN_CODE_LETTERS


@pytest.mark.parametrize(("legacy", "unicode"), TCVN3_SAMPLES)
def test_tcvn3_known_samples_both_ways(legacy: str, unicode: str) -> None:
    assert tcvn3_to_unicode(legacy) == unicode
    assert unicode_to_tcvn3(unicode) == legacy


def test_tcvn3_capitals_font() -> None:
    legacy = "céng hoµ x· héi chñ nghÜa viÖt nam"
    assert tcvn3_to_unicode(legacy, uppercase=True) == "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert unicode_to_tcvn3("KHÁNH HÒA") == "KH¸NH HßA"


def test_tcvn3_leaves_cp1252_punctuation_alone() -> None:
    assert tcvn3_to_unicode("“C«ng ty” – 2022") == "“Công ty” – 2022"


# --------------------------------------------------------------------------- VNI


@pytest.mark.parametrize("letter", NON_ASCII_LETTERS)
def test_vni_round_trips_every_letter(letter: str) -> None:
    code = unicode_to_vni(letter)
    assert 1 <= len(code) <= 2 and all(0x41 <= ord(ch) <= 0xFF for ch in code)
    assert vni_to_unicode(code) == letter


def test_vni_codes_are_distinct() -> None:
    codes = [unicode_to_vni(letter) for letter in NON_ASCII_LETTERS]
    assert len(NON_ASCII_LETTERS) == 134
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("letter", NON_ASCII_LETTERS)
def test_vni_letter_inside_a_word_round_trips(letter: str) -> None:
    for word in (f"ngh{letter}ng", f"Tr{letter}", f"o{letter}a", f"Ư{letter}Ơ"):
        assert vni_to_unicode(unicode_to_vni(word)) == word


@pytest.mark.parametrize(("legacy", "unicode"), VNI_SAMPLES)
def test_vni_known_samples_both_ways(legacy: str, unicode: str) -> None:
    assert vni_to_unicode(legacy) == unicode
    assert unicode_to_vni(unicode) == legacy


def test_encoders_accept_nfd_input() -> None:
    assert unicode_to_vni(nfd("Tiếng Việt")) == "Tieáng Vieät"
    assert unicode_to_tcvn3(nfd("Khánh Hòa")) == "Kh¸nh Hßa"


# --------------------------------------------------------------------------- round-trip properties

ASCII_EXTRAS = string.ascii_letters + string.digits + " .,;:-()/&'\"!?"
vietnamese_text = st.text(alphabet=st.sampled_from(ALL_LETTERS + list(ASCII_EXTRAS)))
lowercase_tcvn3_text = st.text(
    alphabet=st.sampled_from([ch for ch in ALL_LETTERS if ch not in TONED_CAPITALS] + list(ASCII_EXTRAS))
)


@given(vietnamese_text)
def test_vni_round_trips_random_text(text: str) -> None:
    encoded = unicode_to_vni(text)
    assert all(ord(ch) < 0x100 for ch in encoded)
    assert vni_to_unicode(encoded) == text


@given(lowercase_tcvn3_text)
def test_tcvn3_round_trips_random_text_without_toned_capitals(text: str) -> None:
    encoded = unicode_to_tcvn3(text)
    assert all(ord(ch) < 0x100 for ch in encoded)
    assert tcvn3_to_unicode(encoded) == text


@given(vietnamese_text)
def test_tcvn3_round_trips_random_text_in_capitals(text: str) -> None:
    assert tcvn3_to_unicode(unicode_to_tcvn3(text), uppercase=True) == text.upper()


# --------------------------------------------------------------------------- to_nfc, folding


def test_to_nfc_composes_and_collapses_whitespace() -> None:
    assert to_nfc(nfd("  Khánh\u00a0\u00a0 Hòa \t\n")) == "Khánh Hòa"
    assert to_nfc(nfd("Việt")) == "Việt" != nfd("Việt")


@pytest.mark.parametrize(
    ("header", "folded"),
    [("Tên đơn vị", "ten don vi"), ("Mã ĐV", "ma dv"), ("  Số   điện\u00a0thoại ", "so dien thoai"),
     (nfd("Địa chỉ"), "dia chi"), ("E-mail", "e-mail")],
)  # fmt: skip
def test_fold_diacritics(header: str, folded: str) -> None:
    assert fold_diacritics(header) == folded


# --------------------------------------------------------------------------- match_key


@pytest.mark.parametrize(
    ("a", "b"),
    [("Hoà", "Hòa"), ("Thuý", "Thúy"), ("Khoẻ", "Khỏe"), ("Uỷ ban", "Ủy ban"),
     ("Phường  Vĩnh Hòa", "phường vĩnh hoà"), (nfd("Nguyễn Thị Thuỷ"), "NGUYỄN THỊ THỦY"),
     ("Xã\u00a0Cam Hải Tây ", " xã cam hải tây")],
)  # fmt: skip
def test_match_key_equal(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Hòa", "Hoa"), ("Hải", "Hài"), ("Đà", "Da"), ("Hòa", "Hóa"), ("Thủy", "Thùy"),
     ("Hòa Bình", "HòaBình"), ("Lương", "Luơng")],
)  # fmt: skip
def test_match_key_different(a: str, b: str) -> None:
    assert match_key(a) != match_key(b)


def move_tone(word: str, position: int) -> str:
    """``word`` (NFC) with its tone mark moved after the letter at ``position``."""
    letters: list[str] = []
    tone = ""
    for ch in nfd(word):
        if ch in TONE_MARKS:
            tone = ch
        elif unicodedata.combining(ch):
            letters[-1] += ch
        else:
            letters.append(ch)
    letters[position % len(letters)] += tone
    return nfc("".join(letters))


@given(st.sampled_from(TONED_WORDS), st.integers(min_value=0, max_value=10))
def test_match_key_ignores_tone_placement_and_normal_form(word: str, position: int) -> None:
    variant = move_tone(word, position)
    assert match_key(variant) == match_key(word)
    assert match_key(nfd(variant)) == match_key(word)
    assert match_key(word.upper()) == match_key(word)


@given(st.sampled_from(TONED_WORDS), st.sampled_from(TONE_MARKS))
def test_match_key_keeps_the_tone(word: str, tone: str) -> None:
    bare = "".join(ch for ch in nfd(word) if ch not in TONE_MARKS)
    other = nfc(bare + tone)
    assert (match_key(other) == match_key(word)) == (tone in nfd(word))
    assert match_key(nfc(bare)) != match_key(word)


# --------------------------------------------------------------------------- tone placement

# Names as the 2022 administrative data writes them.
OFFICE_STYLE_NAMES = [
    "Phường Vĩnh Hòa", "Phường Phước Hòa", "Thị xã Ninh Hòa", "Ủy ban nhân dân",
    "Trần Thị Thủy", "Nguyễn Thúy Khỏe", "Xã Ninh Quý", "Huyện Khánh Vĩnh",
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "office"),
    [("Hoà", "Hòa"), ("Thuý", "Thúy"), ("Khoẻ", "Khỏe"), ("UỶ BAN", "ỦY BAN"),
     ("Phường Vĩnh Hoà", "Phường Vĩnh Hòa"), ("hoá đơn", "hóa đơn"), ("qúy", "quý"),
     (nfd("Hoà"), "Hòa")],
)  # fmt: skip
def test_normalise_tone_placement_rewrites(old: str, office: str) -> None:
    assert normalise_tone_placement(old) == office


@pytest.mark.parametrize(
    "text",
    OFFICE_STYLE_NAMES
    + ["Toàn", "hoàn thành", "Nguyễn", "người", "khuỷu", "ngoài", "Quỳnh", "Café Müller", "2022"],
)
def test_normalise_tone_placement_keeps_office_style_and_foreign_words(text: str) -> None:
    assert normalise_tone_placement(text) == text


@given(st.sampled_from(TONED_WORDS), st.integers(min_value=0, max_value=10))
def test_normalise_tone_placement_restores_office_style(word: str, position: int) -> None:
    assert normalise_tone_placement(move_tone(word, position)) == word


# --------------------------------------------------------------------------- detection


def test_detects_tcvn3_column_of_company_names() -> None:
    column = [unicode_to_tcvn3(name) for name in COMPANIES]
    assert "C«ng ty TNHH Th\u00ad\u00acng m¹i vµ DÞch vô Kh¸nh Hßa" in column
    assert detect_legacy(column) == "tcvn3"


def test_detects_tcvn3_capitals_column() -> None:
    column = [unicode_to_tcvn3(name.upper()) for name in COMPANIES]
    assert detect_legacy(column) == "tcvn3"


def test_detects_vni_column_of_company_names() -> None:
    column = [unicode_to_vni(name) for name in COMPANIES]
    assert "Coâng ty TNHH Thöông maïi vaø Dòch vuï Khaùnh Hoøa" in column
    assert detect_legacy(column) == "vni"
    assert detect_legacy([name.upper() for name in column]) == "vni"


def test_detects_short_real_samples_and_ignores_blank_cells() -> None:
    assert detect_legacy(["Kh¸nh Hßa", "", "  "]) == "tcvn3"
    assert detect_legacy(["Tieáng Vieät", ""]) == "vni"


def test_single_legacy_word_is_not_enough() -> None:
    assert detect_legacy(["Hßa"]) is None


def test_text_readable_in_both_encodings_is_left_alone() -> None:
    column = ["öng æn"]
    assert tcvn3_to_unicode(column[0]) == "ửng ổn"
    assert vni_to_unicode(column[0]) == "ưng ỉn"
    assert detect_legacy(column) is None


@pytest.mark.parametrize(
    ("plausible", "implausible", "encoding"),
    [
        # Syllables ending in c/ch/p/t take only the sắc or nặng tone: tồt, bảc are not words.
        (["tèt b¸c"], ["tåt b¶c"], "tcvn3"),
        (["moät baùc"], ["moàt baûc"], "vni"),
        # The tone sits on a fixed vowel: mùa, cái, never muà, caỉ.
        (["mïa c¸i"], ["muµ caØ"], "tcvn3"),
        (["muøa caùi"], ["muaø caæ"], "vni"),
    ],
)
def test_converted_text_must_be_spelt_like_vietnamese(
    plausible: list[str], implausible: list[str], encoding: str
) -> None:
    assert detect_legacy(plausible) == encoding
    assert detect_legacy(implausible) is None


@pytest.mark.parametrize(
    ("font", "expected"),
    [(".VnTime", "tcvn3"), (".VNTIMEH", "tcvn3"), (".VnArial", "tcvn3"),
     ("VNI-Times", "vni"), ("vni-helve", "vni"), ("Times New Roman", None), (None, None)],
)  # fmt: skip
def test_font_name_decides_first(font: str | None, expected: str | None) -> None:
    assert detect_legacy(["ABC 123", "Hoa Lan"], font_name=font) == expected


def test_font_name_beats_statistics() -> None:
    assert detect_legacy(["Kh¸nh Hßa"], font_name="VNI-Times") == "vni"


def test_legacy_font_with_unicode_text_is_not_converted() -> None:
    assert detect_legacy(["Công ty Đà Lạt"], font_name=".VnTime") is None
    assert detect_legacy([nfd("Hòa")], font_name="VNI-Times") is None


@pytest.mark.parametrize(
    "column",
    [
        ["ABC Company", "Green Tech JSC", "TNHH 123", "hello@example.com"],
        COMPANIES,
        [nfd(name) for name in COMPANIES],
        ["Hòa Bình", "Phú Yên", "Tân Phú", "Cà Mau", "Hoà", "Hoá", "Thuý", "Lê Thị Hà"],
        ["Müller GmbH"],
        ["Café Đà Lạt"],
        ["Café de Paris", "Crème brûlée", "Hôtel Le Méridien", "Société Générale",
         "Jürgen Müller", "Señor Peña", "Björk Guðmundsdóttir", "Straße", "naïve"],
        [unicode_to_tcvn3(COMPANIES[0]), COMPANIES[1]],  # mixed column: unsafe either way
        [],
    ],
)  # fmt: skip
def test_no_false_positives(column: list[str]) -> None:
    assert detect_legacy(column) is None


@given(st.lists(st.text()), st.one_of(st.none(), st.text()))
def test_detect_legacy_never_raises(column: list[str], font: str | None) -> None:
    assert detect_legacy(column, font_name=font) in (None, "tcvn3", "vni")


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0xFF))))
def test_detect_legacy_never_raises_on_latin1(column: list[str]) -> None:
    assert detect_legacy(column) in (None, "tcvn3", "vni")


def cells_from(words: list[str]) -> st.SearchStrategy[list[str]]:
    cell = st.lists(st.sampled_from(words), min_size=1, max_size=8).map(" ".join)
    return st.lists(cell, min_size=1, max_size=20)


@settings(max_examples=300)
@given(cells_from(LATIN1_WORDS), st.booleans())
def test_unicode_words_an_8bit_font_could_produce_are_not_detected(
    column: list[str], upper: bool
) -> None:
    assert detect_legacy([cell.upper() if upper else cell for cell in column]) is None


@given(cells_from(CORPUS_WORDS), st.booleans())
def test_unicode_vietnamese_is_not_detected(column: list[str], upper: bool) -> None:
    column = [nfc(cell.upper() if upper else cell) for cell in column]
    assert detect_legacy(column) is None


@settings(max_examples=200)
@given(cells_from(CORPUS_WORDS))
def test_legacy_columns_of_real_words_are_detected_or_left_alone(column: list[str]) -> None:
    """Never the wrong encoding: a column is detected as what it is, or not at all."""
    assert detect_legacy([unicode_to_tcvn3(cell) for cell in column]) in ("tcvn3", None)
    assert detect_legacy([unicode_to_vni(cell) for cell in column]) in ("vni", None)
