"""Khánh Hòa's administrative units (2022), shipped with the package, and lookups by name or code.

Names are matched on :func:`outreach.text.vntext.match_key`, so ``Hoà``/``Hòa``, NFD text and case
do not matter, and with or without the unit type (``Vĩnh Hòa`` finds ``Phường Vĩnh Hòa``). A unit
is never required to have a district: the district level was abolished in 2025.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .vntext import match_key

DATA_FILE = "khanh-hoa-don-vi-hanh-chinh-2022.csv"
COMMUNE_TYPES = ("Phường", "Xã", "Thị trấn")
DISTRICT_TYPES = ("Thành phố", "Thị xã", "Huyện")


@dataclass(frozen=True)
class Commune:
    code: str
    name: str  # with its type, as the office writes it: "Phường Vĩnh Hòa"
    kind: str
    district: str | None
    district_code: str | None


@dataclass(frozen=True, eq=False)  # identity hash: the lookup caches below key on the instance
class AdminUnits:
    communes: tuple[Commune, ...]
    districts: tuple[str, ...]

    def commune_by_code(self, code: str) -> Commune | None:
        return _by_code(self).get(code.strip())

    @lru_cache(maxsize=4096)
    def find_commune(self, name: str, district: str | None = None) -> tuple[Commune, ...]:
        """Every commune the name may mean; narrowed by district when one is given and known."""
        candidates = _by_name(self).get(_strip_type(name, COMMUNE_TYPES), [])
        exact = [c for c in candidates if match_key(c.name) == match_key(name)]
        candidates = exact or candidates
        if district and len(candidates) > 1:
            wanted = self.find_district(district)
            candidates = [c for c in candidates if c.district == wanted] or candidates
        return tuple(candidates)

    @lru_cache(maxsize=1024)
    def find_district(self, name: str) -> str | None:
        key = _strip_type(name, DISTRICT_TYPES)
        for district in self.districts:
            if _strip_type(district, DISTRICT_TYPES) == key:
                return district
        return None


@lru_cache(maxsize=8192)
def _strip_type(name: str, types: tuple[str, ...]) -> str:
    key = match_key(name)
    for kind in types:
        prefix = match_key(kind) + " "
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


@lru_cache(maxsize=None)
def _by_code(units: AdminUnits) -> dict[str, Commune]:
    return {c.code: c for c in units.communes}


@lru_cache(maxsize=None)
def _by_name(units: AdminUnits) -> dict[str, list[Commune]]:
    index: dict[str, list[Commune]] = {}
    for commune in units.communes:
        index.setdefault(_strip_type(commune.name, COMMUNE_TYPES), []).append(commune)
    return index


@lru_cache(maxsize=1)
def load_admin_units() -> AdminUnits:
    text = resources.files("outreach.text").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    communes = tuple(
        Commune(
            code=row["commune_code"].strip(),
            name=row["commune"].strip(),
            kind=row["commune_type"].strip(),
            district=row["district"].strip() or None,
            district_code=row["district_code"].strip() or None,
        )
        for row in csv.DictReader(text.splitlines())
    )
    districts = tuple(dict.fromkeys(c.district for c in communes if c.district))
    return AdminUnits(communes=communes, districts=districts)
