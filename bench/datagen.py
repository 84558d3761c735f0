#!/usr/bin/env python3
"""Fictional recipient lists for Khánh Hòa (2022), written as real office spreadsheets.

Every unit, name, tax code, e-mail address and phone number produced here is invented
(e-mail domains are ``*.example.vn`` / ``mail.example.com``); only the administrative units
(communes, districts and their official codes) are real, read from the package-data CSV.

Usage (from the repository root)::

    python bench/datagen.py samples [--seed 2022] [--out recipients]
        regenerate recipients/employers.xlsx, collection_agents.xlsx, communes.xlsx,
        recipients/examples/* and recipients/mau/*, then verify them and print a summary
    python bench/datagen.py employers N OUT.xlsx [--seed 1]
        write an N-row employer list (same layout as the sample) for the benchmark
    python bench/datagen.py verify [--out recipients]
        only re-read and check the samples

As a module: ``load_communes()``, ``EmployerFactory``, ``generate_employers()``,
``write_employers_xlsx()``, ``tax_check_digit()``, ``is_valid_tax_code()``,
``to_tcvn3()``, ``to_vni()``, ``to_cp1258()``. Output is deterministic for a given seed
(cell contents and, after ``_freeze_zip``, the file bytes as well).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from outreach.text import tcvn3_to_unicode, unicode_to_tcvn3, unicode_to_vni  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMUNES_CSV = REPO_ROOT / "outreach" / "text" / "data" / "khanh-hoa-don-vi-hanh-chinh-2022.csv"
DEFAULT_OUT = REPO_ROOT / "recipients"

SAMPLE_SEED = 2022
BENCH_SEED = 1
FIXED_TIMESTAMP = datetime(2022, 12, 1, 8, 0, 0)

PROVINCE_OFFICE = "BHXH tỉnh"
SUBTITLE = (
    "(Kèm theo Công văn số        /BHXH-QLT ngày      tháng      năm 2022 "
    "của Bảo hiểm xã hội tỉnh Khánh Hòa)"
)

# --------------------------------------------------------------------------------------
# Administrative units
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commune:
    code: str  # official 5-digit code, text
    name: str  # e.g. "Phường Vĩnh Hòa"
    kind: str  # Phường / Xã / Thị trấn
    district_code: str
    district: str  # e.g. "Thành phố Nha Trang"
    district_kind: str  # Thành phố / Thị xã / Huyện

    @property
    def short(self) -> str:
        """Name without the type word: "Vĩnh Hòa"."""
        return self.name[len(self.kind) + 1 :]

    @property
    def is_urban(self) -> bool:
        return self.kind in ("Phường", "Thị trấn")


def load_communes(path: Path = COMMUNES_CSV) -> list[Commune]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [
            Commune(
                code=row["commune_code"].strip(),
                name=nfc(row["commune"].strip()),
                kind=nfc(row["commune_type"].strip()),
                district_code=row["district_code"].strip(),
                district=nfc(row["district"].strip()),
                district_kind=nfc(row["district_type"].strip()),
            )
            for row in csv.DictReader(fh)
        ]


def district_office(district: str) -> str:
    """"Huyện Vạn Ninh" -> "BHXH huyện Vạn Ninh" (the district-level social-insurance office)."""
    for kind in ("Thành phố", "Thị xã", "Huyện"):
        if district.startswith(kind + " "):
            return f"BHXH {kind.lower()} {district[len(kind) + 1:]}"
    raise ValueError(district)


# Districts without their own BHXH office: employers there are managed by the province.
NO_DISTRICT_OFFICE = {"Huyện Trường Sa"}

# Share of employers per district (roughly: the city has most of them).
DISTRICT_WEIGHTS = {
    "Thành phố Nha Trang": 40,
    "Thành phố Cam Ranh": 12,
    "Thị xã Ninh Hòa": 12,
    "Huyện Diên Khánh": 10,
    "Huyện Cam Lâm": 10,
    "Huyện Vạn Ninh": 8,
    "Huyện Khánh Vĩnh": 3,
    "Huyện Khánh Sơn": 3,
    "Huyện Trường Sa": 0.1,
}

# --------------------------------------------------------------------------------------
# Text helpers and legacy encodings
# --------------------------------------------------------------------------------------


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def ascii_fold(text: str) -> str:
    """"Khánh Hòa" -> "Khanh Hoa" (đ/Đ -> d/D)."""
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def slug(text: str, sep: str = "") -> str:
    return re.sub(r"[^a-z0-9]+", sep, ascii_fold(text).lower()).strip(sep)


# Legacy encodings come from the product's own converters (tested round-trip in tests/test_vntext.py).
to_tcvn3 = unicode_to_tcvn3
from_tcvn3 = tcvn3_to_unicode
to_vni = unicode_to_vni


_CP1258_TONES = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323")


def to_cp1258(text: str) -> bytes:
    """Encode Vietnamese as Windows-1258 the way Windows does: a precomposed character where
    cp1258 has one (à, Ă, ơ ...), otherwise base letter (with circumflex/breve/horn) plus a
    combining tone mark. Python's codec alone fails on e.g. "ấ", which cp1258 lacks."""
    out = []
    for ch in nfc(text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        tones = [m for m in decomposed if m in _CP1258_TONES]
        base = nfc("".join(m for m in decomposed if m not in _CP1258_TONES))
        out.append((base + "".join(tones)).encode("cp1258"))  # raises if really impossible
    return b"".join(out)


# --------------------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------------------

TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
TAX_RE = re.compile(r"^(\d{10})(?:-(\d{3}))?$")
UNIT_CODE_RE = re.compile(r"^[A-Z0-9]{7}$")


def tax_check_digit(first9: str) -> int | None:
    """Check digit of a Vietnamese tax code; None when the base can never be valid."""
    total = sum(int(d) * w for d, w in zip(first9, TAX_WEIGHTS, strict=True))
    check = 10 - total % 11
    return None if check == 10 else check


def is_valid_tax_code(code: str) -> bool:
    m = TAX_RE.match(code)
    if not m:
        return False
    if m.group(2) == "000":
        return False
    return tax_check_digit(m.group(1)[:9]) == int(m.group(1)[9])


# --------------------------------------------------------------------------------------
# Name parts (fictional)
# --------------------------------------------------------------------------------------

BUSINESS_LINES = [
    "Thủy sản", "Chế biến Thủy sản", "Nuôi trồng Hải sản", "Xây dựng", "Đầu tư Xây dựng",
    "Xây dựng và Thương mại", "Du lịch", "Du lịch và Dịch vụ", "Lữ hành", "Khách sạn",
    "Nhà hàng và Khách sạn", "Thương mại", "Thương mại và Dịch vụ", "Xuất nhập khẩu",
    "Vận tải", "Vận tải Biển", "Cơ khí", "Cơ khí Tàu thuyền", "Điện lạnh", "Kỹ thuật Điện",
    "Tư vấn Thiết kế", "Môi trường", "May mặc", "Yến sào", "Dược phẩm",
    "Vật liệu Xây dựng", "Bất động sản", "Công nghệ Thông tin", "In ấn và Quảng cáo",
    "Nông sản", "Chế biến Gỗ", "Dịch vụ Bảo vệ", "Vệ sinh Công nghiệp", "Thực phẩm",
    "Nước giải khát", "Kinh doanh Xăng dầu", "Logistics", "Giáo dục", "Thiết bị Y tế",
]  # fmt: skip
BRANDS = [
    "Hải Vương", "Minh Phát", "Thành Đạt", "Phú Quý", "Tân Tiến", "Hoàng Long", "An Phú",
    "Sao Biển", "Trầm Hương", "Hòn Chồng", "Bãi Dài", "Vĩnh Phát", "Hưng Thịnh",
    "Đại Dương Xanh", "Biển Ngọc", "Phước Lộc", "Nam Thiên", "Kim Ngân", "Tín Nghĩa",
    "Thiên Ân", "Việt Hưng", "Nhật Minh", "Quang Huy", "Lộc Phát", "Ngọc Trai", "Song Long",
    "Thuận Thành", "Bình An", "Hòa Thuận", "Gia Khang", "Hoa Biển", "Sơn Hà", "Trường Thịnh",
    "Hồng Phúc", "Duy Tân", "Ánh Dương", "Bảo Ngọc", "Khải Hoàn", "Cát Tường", "Phúc Khang",
    "Thanh Bình", "Mỹ Khánh", "Trí Đức", "Huy Hoàng", "Thái Sơn", "Đức Trí", "Hải Đăng",
    "Vạn Xuân", "Mai Vàng", "Sóng Xanh", "Đông Hải", "Tường Vy", "Quỳnh Anh", "Hưng Phát",
    "Thịnh Vượng", "Anh Khoa", "Lam Sơn", "Hải Yến", "Phương Nam", "Kim Long",
]  # fmt: skip
PLACE_SUFFIXES = ["Nha Trang", "Cam Ranh", "Khánh Hòa", "Miền Trung", "Nam Trung Bộ",
                  "Ninh Hòa", "Vân Phong", "Diên Khánh", "Cam Lâm", "Vạn Ninh"]
FLOWERS = ["Hoa Sen", "Hoa Hồng", "Sơn Ca", "Họa Mi", "Hướng Dương", "Ban Mai", "Tuổi Thơ",
           "Vàng Anh", "Bông Sen", "Thiên Thần Nhỏ", "Hoa Mai", "Sao Mai", "Bé Ngoan"]
COOP_LINES = ["Nông nghiệp", "Dịch vụ Nông nghiệp", "Nghề cá", "Dịch vụ Nghề cá",
              "Muối", "Thủy sản", "Môi trường", "Vận tải"]
HOSPITAL_FORMS = ["Bệnh viện Đa khoa tư nhân", "Phòng khám Đa khoa", "Bệnh viện Mắt tư nhân",
                  "Phòng khám Nha khoa"]
PARENT_CITIES = [("03", "Thành phố Hồ Chí Minh"), ("01", "Hà Nội"), ("04", "Đà Nẵng")]

NHA_TRANG_STREETS = [
    "Trần Phú", "Lê Thánh Tôn", "Thống Nhất", "Yersin", "Quang Trung", "Lê Lợi",
    "Nguyễn Thị Minh Khai", "Hùng Vương", "Biệt Thự", "Nguyễn Thiện Thuật", "Lý Tự Trọng",
    "Phạm Văn Đồng", "2 Tháng 4", "23 Tháng 10", "Lê Hồng Phong", "Nguyễn Trãi",
    "Hoàng Văn Thụ", "Trần Quý Cáp", "Phong Châu", "Võ Thị Sáu", "Nguyễn Tất Thành",
    "Phước Long", "Nguyễn Khuyến", "Tô Hiến Thành", "Ngô Gia Tự", "Hai Bà Trưng",
]  # fmt: skip
TOWN_STREETS = [
    "Hùng Vương", "Lê Duẩn", "Nguyễn Trọng Kỷ", "Trần Hưng Đạo", "Lê Lợi", "Phạm Văn Đồng",
    "Nguyễn Huệ", "Trần Quý Cáp", "Quang Trung", "Lý Thường Kiệt", "Nguyễn Chí Thanh",
    "Hai Bà Trưng", "Lạc Long Quân", "Nguyễn Thị Ngọc Oanh", "16 Tháng 7", "Ba Tháng Hai",
]  # fmt: skip
VILLAGES = [
    "Phú Bình", "Đông", "Tây", "Trung", "Nam", "Bắc", "Tân Hưng", "Xuân Ngọc", "Phước Lương",
    "Lạc Bình", "Hòa Bình", "Tân Phú", "Suối Cam", "Cây Sung", "Phú Lộc", "Vĩnh Cát",
    "Tân Đức", "Hội Thành", "Mỹ Lợi", "Bình Tây", "1", "2", "3", "4",
]  # fmt: skip
INDUSTRIAL_ZONES = {
    "Xã Suối Tân": "Khu công nghiệp Suối Dầu",
    "Phường Ninh Thủy": "Khu công nghiệp Ninh Thủy",
    "Xã Diên Phú": "Cụm công nghiệp Diên Phú",
    "Xã Vạn Thắng": "Cụm công nghiệp Vạn Thắng",
}
EMAIL_LOCALS = ["ketoan", "nhansu", "hanhchinh", "info", "lienhe", "vanphong", "baohiem",
                "tchc", "kt", "ketoantruong", "phongnhansu"]
MOBILE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "032", "033", "034",
                   "035", "036", "037", "038", "039", "070", "076", "077", "078", "079",
                   "081", "082", "083", "084", "085", "086", "088", "089"]


