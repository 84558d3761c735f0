"""Where a campaign stands: counts by state, the letters on paper, and the delivery report (one
XLSX row per recipient, e-mail and paper alike)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config import AUDIENCE_LABELS
from ..outbox import CHANNEL_LABELS, Draft, Manifest
from ..localtime import OFFICE_TIMEZONE
from ..text import append_row
from .ledger import CLAIMABLE, LABELS, Delivery, DraftState, Inbound, InboundMessage, Ledger, PauseState, State, Unsent
from .messenger import PAPER


@dataclass(frozen=True)
class PaperLetter:
    """One letter on paper: where it is printed and who posted it when."""

    key: str
    name: str
    state: DraftState
    where: str  # bundle and pages ("paper/lo-in-01-QLT.pdf, trang 3–4"), "" until printed
    posted_by: str
    posted_on: str | None  # YYYY-MM-DD


@dataclass(frozen=True)
class StatusCounts:
    campaign: str
    total: dict[str, int]
    by_audience: dict[str, dict[str, int]]
    by_district: dict[str, dict[str, int]]
    pause: PauseState
    paper: tuple[PaperLetter, ...] = ()


def draft_state(draft: Draft, delivery: Delivery | None) -> DraftState:
    """The delivery state, or ``drafted`` (not approved, or its approval revoked).

    An approval of bytes a rebuild has since replaced counts as none: `send` would refuse the
    message, so the status must not call it approved and waiting."""
    replaced = (delivery is not None and delivery.state in CLAIMABLE
                and delivery.message_sha256 != draft.payload_sha256)
    if delivery is None or delivery.state == State.REVOKED or replaced:
        return Unsent.DRAFTED
    return delivery.state


def _active(delivery: Delivery | None) -> Delivery | None:
    return delivery if delivery is not None and delivery.state != State.REVOKED else None


def campaign_status(ledger: Ledger, manifest: Manifest) -> StatusCounts:
    deliveries = ledger.deliveries(manifest.campaign)
    total: Counter[str] = Counter()
    by_audience: dict[str, Counter[str]] = {}
    by_district: dict[str, Counter[str]] = {}
    paper: list[PaperLetter] = []
    for draft in manifest.drafts:
        delivery = deliveries.get(draft.key)
        state = draft_state(draft, delivery)
        total[state] += 1
        by_audience.setdefault(draft.audience, Counter())[state] += 1
        by_district.setdefault(draft.district or "(không rõ huyện)", Counter())[state] += 1
        active = _active(delivery)
        if (active.channel if active else draft.channel) == PAPER:
            paper.append(PaperLetter(draft.key, draft.name, state, active.where if active else "",
                                     active.posted_by if active else "", active.posted_on if active else None))
    return StatusCounts(
        campaign=manifest.campaign,
        total=dict(total),
        by_audience={k: dict(v) for k, v in by_audience.items()},
        by_district={k: dict(v) for k, v in by_district.items()},
        pause=ledger.pause_state(manifest.campaign),
        paper=tuple(paper),
    )


REPORT_COLUMNS = (
    ("Mã", 14), ("Tên", 40), ("Nhóm", 28), ("Địa chỉ e-mail", 34), ("Đồng gửi (Cc)", 30), ("Trạng thái", 18),
    ("Kênh gửi", 12), ("Số lần gửi", 10), ("Thời gian gửi", 20), ("Message-ID", 50), ("Phản hồi máy chủ", 50),
    ("Bản in (tệp, trang)", 36), ("Người gửi bưu điện", 20), ("Ngày gửi bưu điện", 14), ("Ghi chú", 50),
    ("SHA-256 các tệp", 80), ("Người duyệt", 20), ("Thời gian duyệt", 20),
    ("Thư báo trả lại", 50), ("Trả lời của người nhận", 60),
)


def write_delivery_report(ledger: Ledger, manifest: Manifest, path: Path, timezone: str = OFFICE_TIMEZONE) -> Path:
    """One row per recipient, Vietnamese headers, times in local time; written atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    tz = ZoneInfo(timezone)
    deliveries = ledger.deliveries(manifest.campaign)
    inbound: dict[str, list[InboundMessage]] = {}
    for message in ledger.inbound(manifest.campaign, kinds=(Inbound.BOUNCE, Inbound.REPLY)):
        inbound.setdefault(message.key, []).append(message)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Gửi thư"
    sheet.append([title for title, _ in REPORT_COLUMNS])
    for draft in manifest.drafts:
        append_row(sheet, _report_row(draft, deliveries.get(draft.key), manifest, tz) +
                   _inbound_cells(inbound.get(draft.key, ()), tz))
    for index, (_, width) in enumerate(REPORT_COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
        sheet.cell(1, index).font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "dd/mm/yyyy"
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    workbook.save(temporary)
    temporary.replace(path)
    return path


def _report_row(draft: Draft, delivery: Delivery | None, manifest: Manifest, tz: ZoneInfo) -> list[object]:
    state = draft_state(draft, delivery)
    active = _active(delivery)
    claimed = active if active is not None and active.started_at else None  # handed to a channel at least once
    hashes = claimed.file_hashes if claimed else {f.name: f.sha256 for f in (*draft.files, *manifest.attachments)}
    channel = active.channel if active else draft.channel
    paper = active if active is not None and channel == PAPER else None  # its answer is the bundle, not a server's
    email = active if active is not None and paper is None else None
    reply = ""
    if email and email.reply:
        reply = f"{email.code or ''} {email.reply}".strip()
    return [
        draft.code,
        draft.name,
        AUDIENCE_LABELS.get(draft.audience, draft.audience),
        "; ".join(claimed.to if claimed else draft.to),
        "; ".join(claimed.cc if claimed else draft.cc),
        LABELS[state].long,
        CHANNEL_LABELS.get(channel, channel),
        active.attempts if active else 0,
        _excel_time(email.sent_at if email else None, tz),
        email.message_id if email else "",
        reply,
        paper.where if paper else "",
        paper.posted_by if paper else "",
        dt.date.fromisoformat(paper.posted_on) if paper and paper.posted_on else None,
        active.last_error if active else "",
        "\n".join(f"{name}: {sha}" for name, sha in sorted(hashes.items())),
        active.approved_by if active else "",
        _excel_time(active.approved_at if active else None, tz),
    ]


def _inbound_cells(messages: Sequence[InboundMessage], tz: ZoneInfo) -> list[object]:
    """The bounce notifications (status, the server's words, the evidence file) and the replies with their text."""
    def when(message: InboundMessage) -> str:
        return f"{dt.datetime.fromisoformat(message.at).astimezone(tz):%d/%m/%Y %H:%M}"

    bounces = [f"{when(m)}: {m.status} {m.text} ({m.evidence})" for m in messages if m.kind == Inbound.BOUNCE]
    replies = [f"{when(m)}, {m.from_address}: {m.text}" for m in messages if m.kind == Inbound.REPLY]
    return ["\n".join(bounces), "\n\n".join(replies)]


def _excel_time(value: str | None, tz: ZoneInfo) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(tz).replace(tzinfo=None) if value else None

