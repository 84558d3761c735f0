"""What the campaign page and the recipient page show, worked out from plain values: no request,
no Flask. The views gather the inputs (URL arguments, the store's rows, the message on disk) and
add the URLs; these decide what is listed, counted and warned about, and are tested as such."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..config import COPIES, Campaign, Sender
from .preview import MessageView
from .store import PER_PAGE, Filters, Page, Row, paginate


@dataclass(frozen=True)
class SenderGroup:
    """The letters one office sends (a department or a district office), counted by state."""

    code: str
    name: str
    counts: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def sender_groups(senders: Mapping[str, Sender], rows: Sequence[Row]) -> tuple[SenderGroup, ...]:
    """Every office with letters in the campaign, in config order (departments, then district offices)."""
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        counts.setdefault(row.draft.sender, Counter())[row.state] += 1
    order = [code for code in senders if code in counts] + sorted(code for code in counts if code not in senders)
    return tuple(SenderGroup(code, senders[code].name if code in senders else code, counts[code]) for code in order)


@dataclass(frozen=True)
class CampaignPage:
    """One campaign's recipients table: the filtered page, the counts and the filter choices."""

    rows: Sequence[Row]
    filters: Filters
    page: Page[Row]
    counts: Counter[str]  # by state, over every row
    selected_counts: Counter[str]  # by state, over the rows the filters keep
    audiences: tuple[str, ...]  # the campaign's audiences that have rows, in config order, then its Nơi nhận
    districts: tuple[str, ...]
    has_no_district: bool
    departments: tuple[tuple[str, str], ...]  # (sender code, its name)
    by_sender: tuple[SenderGroup, ...]  # over every row: who sends how many, in which state

    @classmethod
    def build(cls, campaign: Campaign, senders: Mapping[str, Sender], rows: Sequence[Row],
              args: Mapping[str, str]) -> CampaignPage:
        filters = Filters.from_args(args)
        selected = filters.apply(rows)
        codes = sorted({row.draft.sender for row in rows})
        by_sender = sender_groups(senders, rows)
        return cls(
            rows=rows,
            filters=filters,
            page=paginate(selected, args.get("page"), args.get("per")),
            counts=Counter(row.state for row in rows),
            selected_counts=Counter(row.state for row in selected),
            audiences=tuple(a for a in (*campaign.audiences, COPIES) if any(r.draft.audience == a for r in rows)),
            districts=tuple(sorted({row.draft.district for row in rows if row.draft.district})),
            has_no_district=any(not row.draft.district for row in rows),
            departments=tuple((code, senders[code].name if code in senders else code) for code in codes),
            by_sender=by_sender,
        )

    @property
    def base_args(self) -> dict[str, str]:
        """The filters without the state: the state tabs each add their own."""
        return {k: v for k, v in self.filters.args().items() if k != "state"}


@dataclass(frozen=True)
class RecipientPage:
    """One recipient's preview: where it sits in the filtered list, and what is wrong with it."""

    row: Row
    filters: Filters
    position: int | None  # in the filtered list; None when the filters leave this row out
    listed: int
    previous: Row | None
    next: Row | None
    problems: tuple[str, ...]  # Vietnamese, shown above the preview

    @classmethod
    def build(cls, rows: Sequence[Row], row: Row, args: Mapping[str, str], view: MessageView | None) -> RecipientPage:
        filters = Filters.from_args(args)
        listed = filters.apply(rows)
        position = next((i for i, r in enumerate(listed) if r.key == row.key), None)
        previous = listed[position - 1] if position else None
        following = listed[position + 1] if position is not None and position + 1 < len(listed) else None
        return cls(row, filters, position, len(listed), previous, following, _problems(row, view))

    @property
    def list_page(self) -> int:
        """The page of the campaign's table this recipient is on, for the way back."""
        return self.position // PER_PAGE + 1 if self.position is not None else 1


def _problems(row: Row, view: MessageView | None) -> tuple[str, ...]:
    problems = []
    if row.draft.to and view is None:
        problems.append("Không tìm thấy message.eml của thư này. Hãy tạo lại bản thảo.")
    if view is not None and view.sha256 != row.draft.message_sha256:
        problems.append("message.eml đã thay đổi sau khi tạo bản thảo: thư này không duyệt được. Hãy tạo lại bản thảo.")
    if view is not None and row.delivery is not None and row.delivery.message_sha256 != view.sha256:
        problems.append("Nội dung thư hiện tại khác với nội dung đã được duyệt: thư sẽ không được gửi cho tới khi "
                        "được duyệt lại.")
    return tuple(problems)