# --------------------------------------------------------------------------------------
# Employers
# --------------------------------------------------------------------------------------


@dataclass
class Employer:
    code: str
    name: str
    tax_code: str
    address: str
    district: str
    email: str  # the cell as typed: may hold two addresses, spaces, upper case, or be empty
    phone: str
    managing_office: str
    commune: Commune | None = field(default=None, repr=False)

    def row(self, stt: int) -> list:
        return [stt, self.code, self.name, self.tax_code, self.address, self.district,
                self.email, self.phone, self.managing_office]


EMPLOYER_COLUMNS = [  # (header, width, text format)
    ("STT", 6, False),
    ("Mã đơn vị", 12, True),
    ("Tên đơn vị", 58, False),
    ("Mã số thuế", 17, True),
    ("Địa chỉ", 70, False),
    ("Huyện/Thị xã/Thành phố", 24, False),
    ("Email", 46, False),
    ("Số điện thoại", 16, True),
    ("Cơ quan quản lý", 27, False),
]
EMPLOYER_TITLE = "DANH SÁCH ĐƠN VỊ SỬ DỤNG LAO ĐỘNG THAM GIA BHXH, BHYT"


class EmployerFactory:
    """Makes plausible, unique, fictional employers. All randomness comes from ``rng``."""

    def __init__(self, communes: Sequence[Commune], rng: random.Random) -> None:
        self.communes = list(communes)
        self.rng = rng
        self.by_district: dict[str, list[Commune]] = {}
        for c in self.communes:
            self.by_district.setdefault(c.district, []).append(c)
        self.districts = list(self.by_district)
        self.used_codes: set[str] = set()
        self.used_tax: set[str] = set()
        self.used_addresses: set[str] = set()
        self.used_names: set[str] = set()
        self._district_weights = [DISTRICT_WEIGHTS.get(d, 1) for d in self.districts]

    # -- identifiers -------------------------------------------------------------------
    def unit_code(self, style: str | None = None) -> str:
        """7 upper-case letters/digits. Styles: "LLDDDDD" (BW03196), "LLLDDDL" (TZH490L),
        "zeros" (BW00196: letters then zeros), "digits" (0040197: all digits, leading zeros)."""
        letters = "ABCDEFGHKLMNPQRSTUVWXYZ"
        r = self.rng
        for _ in range(1000):
            kind = style or r.choices(["LLDDDDD", "LLLDDDL", "zeros", "digits"], [60, 30, 9, 1])[0]
            if kind == "LLDDDDD":
                code = "".join(r.choices(letters, k=2)) + f"{r.randrange(100000):05d}"
            elif kind == "LLLDDDL":
                code = ("".join(r.choices(letters, k=3)) + f"{r.randrange(1000):03d}"
                        + r.choice(letters))
            elif kind == "zeros":
                code = "".join(r.choices(letters, k=2)) + f"00{r.randrange(100, 1000):03d}"
            elif kind == "digits":
                code = f"00{r.randrange(10000, 100000):05d}"
            else:
                raise ValueError(kind)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code
        raise RuntimeError("unit code space exhausted")

    def tax_base(self, prefix: str = "42") -> str:
        """A valid 10-digit tax code starting with ``prefix`` (42 = Khánh Hòa)."""
        r = self.rng
        while True:
            first9 = prefix + "".join(str(r.randrange(10)) for _ in range(9 - len(prefix)))
            check = tax_check_digit(first9)
            if check is not None and first9 + str(check) not in self.used_tax:
                code = first9 + str(check)
                self.used_tax.add(code)
                return code

    # -- places ------------------------------------------------------------------------
    def pick_commune(self, district: str | None = None) -> Commune:
        if district is None:
            district = self.rng.choices(self.districts, self._district_weights)[0]
        return self.rng.choice(self.by_district[district])

    def address(self, commune: Commune) -> str:
        r = self.rng
        for attempt in range(200):
            if commune.district == "Huyện Trường Sa":  # islands: no streets or villages
                street = f"Đảo {commune.short}"
                street = f"Tổ {r.randint(1, 40)}, {street}" if attempt else street
            elif commune.name in INDUSTRIAL_ZONES and r.random() < 0.5:
                street = (f"Lô {r.choice('ABCDEF')}{r.randint(1, 30)}, "
                          f"{INDUSTRIAL_ZONES[commune.name]}")
            elif commune.is_urban:
                pool = NHA_TRANG_STREETS if commune.district == "Thành phố Nha Trang" else TOWN_STREETS
                name = r.choice(pool)
                if name[0].isdigit():
                    name = "đường " + name
                number = str(r.randint(1, 420))
                roll = r.random()
                if roll < 0.15:
                    number += r.choice("ABC")
                elif roll < 0.30:
                    number += f"/{r.randint(1, 30)}"
                prefix = "Số " if r.random() < 0.25 else ""
                street = f"{prefix}{number} {name}"
                if commune.kind == "Thị trấn" and r.random() < 0.3:
                    street = f"Tổ dân phố {r.randint(1, 12)}, {name}"
            else:
                village = r.choice(VILLAGES)
                street = f"Thôn {village}"
                roll = r.random()
                if roll < 0.3:
                    street = f"Tổ {r.randint(1, 15)}, {street}"
                elif roll < 0.45:
                    street = f"Km {r.randint(1, 60)} Quốc lộ {r.choice(['1A', '26', '27C'])}, {street}"
            tail = r.choices(["tỉnh Khánh Hòa", "Khánh Hòa", ""], [60, 20, 20])[0]
            parts = [street, commune.name, commune.district] + ([tail] if tail else [])
            address = ", ".join(parts)
            if address not in self.used_addresses or attempt == 199:
                self.used_addresses.add(address)
                return address
        raise AssertionError("unreachable")

    # -- names -------------------------------------------------------------------------
    def name(self, commune: Commune) -> tuple[str, str, str]:
        """Return (name, kind, brand) with kind one of company/branch/dntn/coop/school/clinic."""
        r = self.rng
        for attempt in range(60):
            brand = r.choice(BRANDS)
            if attempt > 20 or r.random() < 0.12:
                brand = f"{brand} {r.choice(PLACE_SUFFIXES)}"
            line = r.choice(BUSINESS_LINES)
            if commune.district == "Huyện Trường Sa":
                kind = r.choice(["school", "branch"])
                if kind == "school":
                    name = f"Trường Mầm non Hoa Phong Ba {commune.short}"
                else:
                    name = f"Chi nhánh Công ty TNHH Dịch vụ Hậu cần Nghề cá {brand} tại Trường Sa"
            else:
                kind = r.choices(["company", "branch", "dntn", "coop", "school", "clinic"],
                                 [70, 9, 6, 6, 5, 4])[0]
                if kind == "company":
                    form = r.choices(["Công ty TNHH", "Công ty TNHH MTV", "Công ty Cổ phần",
                                      "Công ty TNHH Một thành viên"], [50, 15, 30, 5])[0]
                    name = f"{form} {line} {brand}"
                elif kind == "branch":
                    form = r.choice(["Công ty Cổ phần", "Công ty TNHH"])
                    if r.random() < 0.5:
                        name = f"Chi nhánh {form} {line} {brand} tại Khánh Hòa"
                    else:
                        place = commune.district[len(commune.district_kind) + 1:]
                        name = f"Chi nhánh {place} - {form} {line} {brand}"
                elif kind == "dntn":
                    name = f"Doanh nghiệp tư nhân {r.choice(['Thương mại', 'Vận tải', 'Xây dựng', 'Dịch vụ', 'Cơ khí'])} {brand}"
                elif kind == "coop":
                    name = f"Hợp tác xã {r.choice(COOP_LINES)} {commune.short}"
                    if attempt > 5:
                        name += f" {r.randint(1, 5)}"
                elif kind == "school":
                    name = f"Trường Mầm non tư thục {r.choice(FLOWERS)}"
                    if attempt > 5 or r.random() < 0.3:
                        name += f" {commune.short}"
                else:
                    name = f"{r.choice(HOSPITAL_FORMS)} {brand}"
            if name not in self.used_names:
                break
        self.used_names.add(name)
        return name, kind, brand

    # -- contact -----------------------------------------------------------------------
    def email(self, name: str, kind: str, brand: str) -> str:
        r = self.rng
        brand_slug = slug(brand)
        free_mail = False
        if kind == "school":
            domain = "edu.example.vn"
            school = slug(re.split(r"Mầm non (?:tư thục )?", name)[-1])
            locals_ = [f"mn.{school}", f"ketoan.mn{school}"]
        elif kind in ("dntn", "coop") or r.random() < 0.35:
            domain, free_mail = "mail.example.com", True  # small units use a free mailbox
            locals_ = [f"{brand_slug}{r.randint(1, 99)}", f"ketoan.{brand_slug}", f"{brand_slug}.kt"]
            if kind == "coop":
                locals_ = [f"htx.{slug(name.split('Hợp tác xã')[-1])}"]
        else:
            domain = f"{brand_slug}.example.vn"
            locals_ = [r.choice(EMAIL_LOCALS)]
        first = f"{r.choice(locals_)}@{domain}"
        cell = first
        roll = r.random()
        if roll < 0.12:  # two addresses in one cell
            second_local = r.choice([l for l in EMAIL_LOCALS if not first.startswith(l + "@")])
            if free_mail:  # a shared mail domain: keep the unit's own prefix
                second_local = f"{brand_slug}.{second_local}"
            elif kind == "school":
                second_local = f"{second_local}.mn{school}"
            sep = r.choice(["; ", ";", " ; "])
            cell = f"{first}{sep}{second_local}@{domain}"
        elif roll < 0.17:
            cell = first.upper()
        elif roll < 0.21:  # capitalised by autocorrect
            cell = first[:1].upper() + first[1:]
        elif roll < 0.26:
            cell = r.choice([f" {first}", f"{first} ", f"  {first} "])
        return cell

    def phone(self) -> str:
        r = self.rng
        if r.random() < 0.45:  # landline, Khánh Hòa area code 0258
            digits = f"3{r.randint(500, 999)}{r.randint(0, 999):03d}"
            fmt = r.choices(["space", "dot", "plain", "paren"], [60, 15, 15, 10])[0]
            if fmt == "space":
                return f"0258 {digits[:4]} {digits[4:]}"
            if fmt == "dot":
                return f"0258.{digits}"
            if fmt == "paren":
                return f"(0258) {digits[:4]} {digits[4:]}"
            return f"0258{digits}"
        prefix = r.choice(MOBILE_PREFIXES)
        rest = f"{r.randint(0, 9999999):07d}"
        fmt = r.choices(["plain", "space", "dot"], [50, 35, 15])[0]
        number = prefix + rest
        if fmt == "space":
            return f"{number[:4]} {number[4:7]} {number[7:]}"
        if fmt == "dot":
            return f"{number[:4]}.{number[4:7]}.{number[7:]}"
        return number

    def managing_office(self, commune: Commune) -> str:
        if commune.district in NO_DISTRICT_OFFICE or self.rng.random() < 0.75:
            return PROVINCE_OFFICE
        return district_office(commune.district)

    def tax_code_for(self, kind: str) -> str:
        r = self.rng
        if kind == "branch":
            if r.random() < 0.6:
                prefix = r.choice(PARENT_CITIES)[0]
                return f"{self.tax_base(prefix)}-{r.randint(1, 25):03d}"
            return f"{self.tax_base('42')}-{r.randint(1, 9):03d}"
        if kind in ("dntn", "coop") and r.random() < 0.35:
            return ""  # small units: often not filled in
        roll = r.random()
        if roll < 0.04:
            return ""
        if roll < 0.10:
            return self.tax_base(r.choice(PARENT_CITIES)[0])  # registered elsewhere, starts with 0
        return self.tax_base("42")

    def employer(self, commune: Commune | None = None, *, p_no_email: float = 0.02,
                 code_style: str | None = None) -> Employer:
        commune = commune or self.pick_commune()
        name, kind, brand = self.name(commune)
        email = "" if self.rng.random() < p_no_email else self.email(name, kind, brand)
        return Employer(
            code=self.unit_code(code_style),
            name=name,
            tax_code=self.tax_code_for(kind),
            address=self.address(commune),
            district=commune.district,
            email=email,
            phone=self.phone(),
            managing_office=self.managing_office(commune),
            commune=commune,
        )


