"""What the pages show, read from the working folder: config, manifests, recipient lists, rows.

Manifests and checked recipient lists are cached by file stamp (mtime, size), so a page with
thousands of rows does not re-read 50,000 spreadsheet rows per request, and a rebuild or an edited
list is picked up at once.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Generic, TypeVar
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ..config import AUDIENCE_LABELS, Campaign, Config, load_config
from ..delivery import (DRAFT_STATES, FAILURE_STATES, Answer, Confirmation, Delivery, DraftState, State, Unsent,
                        answer_of, draft_state)
from ..errors import UserError
from ..outbox import Draft, Manifest, ManifestCache, letter_pages
from ..workspace import Workspace
from ..recipients import Problem, RecipientList, load_list
from ..recipients import campaign_list_files, check_coverage
from ..text import fold_diacritics, match_key

PROBLEM_NAMES = {
    "any": "Có vấn đề bất kỳ",
    "warning": "Có cảnh báo trong danh sách",
    "no_email": "Không có e-mail (gửi bản giấy)",
    "pages": "Số trang khác thường",
    "delivery": "Có lỗi khi gửi",
}
NO_DISTRICT = "-"
PER_PAGE = 50
MAX_PER_PAGE = 500


def audience_label(name: str) -> str:
    return AUDIENCE_LABELS.get(name, name)


@dataclass(frozen=True)
class CheckedList:
    path: Path
    kind: str
    result: RecipientList | None
    error: str = ""  # the file could not be read at all


@dataclass(frozen=True)
class Row:
    draft: Draft
    state: DraftState
    delivery: Delivery | None  # None when never approved, or the approval was revoked
    sender_name: str
    warnings: tuple[Problem, ...]  # warnings and conversions of the recipient's row in its list
    flags: frozenset[str]  # keys of PROBLEM_NAMES (without "any")
    folded: str  # name, code and addresses without diacritics, for the search box
    exact: str  # the same with diacritics (tone placement ignored)
    answer: Answer | None = None  # of a delivered letter: did its recipient confirm receipt
    confirmation: Confirmation | None = None

    @property
    def key(self) -> str:
        return self.draft.key

    @property
    def warning_count(self) -> int:
        return sum(1 for p in self.warnings if p.severity == "warning")

    @property
    def pages(self) -> int:
        return letter_pages(self.draft)


@dataclass(frozen=True)
class Filters:
    audience: str = ""
    district: str = ""
    department: str = ""
    state: str = ""
    problem: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "Filters":
        values = {f.name: " ".join(str(args.get(f.name, "")).split())[:200] for f in fields(cls)}
        if values["state"] not in DRAFT_STATES:
            values["state"] = ""
        if values["problem"] not in PROBLEM_NAMES:
            values["problem"] = ""
        return cls(**values)

    def args(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    @property
    def active(self) -> bool:
        return bool(self.args())

    def apply(self, rows: Iterable[Row]) -> list[Row]:
        needle, exact = _needle(self.q)
        district = "" if self.district == NO_DISTRICT else self.district
        return [
            row for row in rows
            if (not self.audience or row.draft.audience == self.audience)
            and (not self.district or row.draft.district == district)
            and (not self.department or row.draft.sender == self.department)
            and (not self.state or row.state == self.state)
            and (not self.problem or (row.flags if self.problem == "any" else self.problem in row.flags))
            and (not needle or needle in (row.exact if exact else row.folded))
        ]


def _needle(query: str) -> tuple[str, bool]:
    """What to look for, and whether diacritics count: typed without them (``kim ngan``) a query
    matches any tones; typed with them (``Thử``) it matches those tones only (not ``thuật``)."""
    if not query:
        return "", False
    folded = fold_diacritics(query)
    if folded == " ".join(query.casefold().split()):
        return folded, False
    return match_key(query), True


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    pages: int
    total: int
    per: int

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.number * self.per, self.total)


def paginate(items: Sequence[T], page: str | int | None, per: str | int | None,
             default_per: int = PER_PAGE) -> Page[T]:
    """One page of ``items``; whatever a URL says (empty, negative, past the end, not a number)
    gives a page that exists."""
    size = _int(per, default_per)
    size = min(size, MAX_PER_PAGE) if size >= 1 else default_per
    pages = max(1, math.ceil(len(items) / size))
    number = max(1, min(_int(page, 1), pages))
    return Page(items[(number - 1) * size: number * size], number, pages, len(items), size)


def _int(value: str | int | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


@dataclass
class Store:
    root: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _manifests: ManifestCache = field(default_factory=ManifestCache)
    _lists: dict[tuple[str, str], tuple[tuple, CheckedList]] = field(default_factory=dict)
    _rows: dict[str, tuple[tuple, list[Row]]] = field(default_factory=dict)

    def config(self) -> Config:
        # A wrong campaign table takes down its own pages only (its error is shown there and at home).
        return load_config(self.root, lenient_campaigns=True)

    def manifest(self, campaign: str) -> Manifest | None:
        """The campaign's manifest, or None when it was never built."""
        return self._manifests.get(self.root, campaign)

    def checked_lists(self, config: Config, audiences: Iterable[str] | None = None,
                      campaign: Campaign | None = None) -> list[CheckedList]:
        """Every recipient file of these audiences, read and checked as ``outreach validate`` does:
        the shared ``[audiences.X] files``, or what ``campaign`` reads (its own lists where it has them)."""
        result = []
        for audience in audiences if audiences is not None else config.audiences:
            try:
                paths = campaign_list_files(config, campaign, audience) if campaign else config.audiences[audience].files
            except UserError as error:  # two own files for one audience: said where the list would be
                result.append(CheckedList(Workspace(self.root).campaign_lists(campaign.name), audience, None,
                                          error.message))
                continue
            result.extend(self.checked_file(config, path, audience) for path in paths)
        return result

    def checked_file(self, config: Config, path: Path, audience: str) -> CheckedList:
        key = (str(path), audience)
        stamp = (_stamp(path), _stamp(Workspace(self.root).config_file))
        with self._lock:
            cached = self._lists.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            checked = CheckedList(path, audience, check_coverage(config, load_list(path, audience)))
        except UserError as error:
            checked = CheckedList(path, audience, None, error.message)
        with self._lock:
            self._lists[key] = (stamp, checked)
        return checked

    def rows(self, config: Config, manifest: Manifest, deliveries: Mapping[str, Delivery],
             confirmations: Mapping[str, Confirmation] | None = None,
             replied: Collection[str] = frozenset()) -> list[Row]:
        """One row per draft: its state from the ledger, its problems, its search text, and whether
        its recipient confirmed receipt or replied."""
        confirmations = confirmations or {}
        rows = []
        for base in self._base_rows(config, manifest):
            draft = base.draft
            delivery = deliveries.get(draft.key)
            state = draft_state(draft, delivery)
            active = delivery if delivery is not None and delivery.state != State.REVOKED else None
            failing = state in FAILURE_STATES or (active is not None and active.last_error)
            rows.append(replace(base, state=state, delivery=active,
                                flags=base.flags | {"delivery"} if failing else base.flags,
                                answer=answer_of(draft.key, state, confirmations, replied),
                                confirmation=confirmations.get(draft.key)))
        return rows

    def _base_rows(self, config: Config, manifest: Manifest) -> list[Row]:
        """What does not depend on the ledger, computed once per manifest, list and config version
        (folding 50,000 names for the search box on every request would take seconds)."""
        campaign = config.campaigns.get(manifest.campaign)
        audiences = campaign.audiences if campaign else sorted({d.audience for d in manifest.drafts})
        checked = self.checked_lists(config, [a for a in audiences if a in config.audiences], campaign)
        version = (manifest, _stamp(Workspace(self.root).config_file), *checked)
        with self._lock:
            cached = self._rows.get(manifest.campaign)
        if cached is not None and len(cached[0]) == len(version) and all(
                a is b if not isinstance(a, tuple) else a == b for a, b in zip(cached[0], version)):
            return cached[1]
        warnings = _warnings_by_key(checked)
        usual = manifest.usual_pages()
        senders = config.senders()
        rows = []
        for draft in manifest.drafts:
            found = tuple(warnings.get(draft.key, ()))
            flags = set()
            if any(p.severity == "warning" for p in found):
                flags.add("warning")
            if not draft.to:
                flags.add("no_email")
            pages = letter_pages(draft)
            if pages != usual.get(draft.audience, pages):
                flags.add("pages")
            sender = senders.get(draft.sender)
            searchable = " ".join((draft.name, draft.code, *draft.to, *draft.cc))
            rows.append(Row(
                draft=draft,
                state=Unsent.DRAFTED,
                delivery=None,
                sender_name=sender.name if sender else draft.sender,
                warnings=found,
                flags=frozenset(flags),
                folded=fold_diacritics(searchable),
                exact=match_key(searchable),
            ))
        with self._lock:
            self._rows[manifest.campaign] = (version, rows)
        return rows


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _warnings_by_key(lists: Iterable[CheckedList]) -> dict[str, list[Problem]]:
    """Warnings and conversions of each valid recipient's row (errors reject the row: no draft)."""
    found: dict[str, list[Problem]] = {}
    for checked in lists:
        if checked.result is None:
            continue
        by_row = {r.source_row: r.key for r in checked.result.recipients}
        for problem in checked.result.problems:
            key = by_row.get(problem.row)
            if key is not None and problem.severity != "error":
                found.setdefault(key, []).append(problem)
    return found


def find_row(rows: Sequence[Row], code: str, kind: str = "") -> Row | None:
    for row in rows:
        if row.draft.code == code and (not kind or row.draft.audience == kind):
            return row
    return None


def ambiguous_codes(rows: Sequence[Row]) -> set[str]:
    """Codes used in more than one audience: their links name the audience too."""
    counts = Counter(row.draft.code for row in rows)
    return {code for code, count in counts.items() if count > 1}
