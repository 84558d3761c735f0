"""Where a campaign stands: counts by state, and the delivery report (one XLSX row per recipient)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config import AUDIENCE_LABELS
from ..outbox.manifest import Draft, Manifest
from ..localtime import OFFICE_TIMEZONE
from ..text import append_row
from .ledger import CLAIMABLE, LABELS, Delivery, DraftState, Ledger, PauseState, State, Unsent



@dataclass(frozen=True)
class StatusCounts:
    campaign: str
    total: dict[str, int]
    by_audience: dict[str, dict[str, int]]
    by_district: dict[str, dict[str, int]]
    pause: PauseState


def draft_state(draft: Draft, delivery: Delivery | None) -> DraftState:
    """The delivery state, or ``drafted`` (not approved) / ``paper`` (no e-mail: print bundle).

    An approval of bytes a rebuild has since replaced counts as none: `send` would refuse the
    message, so the status must not call it approved and waiting."""
    replaced = (delivery is not None and delivery.state in CLAIMABLE
                and delivery.message_sha256 != draft.message_sha256)
    if delivery is None or delivery.state == State.REVOKED or replaced:
        return Unsent.DRAFTED if draft.to else Unsent.PAPER
    return delivery.state


def campaign_status(ledger: Ledger, manifest: Manifest) -> StatusCounts:
    deliveries = ledger.deliveries(manifest.campaign)
    total: Counter[str] = Counter()
    by_audience: dict[str, Counter[str]] = {}
    by_district: dict[str, Counter[str]] = {}
    for draft in manifest.drafts:
        state = draft_state(draft, deliveries.get(draft.key))
        total[state] += 1
        by_audience.setdefault(draft.audience, Counter())[state] += 1
        by_district.setdefault(draft.district or "(không rõ huyện)", Counter())[state] += 1
    return StatusCounts(
        campaign=manifest.campaign,
        total=dict(total),
        by_audience={k: dict(v) for k, v in by_audience.items()},
        by_district={k: dict(v) for k, v in by_district.items()},
        pause=ledger.pause_state(manifest.campaign),
    )


REPORT_COLUMNS = (
    ("Mã", 14), ("Tên", 40), ("Nhóm", 28), ("Địa chỉ e-mail", 34), ("Đồng gửi (Cc)", 30), ("Trạng thái", 18),
    ("Số lần gửi", 10), ("Thời gian gửi", 20), ("Message-ID", 50), ("Phản hồi máy chủ", 50), ("Ghi chú", 50),
    ("SHA-256 các tệp", 80), ("Người duyệt", 20), ("Thời gian duyệt", 20),
)


def write_delivery_report(ledger: Ledger, manifest: Manifest, path: Path, timezone: str = OFFICE_TIMEZONE) -> Path:
    """One row per recipient, Vietnamese headers, times in local time; written atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    tz = ZoneInfo(timezone)
    deliveries = ledger.deliveries(manifest.campaign)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Gửi thư"
    sheet.append([title for title, _ in REPORT_COLUMNS])
    for draft in manifest.drafts:
        append_row(sheet, _report_row(draft, deliveries.get(draft.key), manifest, tz))
    for index, (_, width) in enumerate(REPORT_COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
        sheet.cell(1, index).font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    workbook.save(temporary)
    temporary.replace(path)
    return path


def _report_row(draft: Draft, delivery: Delivery | None, manifest: Manifest, tz: ZoneInfo) -> list[object]:
    state = draft_state(draft, delivery)
    active = delivery if delivery is not None and delivery.state != State.REVOKED else None
    claimed = active if active is not None and active.started_at else None  # handed to a server at least once
    hashes = claimed.file_hashes if claimed else {f.name: f.sha256 for f in (*draft.files, *manifest.attachments)}
    reply = ""
    if active and active.reply:
        reply = f"{active.code or ''} {active.reply}".strip()
    return [
        draft.code,
        draft.name,
        AUDIENCE_LABELS.get(draft.audience, draft.audience),
        "; ".join(claimed.to if claimed else draft.to),
        "; ".join(claimed.cc if claimed else draft.cc),
        LABELS[state].long,
        active.attempts if active else 0,
        _excel_time(active.sent_at if active else None, tz),
        active.message_id if active else "",
        reply,
        active.last_error if active else "",
        "\n".join(f"{name}: {sha}" for name, sha in sorted(hashes.items())),
        active.approved_by if active else "",
        _excel_time(active.approved_at if active else None, tz),
    ]


def _excel_time(value: str | None, tz: ZoneInfo) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(tz).replace(tzinfo=None) if value else None