def generate_employers(n: int, seed: int = BENCH_SEED,
                       communes: Sequence[Commune] | None = None) -> list[Employer]:
    """n employers; the first nine cover every district-level unit."""
    factory = EmployerFactory(communes or load_communes(), random.Random(seed))
    out = []
    for i in range(n):
        district = factory.districts[i] if i < len(factory.districts) else None
        out.append(factory.employer(factory.pick_commune(district)))
    return out


def sample_employers(communes: Sequence[Commune], seed: int = SAMPLE_SEED) -> list[Employer]:
    """The 66-row sample list, with the special cases placed at fixed positions."""
    factory = EmployerFactory(communes, random.Random(seed))
    n = 66
    by_name = {c.name: c for c in communes}
    out: list[Employer] = []
    for i in range(n):
        district = factory.districts[i] if i < len(factory.districts) else None
        style = {3: "digits", 30: "digits", 47: "digits", 8: "zeros", 26: "zeros", 52: "zeros"}.get(i)
        out.append(factory.employer(factory.pick_commune(district), p_no_email=0.0, code_style=style))

    # Names with characters that must be escaped in XML/HTML/e-mail headers.
    amp = out[12]
    amp.name = "Công ty TNHH Thương mại Hải Phát & Minh Châu"
    amp.email = "ketoan@haiphatminhchau.example.vn"
    quoted = out[19]
    quoted.name = 'Công ty TNHH Quảng cáo "Ánh Dương" <Sunshine Media>'
    quoted.email = "lienhe@anhduongmedia.example.vn; ketoan@anhduongmedia.example.vn"
    tcp = out[33]
    tcp.name = 'Công ty Cổ phần Du lịch "Vịnh Ngọc"'
    tcp.email = "info@vinhngoctravel.example.vn"

    # Cells typed with stray spaces around the address (copied from another file).
    out[7].email = f" {out[7].email.strip()} "
    out[44].email = f"{out[44].email.strip()}  "

    # Three small units far from the city without any e-mail: they go to the print bundle.
    for idx, commune_name, name in [
        (23, "Xã Sơn Trung", "Hợp tác xã Nông nghiệp Sơn Trung"),
        (41, "Xã Khánh Thượng", "Trường Mầm non tư thục Hoa Mai Khánh Thượng"),
        (58, "Xã Vạn Hưng", "Doanh nghiệp tư nhân Cơ khí Tàu thuyền Vạn Hưng"),
    ]:
        commune = by_name[commune_name]
        e = out[idx]
        factory.used_addresses.discard(e.address)
        e.name, e.email, e.commune, e.district = name, "", commune, commune.district
        e.address = factory.address(commune)
        e.managing_office = factory.managing_office(commune)
        e.tax_code = "" if "Hợp tác xã" in name else e.tax_code
    return out


# --------------------------------------------------------------------------------------
# Collection agents (tổ chức dịch vụ thu) and communes
# --------------------------------------------------------------------------------------

COLLECTION_AGENT_COLUMNS = [
    ("STT", 6, False),
    ("Mã tổ chức", 12, True),
    ("Tên tổ chức dịch vụ thu", 56, False),
    ("Địa chỉ", 66, False),
    ("Huyện/Thị xã/Thành phố", 24, False),
    ("Email", 44, False),
    ("Điện thoại", 16, True),
]
COLLECTION_AGENT_TITLE = "DANH SÁCH TỔ CHỨC DỊCH VỤ THU BHXH, BHYT"

# (name, commune name or None for the district seat, email local@domain or "")
COLLECTION_AGENTS = [
    ("Bưu điện thành phố Nha Trang", "Phường Xương Huân", "bd.nhatrang@buudien.example.vn"),
    ("Bưu điện thành phố Cam Ranh", "Phường Cam Lộc", "bd.camranh@buudien.example.vn"),
    ("Bưu điện thị xã Ninh Hòa", "Phường Ninh Hiệp", "bd.ninhhoa@buudien.example.vn"),
    ("Bưu điện huyện Diên Khánh", "Thị trấn Diên Khánh", "bd.dienkhanh@buudien.example.vn"),
    ("Bưu điện huyện Cam Lâm", "Thị trấn Cam Đức", "bd.camlam@buudien.example.vn"),
    ("Bưu điện huyện Vạn Ninh", "Thị trấn Vạn Giã", "bd.vanninh@buudien.example.vn"),
    ("Bưu điện huyện Khánh Vĩnh", "Thị trấn Khánh Vĩnh", "bd.khanhvinh@buudien.example.vn"),
    ("Bưu điện huyện Khánh Sơn", "Thị trấn Tô Hạp", "BD.KhanhSon@buudien.example.vn"),
    ("Đại lý thu BHXH, BHYT xã Ninh Sim", "Xã Ninh Sim", "dailythu.ninhsim@mail.example.com"),
    ("Đại lý thu BHXH, BHYT phường Phước Hải", "Phường Phước Hải", "dlt.phuochai@mail.example.com"),
    ("Đại lý thu BHXH, BHYT xã Cam Thành Nam", "Xã Cam Thành Nam", " dailythu.camthanhnam@mail.example.com"),
    ("Ủy ban nhân dân xã Khánh Thượng (đại lý thu)", "Xã Khánh Thượng", "ubnd.khanhthuong@khanhhoa.example.vn"),
    ("Ủy ban nhân dân xã Sơn Trung (đại lý thu)", "Xã Sơn Trung", ""),
    ("Ủy ban nhân dân xã Vạn Thạnh (đại lý thu)", "Xã Vạn Thạnh", "ubnd.vanthanh@khanhhoa.example.vn; vanphong.vanthanh@khanhhoa.example.vn"),
    ("Công ty TNHH Dịch vụ thu Nha Trang", "Phường Phước Tân", "thuho@dichvuthunhatrang.example.vn"),
    ("Hợp tác xã Dịch vụ Tổng hợp Diên Thạnh (đại lý thu)", "Xã Diên Thạnh", "htx.dienthanh@mail.example.com"),
    ("Đại lý thu BHXH, BHYT thị trấn Cam Đức", "Thị trấn Cam Đức", "dlt.camduc@mail.example.com"),
]  # fmt: skip


def collection_agent_rows(communes: Sequence[Commune], seed: int = SAMPLE_SEED) -> list[list]:
    factory = EmployerFactory(communes, random.Random(seed + 1))
    by_name = {c.name: c for c in communes}
    rows = []
    for i, (name, commune_name, email) in enumerate(COLLECTION_AGENTS, start=1):
        commune = by_name[commune_name]
        if name.startswith("Ủy ban nhân dân"):
            address = f"Trụ sở UBND {commune.name}, {commune.district}, tỉnh Khánh Hòa"
        else:
            address = factory.address(commune)
        rows.append([i, f"DL56{i:03d}", name, address, commune.district, email, factory.phone()])
    return rows


COMMUNE_COLUMNS = [
    ("STT", 6, False),
    ("Mã xã", 9, True),
    ("Tên xã, phường, thị trấn", 30, False),
    ("Huyện/Thị xã/Thành phố", 24, False),
    ("Email", 46, False),
    ("Địa chỉ", 72, False),
]
COMMUNE_TITLE = "DANH SÁCH ỦY BAN NHÂN DÂN CÁC XÃ, PHƯỜNG, THỊ TRẤN"


def commune_email(commune: Commune) -> str:
    return f"ubnd.{slug(commune.name, '-')}@khanhhoa.example.vn"


def commune_rows(communes: Sequence[Commune]) -> list[list]:
    return [
        [i, c.code, c.name, c.district, commune_email(c),
         f"Trụ sở UBND {c.name}, {c.district}, tỉnh Khánh Hòa"]
        for i, c in enumerate(communes, start=1)
    ]


# --------------------------------------------------------------------------------------
# Spreadsheet writing
# --------------------------------------------------------------------------------------

BASE_FONT = "Times New Roman"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


def fill_list_sheet(ws, title: str, subtitle: str | None, columns: Sequence[tuple[str, int, bool]],
                    rows: Iterable[Sequence], *, borders: bool = True) -> int:
    """Title (merged, bold), optional subtitle, blank row, header, data. Returns header row."""
    ncols = len(columns)
    last = get_column_letter(ncols)
    ws.append([title])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(name=BASE_FONT, size=14, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 24
    header_row = 2
    if subtitle:
        ws.append([subtitle])
        ws.merge_cells(f"A2:{last}2")
        ws["A2"].font = Font(name=BASE_FONT, size=12, italic=True)
        ws["A2"].alignment = Alignment(horizontal="center")
        ws.append([])
        header_row = 4
    ws.append([c[0] for c in columns])
    header_font = Font(name=BASE_FONT, size=12, bold=True)
    for col, (_, width, is_text) in enumerate(columns, start=1):
        cell = ws.cell(row=header_row, column=col)
        cell.font = header_font
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = width
        if is_text:  # new cells typed by staff stay text in Excel
            ws.column_dimensions[letter].number_format = "@"
    ws.row_dimensions[header_row].height = 32

    data_font = Font(name=BASE_FONT, size=12)
    text_cols = [i for i, c in enumerate(columns) if c[2]]
    for r, values in enumerate(rows, start=header_row + 1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=None if value == "" else value)
            cell.font = data_font
            if borders:
                cell.border = BORDER
        for i in text_cols:
            ws.cell(row=r, column=i + 1).number_format = "@"
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="center")
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    return header_row


def new_workbook(sheet_title: str = "Danh sách") -> tuple[Workbook, object]:
    wb = Workbook()
    wb.properties.creator = "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu (dữ liệu giả lập)"
    wb.properties.description = "Dữ liệu mẫu giả lập (fictional) cho dự án outreach"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    ws = wb.active
    ws.title = sheet_title
    return wb, ws


def save_workbook(wb: Workbook, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.properties.modified = FIXED_TIMESTAMP
    wb.save(path)
    _freeze_zip(path)


def _freeze_zip(path: Path) -> None:
    """Rewrite the zip with fixed entry timestamps so regenerated files are byte-identical."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with now()
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>"
                              + FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode(), data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            zout.writestr(fixed, data)
    path.write_bytes(buf.getvalue())


def write_employers_xlsx(path: Path, employers: Sequence[Employer], *, borders: bool = True) -> None:
    wb, ws = new_workbook()
    fill_list_sheet(ws, EMPLOYER_TITLE, SUBTITLE, EMPLOYER_COLUMNS,
                    (e.row(i) for i, e in enumerate(employers, start=1)), borders=borders)
    save_workbook(wb, path)


def write_simple_list(path: Path, title: str, columns, rows) -> None:
    wb, ws = new_workbook()
    fill_list_sheet(ws, title, SUBTITLE, columns, rows)
    save_workbook(wb, path)


# --------------------------------------------------------------------------------------
# Deliberately broken employer list
# --------------------------------------------------------------------------------------


@dataclass
class BrokenCase:
    what: str  # what is wrong (Vietnamese, for the README)
    expected: str  # what the validator should report (Vietnamese)
    rows: list[Employer]
    fonts: dict[int, str] = field(default_factory=dict)  # column index -> legacy font name
    number_code: int | None = None  # write the unit code as this NUMBER cell


def broken_cases(communes: Sequence[Commune], seed: int = SAMPLE_SEED) -> list[BrokenCase]:
    factory = EmployerFactory(communes, random.Random(seed + 7))
    by_name = {c.name: c for c in communes}

    def emp(commune: str | None = None, **kw) -> Employer:
        e = factory.employer(by_name[commune] if commune else None, p_no_email=0.0)
        e.managing_office = PROVINCE_OFFICE
        if kw.get("name") and "email" not in kw:  # keep the e-mail domain in line with the name
            brand = " ".join(nfc(kw["name"]).split()[-2:])
            e.email = f"{factory.rng.choice(EMAIL_LOCALS)}@{slug(brand)}.example.vn"
        for k, v in kw.items():
            setattr(e, k, v)
        return e

    cases: list[BrokenCase] = []
    cases.append(BrokenCase(
        "Dòng hợp lệ (đối chứng).", "Không báo gì.",
        [emp("Phường Lộc Thọ", name="Công ty TNHH Dịch vụ Bảo vệ Phước Lộc",
             email="ketoan@baovephuocloc.example.vn")]))
    cases.append(BrokenCase(
        "Thiếu tên đơn vị (ô «Tên đơn vị» để trống).",
        "Lỗi: thiếu tên đơn vị (cột bắt buộc) — nêu tên tệp, dòng, cột và cách sửa.",
        [emp("Phường Vĩnh Hải", name="")]))
    cases.append(BrokenCase(
        "Mã đơn vị 0040196 bị nhập thành ô kiểu SỐ: Excel lưu 40196, mất hai số 0 ở đầu.",
        "Lỗi: mã đơn vị «40196» là ô kiểu số và không đủ 7 ký tự; có thể là «0040196» — "
        "đề nghị định dạng cột Mã đơn vị là Văn bản (Text) rồi nhập lại. Không tự thêm số 0 âm thầm.",
        [emp("Phường Phước Tân", name="Công ty Cổ phần Thực phẩm Hưng Phát")], number_code=40196))
    cases.append(BrokenCase(
        "Email sai định dạng «abc@@example».",
        "Lỗi/cảnh báo: địa chỉ email không hợp lệ «abc@@example»; đơn vị không còn email hợp lệ "
        "(sẽ vào bản in nếu không sửa).",
        [emp("Phường Cam Lộc", name="Công ty TNHH Vận tải Biển Đông Hải Cam Ranh", email="abc@@example")]))
    dup = factory.unit_code("LLLDDDL")
    cases.append(BrokenCase(
        f"Hai đơn vị khác nhau dùng chung mã đơn vị «{dup}».",
        f"Lỗi: trùng mã đơn vị «{dup}» ở hai dòng (nêu cả hai số dòng).",
        [emp("Phường Vạn Thắng", name="Công ty TNHH Khách sạn Sóng Xanh", code=dup),
         emp("Xã Vĩnh Ngọc", name="Công ty Cổ phần Chế biến Gỗ Lam Sơn", code=dup)]))
    good_tax = factory.tax_base("42")
    bad_tax = good_tax[:9] + str((int(good_tax[9]) + 3) % 10)
    cases.append(BrokenCase(
        f"Mã số thuế «{bad_tax}» sai chữ số kiểm tra (đúng phải là {good_tax[9]}).",
        "Lỗi (hoặc cảnh báo): mã số thuế không hợp lệ — chữ số kiểm tra không khớp.",
        [emp("Phường Phước Hòa", name="Công ty TNHH Điện lạnh Anh Khoa", tax_code=bad_tax)]))
    cases.append(BrokenCase(
        "Địa chỉ ghi «Phường Bắc Nha Trang» — tên phường mới từ 01/7/2025, không có trong danh mục 2022.",
        "Cảnh báo: không tìm thấy xã/phường/thị trấn trong danh mục đơn vị hành chính Khánh Hòa 2022.",
        [emp("Phường Vĩnh Phước", name="Công ty TNHH Thiết bị Y tế Kim Long",
             address="25 đường 2 Tháng 4, Phường Bắc Nha Trang, Thành phố Nha Trang, tỉnh Khánh Hòa")]))
    tcvn3 = to_tcvn3("Công ty TNHH Thủy sản Khánh Hòa")
    assert tcvn3 == "C«ng ty TNHH Thñy s¶n Kh¸nh Hßa", tcvn3
    cases.append(BrokenCase(
        f"Tên đơn vị gõ bằng TCVN3, ô dùng phông «.VnTime»: «{tcvn3}».",
        "Thông báo: phát hiện mã TCVN3 (theo phông .VnTime), đã chuyển sang Unicode "
        "«Công ty TNHH Thủy sản Khánh Hòa»; liệt kê ô đã chuyển.",
        [emp("Phường Vĩnh Trường", name=tcvn3, email="ketoan@thuysankhanhhoa.example.vn")],
        fonts={2: ".VnTime"}))
    vni = to_vni("Công ty Cổ phần Xây dựng Cam Ranh")
    cases.append(BrokenCase(
        f"Tên đơn vị gõ bằng VNI-Windows, ô dùng phông «VNI-Times»: «{vni}».",
        "Thông báo: phát hiện mã VNI (theo phông VNI-Times), đã chuyển sang Unicode "
        "«Công ty Cổ phần Xây dựng Cam Ranh»; liệt kê ô đã chuyển.",
        [emp("Phường Cam Nghĩa", name=vni, email="nhansu@xaydungcamranh.example.vn")],
        fonts={2: "VNI-Times"}))
    cases.append(BrokenCase(
        "Tên đơn vị ở dạng Unicode tổ hợp (NFD): «Công ty TNHH Dịch vụ Hòa Bình Xanh» "
        "(nhìn giống hệt nhưng các dấu là ký tự rời).",
        "Thông báo: chuẩn hóa về Unicode dựng sẵn (NFC); không phải lỗi.",
        [emp("Thị trấn Diên Khánh",
             name=unicodedata.normalize("NFD", "Công ty TNHH Dịch vụ Hòa Bình Xanh"))]))
    cases.append(BrokenCase(
        "Ô email «\u00a0KeToan@Example.VN ; » — có khoảng trắng đầu, chữ hoa và dấu «;» thừa ở cuối."
        .replace("\u00a0", " "),
        "Chuẩn hóa thành «ketoan@example.vn» (bỏ khoảng trắng, bỏ phần tử rỗng sau «;», "
        "viết thường); không phải lỗi, có thể ghi thông báo.",
        [emp("Phường Ninh Hiệp", name="Công ty TNHH Nông sản Phương Nam", email=" KeToan@Example.VN ; ")]))
    shared = "Số 5 Lê Thánh Tôn, Phường Lộc Thọ, Thành phố Nha Trang, tỉnh Khánh Hòa"
    cases.append(BrokenCase(
        f"Ba đơn vị khác nhau ghi cùng một địa chỉ «{shared}» (địa chỉ của một văn phòng dịch vụ kế toán).",
        "Cảnh báo (không phải lỗi): cùng một địa chỉ trên nhiều đơn vị — nêu các dòng để kiểm tra lại.",
        [emp("Phường Lộc Thọ", name="Công ty TNHH Lữ hành Hải Yến", address=shared),
         emp("Phường Lộc Thọ", name="Công ty TNHH Tư vấn Thiết kế Trí Đức", address=shared),
         emp("Phường Lộc Thọ", name="Công ty TNHH Thương mại Cát Tường", address=shared)]))
    cases.append(BrokenCase(
        "Số điện thoại «01693 456 789»: số di động 11 số kiểu cũ (đầu 0169 đã chuyển thành 039 từ 2018), "
        "nay không còn là số Việt Nam hợp lệ.",
        "Cảnh báo: số điện thoại không hợp lệ (có thể gợi ý «0393 456 789»); trường điện thoại để trống.",
        [emp("Xã Diên An", name="Công ty TNHH May mặc Thái Sơn", phone="01693 456 789")]))
    return cases


def write_broken_examples(out_dir: Path, communes: Sequence[Commune], seed: int = SAMPLE_SEED) -> dict:
    """employers-loi.xlsx + README.md + two CSV encodings. Returns row info for the summary."""
    examples = out_dir / "examples"
    cases = broken_cases(communes, seed)
    rows: list[Employer] = [e for case in cases for e in case.rows]
    wb, ws = new_workbook()
    header_row = fill_list_sheet(ws, EMPLOYER_TITLE, SUBTITLE, EMPLOYER_COLUMNS,
                                 (e.row(i) for i, e in enumerate(rows, start=1)))
    # Per-case tweaks that the common writer cannot express.
    excel_rows: list[list[int]] = []
    r = header_row + 1
    for case in cases:
        case_rows = list(range(r, r + len(case.rows)))
        excel_rows.append(case_rows)
        for row in case_rows:
            if case.number_code is not None:
                cell = ws.cell(row=row, column=2, value=case.number_code)
                cell.number_format = "General"
                cell.alignment = Alignment(horizontal="right")
            for col, font in case.fonts.items():
                ws.cell(row=row, column=col + 1).font = Font(name=font, size=12)
        r += len(case.rows)
    save_workbook(wb, examples / "employers-loi.xlsx")

    # README (Vietnamese)
    lines = [
        "# Danh sách mẫu có lỗi — `employers-loi.xlsx`",
        "",
        "Dữ liệu giả lập (tên, mã, email, điện thoại đều hư cấu). Tệp có dòng tiêu đề, dòng trích yếu, "
        f"một dòng trống; dòng tiêu đề cột là dòng {header_row}. Mỗi dòng dưới đây cố ý chứa **một** "
        "vấn đề; các ô khác hợp lệ. Kiểm tra danh sách phải báo đúng như cột «Cần báo».",
        "",
        "| Dòng Excel | Vấn đề | Cần báo |",
        "|---|---|---|",
    ]
    for case, case_rows in zip(cases, excel_rows):
        where = ", ".join(str(x) for x in case_rows)
        lines.append(f"| {where} | {case.what} | {case.expected} |")
    lines += [
        "",
        "## Tệp CSV",
        "",
        "`employers-utf8-bom.csv` (UTF-8 có BOM, như Excel «CSV UTF-8») và `employers-cp1258.csv` "
        "(Windows-1258, như Excel «CSV» trên Windows tiếng Việt: chữ có dấu thanh lưu bằng ký tự "
        "gốc + dấu thanh tổ hợp) chứa **cùng** một dòng tiêu đề, dòng tiêu đề cột và vài dòng hợp lệ, "
        "phân cách bằng dấu phẩy, xuống dòng CRLF. Đọc xong, chuẩn hóa NFC, hai tệp phải cho dữ liệu "
        "giống hệt nhau; mã đơn vị và mã số thuế có số 0 ở đầu phải giữ nguyên.",
        "",
        "Tạo lại bằng: `python bench/datagen.py samples`.",
        "",
    ]
    (examples / "README.md").write_text("\n".join(lines), encoding="utf-8")

    # CSV: the same few valid rows in UTF-8 with BOM and in cp1258.
    csv_text = employers_csv_text(sample_employers(communes, seed))
    (examples / "employers-utf8-bom.csv").write_bytes(b"\xef\xbb\xbf" + csv_text.encode("utf-8"))
    (examples / "employers-cp1258.csv").write_bytes(to_cp1258(csv_text))
    return {"header_row": header_row, "cases": list(zip(cases, excel_rows))}


CSV_SAMPLE_ROWS = (3, 12, 19, 8, 23, 27)  # indices into sample_employers(): leading zeros, &, quotes, no e-mail


def employers_csv_text(sample: Sequence[Employer]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    header = [c[0] for c in EMPLOYER_COLUMNS]
    w.writerow([EMPLOYER_TITLE] + [""] * (len(header) - 1))
    w.writerow(header)
    for stt, idx in enumerate(CSV_SAMPLE_ROWS, start=1):
        w.writerow(sample[idx].row(stt))
    return buf.getvalue()


# --------------------------------------------------------------------------------------
# Blank templates for staff
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSpec:
    filename: str
    title: str
    columns: list[tuple[str, int, bool]]
    example: list
    guide: list[tuple[str, str, str, str]]  # (column, required, format, notes)


EMAIL_GUIDE = ("Không bắt buộc (nên có)", "Địa chỉ email; nhiều địa chỉ cách nhau bằng dấu chấm phẩy (;)",
               "Để trống nếu không có: công văn sẽ được in và gửi bằng đường bưu điện.")
DISTRICT_GUIDE = ("Không bắt buộc", "Tên đầy đủ: Thành phố Nha Trang, Thị xã Ninh Hòa, Huyện Diên Khánh…",
                  "Dùng để phân theo BHXH huyện, thị xã, thành phố.")
STT_GUIDE = ("STT", "Không bắt buộc", "Số thứ tự 1, 2, 3…", "Dòng ví dụ ghi «Ví dụ» ở cột này; xóa dòng ví dụ trước khi dùng.")

TEMPLATES = [
    TemplateSpec(
        "mau-don-vi-su-dung-lao-dong.xlsx", EMPLOYER_TITLE, EMPLOYER_COLUMNS,
        ["Ví dụ", "BW03196", "Công ty TNHH Thương mại Ví Dụ", "4201234566",
         "12 Trần Phú, Phường Lộc Thọ, Thành phố Nha Trang, tỉnh Khánh Hòa", "Thành phố Nha Trang",
         "ketoan@vidu.example.vn; nhansu@vidu.example.vn", "0258 3822 123", PROVINCE_OFFICE],
        [
            STT_GUIDE,
            ("Mã đơn vị", "Bắt buộc", "7 ký tự chữ in hoa hoặc số, ví dụ BW03196, TZH490L",
             "Cột đã định dạng Văn bản (Text) để giữ số 0 ở đầu; không gõ mã thành số."),
            ("Tên đơn vị", "Bắt buộc", "Tên đầy đủ, Unicode có dấu (Times New Roman)",
             "Không dùng phông .VnTime hoặc VNI-Times."),
            ("Mã số thuế", "Không bắt buộc", "10 chữ số, hoặc 13 chữ số dạng 4201234566-001 (chi nhánh)",
             "Định dạng Văn bản; chữ số cuối là chữ số kiểm tra."),
            ("Địa chỉ", "Bắt buộc", "Số nhà, đường/thôn, xã/phường/thị trấn, huyện/thị xã/thành phố",
             "Ghi tên xã, phường, thị trấn đúng danh mục năm 2022."),
            ("Huyện/Thị xã/Thành phố",) + DISTRICT_GUIDE,
            ("Email",) + EMAIL_GUIDE,
            ("Số điện thoại", "Không bắt buộc", "Di động 10 số (09…, 03…) hoặc cố định 0258 3xxx xxx",
             "Định dạng Văn bản để giữ số 0 ở đầu."),
            ("Cơ quan quản lý", "Không bắt buộc", "BHXH tỉnh, hoặc tên BHXH huyện, ví dụ BHXH huyện Vạn Ninh",
             "Để trống = BHXH tỉnh (Phòng Quản lý thu gửi)."),
        ],
    ),
    TemplateSpec(
        "mau-to-chuc-dich-vu-thu.xlsx", COLLECTION_AGENT_TITLE, COLLECTION_AGENT_COLUMNS,
        ["Ví dụ", "DL56001", "Đại lý thu BHXH, BHYT xã Ví Dụ",
         "Thôn Phú Bình, Xã Diên Phú, Huyện Diên Khánh, tỉnh Khánh Hòa", "Huyện Diên Khánh",
         "dailythu.vidu@vidu.example.vn", "0905 123 456"],
        [
            STT_GUIDE,
            ("Mã tổ chức", "Bắt buộc", "Mã tổ chức dịch vụ thu, ví dụ DL56001",
             "Cột đã định dạng Văn bản (Text) để giữ số 0."),
            ("Tên tổ chức dịch vụ thu", "Bắt buộc", "Tên đầy đủ, Unicode có dấu",
             "Ví dụ: Bưu điện huyện Diên Khánh; Ủy ban nhân dân xã … (đại lý thu)."),
            ("Địa chỉ", "Bắt buộc", "Địa chỉ trụ sở", "Ghi tên xã, phường, thị trấn đúng danh mục năm 2022."),
            ("Huyện/Thị xã/Thành phố",) + DISTRICT_GUIDE,
            ("Email",) + EMAIL_GUIDE,
            ("Điện thoại", "Không bắt buộc", "Di động 10 số hoặc cố định 0258 3xxx xxx",
             "Định dạng Văn bản để giữ số 0 ở đầu."),
        ],
    ),
    TemplateSpec(
        "mau-ubnd-xa.xlsx", COMMUNE_TITLE, COMMUNE_COLUMNS,
        ["Ví dụ", "22327", "Phường Vĩnh Hòa", "Thành phố Nha Trang",
         "ubnd.vidu@khanhhoa.example.vn", "Trụ sở UBND Phường Vĩnh Hòa, Thành phố Nha Trang, tỉnh Khánh Hòa"],
        [
            STT_GUIDE,
            ("Mã xã", "Bắt buộc (có thể để trống nếu tên xã đúng danh mục)",
             "Mã đơn vị hành chính 5 chữ số, ví dụ 22327", "Cột đã định dạng Văn bản (Text)."),
            ("Tên xã, phường, thị trấn", "Bắt buộc", "Ghi cả loại: Phường Vĩnh Hòa, Xã Ninh Sim, Thị trấn Tô Hạp",
             "Thư gửi «Ủy ban nhân dân» + tên này."),
            ("Huyện/Thị xã/Thành phố",) + DISTRICT_GUIDE,
            ("Email",) + EMAIL_GUIDE,
            ("Địa chỉ", "Không bắt buộc", "Địa chỉ trụ sở UBND", ""),
        ],
    ),
]


def write_template(path: Path, spec: TemplateSpec) -> None:
    wb, ws = new_workbook()
    header_row = fill_list_sheet(ws, spec.title, None, spec.columns, [spec.example], borders=True)
    example_font = Font(name=BASE_FONT, size=12, italic=True, color="808080")
    for col in range(1, len(spec.columns) + 1):
        ws.cell(row=header_row + 1, column=col).font = example_font

    guide = wb.create_sheet("Hướng dẫn")
    guide.append(["HƯỚNG DẪN ĐIỀN DANH SÁCH"])
    guide["A1"].font = Font(name=BASE_FONT, size=14, bold=True)
    guide.merge_cells("A1:D1")
    notes = [
        "• Không đổi tên, không xóa các cột tiêu đề ở dòng 2; có thể thêm cột khác ở bên phải.",
        "• Mỗi dòng một đơn vị. Xóa dòng ví dụ (chữ nghiêng màu xám) trước khi sử dụng.",
        "• Dùng phông Unicode (Times New Roman); không dùng .VnTime, VNI-Times.",
        "• Các cột mã và điện thoại đã định dạng Văn bản: dán dữ liệu bằng «Dán giá trị» để giữ định dạng.",
    ]
    for note in notes:
        guide.append([note])
    guide.append([])
    guide.append(["Cột", "Bắt buộc", "Định dạng", "Ghi chú"])
    head = guide.max_row
    for col in range(1, 5):
        c = guide.cell(row=head, column=col)
        c.font = Font(name=BASE_FONT, size=12, bold=True)
        c.fill = HEADER_FILL
        c.border = BORDER
    for entry in spec.guide:
        guide.append(list(entry))
    for row in guide.iter_rows(min_row=2, max_row=guide.max_row):
        for c in row:
            if c.row != head:
                c.font = Font(name=BASE_FONT, size=12)
            if c.row > head:
                c.border = BORDER
                c.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCD", (26, 26, 55, 60)):
        guide.column_dimensions[letter].width = width
    guide.freeze_panes = f"A{head + 1}"
    save_workbook(wb, path)


# --------------------------------------------------------------------------------------
# Samples: write and verify
# --------------------------------------------------------------------------------------


def write_samples(out_dir: Path = DEFAULT_OUT, seed: int = SAMPLE_SEED) -> None:
    communes = load_communes()
    write_employers_xlsx(out_dir / "employers.xlsx", sample_employers(communes, seed))
    write_simple_list(out_dir / "collection_agents.xlsx", COLLECTION_AGENT_TITLE,
                      COLLECTION_AGENT_COLUMNS, collection_agent_rows(communes, seed))
    write_simple_list(out_dir / "communes.xlsx", COMMUNE_TITLE, COMMUNE_COLUMNS, commune_rows(communes))
    write_broken_examples(out_dir, communes, seed)
    for spec in TEMPLATES:
        write_template(out_dir / "mau" / spec.filename, spec)


class CheckFailed(AssertionError):
    pass


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def _read_table(path: Path, header_labels: Sequence[str]):
    """Read with openpyxl and pandas; return (ws, header_row, openpyxl data rows, pandas data rows)."""
    import pandas as pd

    ws = load_workbook(path).worksheets[0]
    header_row = next(r for r in range(1, 10)
                      if [ws.cell(row=r, column=c + 1).value for c in range(len(header_labels))]
                      == list(header_labels))
    xl_rows = [list(row) for row in ws.iter_rows(min_row=header_row + 1, values_only=False)]
    df = pd.read_excel(path, header=None, dtype=str, engine="openpyxl")
    pd_rows = df.iloc[header_row:].fillna("").values.tolist()
    _check(len(pd_rows) == len(xl_rows), f"{path.name}: pandas sees {len(pd_rows)} rows, openpyxl {len(xl_rows)}")
    return ws, header_row, xl_rows, pd_rows


def _check_text_code(path: Path, cell, pd_value: str, pattern: re.Pattern) -> str:
    value = cell.value
    _check(isinstance(value, str) and cell.data_type == "s",
           f"{path.name}!{cell.coordinate}: code {value!r} is not a text cell")
    _check(cell.number_format == "@", f"{path.name}!{cell.coordinate}: number format {cell.number_format!r}")
    _check(bool(pattern.match(value)), f"{path.name}!{cell.coordinate}: bad code {value!r}")
    _check(pd_value == value, f"{path.name}!{cell.coordinate}: pandas reads {pd_value!r}, expected {value!r}")
    return value


def _check_nfc(path: Path, rows) -> None:
    for row in rows:
        for cell in row:
            if isinstance(cell.value, str):
                _check(unicodedata.is_normalized("NFC", cell.value),
                       f"{path.name}!{cell.coordinate}: not NFC")


def verify_samples(out_dir: Path = DEFAULT_OUT) -> list[str]:
    """Re-read every sample file and check the promises made above. Returns summary lines."""
    communes = load_communes()
    commune_names = {c.name for c in communes}
    summary: list[str] = []

    # employers.xlsx
    path = out_dir / "employers.xlsx"
    headers = [c[0] for c in EMPLOYER_COLUMNS]
    ws, hr, xl_rows, pd_rows = _read_table(path, headers)
    _check(ws.cell(row=1, column=1).value == EMPLOYER_TITLE and ws.cell(row=1, column=1).font.b,
           "employers: title row")
    _check(f"A1:{get_column_letter(len(headers))}1" in {str(m) for m in ws.merged_cells.ranges},
           "employers: title not merged")
    _check(ws.freeze_panes == f"A{hr + 1}", "employers: freeze panes")
    _check(len(xl_rows) >= 60, f"employers: only {len(xl_rows)} rows")
    codes, taxes, districts, no_email, leading_zero_codes = [], [], set(), 0, 0
    offices = set()
    for xl, pdr in zip(xl_rows, pd_rows):
        code = _check_text_code(path, xl[1], pdr[1], UNIT_CODE_RE)
        codes.append(code)
        leading_zero_codes += bool(re.match(r"^[A-Z]*0", code))
        tax = xl[3].value or ""
        if tax:
            _check(is_valid_tax_code(tax), f"employers!{xl[3].coordinate}: invalid tax code {tax}")
            _check(xl[3].data_type == "s" and pdr[3] == tax, f"employers!{xl[3].coordinate}: tax code not text")
            taxes.append(tax)
        address, district = xl[4].value, xl[5].value
        _check(any(f", {name}, " in f", {address}, " for name in commune_names),
               f"employers!{xl[4].coordinate}: no known commune in {address!r}")
        districts.add(district)
        offices.add(xl[8].value)
        if not (xl[6].value or "").strip():
            no_email += 1
        _check(isinstance(xl[7].value, str) and xl[7].value.lstrip("(").startswith("0"),
               f"employers!{xl[7].coordinate}: phone")
    _check(len(set(codes)) == len(codes), "employers: duplicate unit code")
    _check(len(set(taxes)) == len(taxes), "employers: duplicate tax code")
    _check(len(districts) == 9, f"employers: districts {sorted(districts)}")
    _check(2 <= no_email <= 3, f"employers: {no_email} rows without e-mail")
    email_cells = [r[6].value or "" for r in xl_rows]
    _check(any(";" in v for v in email_cells), "employers: no cell with two e-mail addresses")
    _check(any(v != v.strip() for v in email_cells), "employers: no e-mail cell with surrounding spaces")
    _check(any(v != v.lower() for v in email_cells), "employers: no upper-case e-mail")
    _check(all(v == "" or re.search(r"@([a-z0-9-]+\.)*example\.(vn|com)\s*$", v.split(";")[-1].strip().lower() + " ")
               for v in email_cells), "employers: e-mail outside the example domains")
    names = [r[2].value for r in xl_rows]
    _check(any("&" in n for n in names) and any("<" in n or '"' in n for n in names), "employers: special names")
    _check(any("-" in t for t in taxes) and any(t.startswith("0") for t in taxes), "employers: tax code variety")
    _check(len({r[4].value for r in xl_rows}) == len(xl_rows), "employers: repeated address")
    _check_nfc(path, xl_rows)
    summary.append(
        f"employers.xlsx: {len(xl_rows)} rows (header row {hr}), {len(districts)} districts, "
        f"{sum(c.isdigit() for c in codes)} all-digit codes, {leading_zero_codes} codes with a leading 0, "
        f"{len(taxes)} valid tax codes ({sum('-' in t for t in taxes)} branch, "
        f"{sum(t.startswith('0') for t in taxes)} starting with 0, {len(xl_rows) - len(taxes)} empty), "
        f"{no_email} without e-mail, offices: {len(offices)}")

    # collection_agents.xlsx
    path = out_dir / "collection_agents.xlsx"
    ws, hr, xl_rows, pd_rows = _read_table(path, [c[0] for c in COLLECTION_AGENT_COLUMNS])
    _check(len(xl_rows) >= 12, "collection agents: fewer than 12")
    agent_codes = [_check_text_code(path, xl[1], pdr[1], re.compile(r"^DL\d{5}$"))
                   for xl, pdr in zip(xl_rows, pd_rows)]
    _check(len(set(agent_codes)) == len(agent_codes), "collection agents: duplicate code")
    _check_nfc(path, xl_rows)
    summary.append(f"collection_agents.xlsx: {len(xl_rows)} rows (header row {hr}), "
                   f"{len({r[4].value for r in xl_rows})} districts, "
                   f"{sum(not (r[5].value or '').strip() for r in xl_rows)} without e-mail")

    # communes.xlsx
    path = out_dir / "communes.xlsx"
    ws, hr, xl_rows, pd_rows = _read_table(path, [c[0] for c in COMMUNE_COLUMNS])
    _check(len(xl_rows) == len(communes) == 139, f"communes: {len(xl_rows)} rows")
    for xl, pdr, c in zip(xl_rows, pd_rows, communes):
        _check(_check_text_code(path, xl[1], pdr[1], re.compile(r"^\d{5}$")) == c.code,
               f"communes!{xl[1].coordinate}: code differs from CSV")
        _check(xl[2].value == c.name and xl[3].value == c.district, f"communes!{xl[2].coordinate}: name")
    emails = [r[4].value for r in xl_rows]
    _check(len(set(emails)) == len(emails), "communes: duplicate e-mail")
    _check_nfc(path, xl_rows)
    kinds = {k: sum(c.kind == k for c in communes) for k in ("Phường", "Xã", "Thị trấn")}
    summary.append(f"communes.xlsx: {len(xl_rows)} rows (header row {hr}), codes match the CSV, {kinds}")

    # broken examples
    path = out_dir / "examples" / "employers-loi.xlsx"
    ws, hr, xl_rows, pd_rows = _read_table(path, headers)
    fonts = {r[2].font.name for r in xl_rows}
    _check({".VnTime", "VNI-Times"} <= fonts, "broken: legacy fonts missing")
    number_codes = [r[1].value for r in xl_rows if isinstance(r[1].value, int)]
    _check(number_codes == [40196], f"broken: number code cells {number_codes}")
    tcvn3_cell = next(r[2] for r in xl_rows if r[2].font.name == ".VnTime")
    _check(from_tcvn3(tcvn3_cell.value) == "Công ty TNHH Thủy sản Khánh Hòa", "broken: TCVN3 decode")
    _check(any(not unicodedata.is_normalized("NFC", r[2].value or "") for r in xl_rows), "broken: NFD row")
    summary.append(f"examples/employers-loi.xlsx: {len(xl_rows)} rows (header row {hr})")

    utf8 = (out_dir / "examples" / "employers-utf8-bom.csv").read_bytes()
    cp = (out_dir / "examples" / "employers-cp1258.csv").read_bytes()
    _check(utf8.startswith(b"\xef\xbb\xbf"), "csv: no BOM")
    text_utf8 = utf8[3:].decode("utf-8")
    text_cp = cp.decode("cp1258")
    _check(nfc(text_cp) == text_utf8, "csv: cp1258 does not round-trip to the UTF-8 text")
    _check(text_cp != text_utf8, "csv: cp1258 file has no combining marks (suspicious)")
    csv_rows = list(csv.reader(io.StringIO(text_utf8)))
    summary.append(f"examples/*.csv: {len(csv_rows) - 2} data rows each, cp1258 round-trips after NFC "
                   f"({len(cp)} vs {len(utf8)} bytes)")

    # templates
    for spec in TEMPLATES:
        path = out_dir / "mau" / spec.filename
        wb = load_workbook(path)
        _check(wb.sheetnames == ["Danh sách", "Hướng dẫn"], f"{spec.filename}: sheets {wb.sheetnames}")
        ws = wb["Danh sách"]
        _check([ws.cell(row=2, column=i + 1).value for i in range(len(spec.columns))]
               == [c[0] for c in spec.columns], f"{spec.filename}: header")
        _check(ws.cell(row=3, column=2).font.i and ws.freeze_panes == "A3", f"{spec.filename}: example row")
        for cell in ws[3]:
            if isinstance(cell.value, str) and TAX_RE.match(cell.value):
                _check(is_valid_tax_code(cell.value), f"{spec.filename}: example tax code")
        for i, (_, _, is_text) in enumerate(spec.columns):
            letter = get_column_letter(i + 1)
            if is_text:
                _check(ws.column_dimensions[letter].number_format == "@", f"{spec.filename}: column {letter} not text")
        import pandas as pd

        pd.read_excel(path, header=None, dtype=str, sheet_name=None, engine="openpyxl")
    summary.append("mau/: " + ", ".join(s.filename for s in TEMPLATES) + " (sheets Danh sách + Hướng dẫn)")
    return summary


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("samples", help="regenerate recipients/ samples and verify them")
    p.add_argument("--seed", type=int, default=SAMPLE_SEED)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p = sub.add_parser("verify", help="re-read and check the samples")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p = sub.add_parser("employers", help="write an N-row employer list (benchmark)")
    p.add_argument("n", type=int)
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=BENCH_SEED)
    p.add_argument("--no-borders", action="store_true", help="faster, smaller file")
    args = parser.parse_args(argv)

    if args.cmd == "employers":
        t0 = time.perf_counter()
        employers = generate_employers(args.n, args.seed)
        t1 = time.perf_counter()
        write_employers_xlsx(args.out, employers, borders=not args.no_borders)
        t2 = time.perf_counter()
        print(f"{args.out}: {len(employers)} employers (seed {args.seed}); "
              f"generate {t1 - t0:.1f}s, write {t2 - t1:.1f}s")
        return 0
    if args.cmd == "samples":
        write_samples(args.out, args.seed)
    try:
        lines = verify_samples(args.out)
    except CheckFailed as exc:
        print(f"VERIFY FAILED: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
