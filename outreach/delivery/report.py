"""Where a campaign stands: counts by state, the letters on paper, whether the recipients of the
letters delivered answered, and the delivery report (one XLSX row per recipient, e-mail and paper
alike)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config import AUDIENCE_LABELS
from ..outbox import CHANNEL_LABELS, Draft, Manifest, RejectedRow
from ..localtime import OFFICE_TIMEZONE, local_time
from ..text import append_row
from .ledger import (CLAIMABLE, DELIVERED, DRAFT_STATES, LABELS, Answer, Confirmation, Delivery, DraftState, Inbound,
                     InboundMessage, Ledger, PauseState, State, Unsent)
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
    rejected: tuple[RejectedRow, ...] = ()  # rows with no letter: counted, never left out of view
    answers: dict[str, int] = field(default_factory=dict)  # of the letters delivered: Answer -> how many
    by_sender: dict[str, dict[str, int]] = field(default_factory=dict)  # sender code → counts by state


def answer_of(key: str, state: DraftState, confirmations: Mapping[str, Confirmation],
              replied: Collection[str] = frozenset()) -> Answer | None:
    """What the recipient of a delivered letter did (None: not delivered, nothing to answer): a
    confirmation says most (receipt itself), then a reply read from the mailboxes (collect)."""
    if state not in DELIVERED:
        return None
    if key in confirmations:
        return Answer.CONFIRMED
    return Answer.REPLIED if key in replied else Answer.UNANSWERED


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
    by_sender: dict[str, Counter[str]] = {}
    paper: list[PaperLetter] = []
    answers: Counter[str] = Counter()
    confirmations = ledger.confirmations(manifest.campaign)
    replied = ledger.replied_keys(manifest.campaign)
    for draft in manifest.drafts:
        delivery = deliveries.get(draft.key)
        state = draft_state(draft, delivery)
        total[state] += 1
        answer = answer_of(draft.key, state, confirmations, replied)
        if answer is not None:
            answers[answer] += 1
        by_audience.setdefault(draft.audience, Counter())[state] += 1
        by_district.setdefault(draft.district or "(không rõ huyện)", Counter())[state] += 1
        by_sender.setdefault(draft.sender, Counter())[state] += 1
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
        rejected=manifest.rejected_rows,
        answers=dict(answers),
        by_sender={k: dict(v) for k, v in by_sender.items()},
    )


REPORT_COLUMNS = (
    ("Mã", 14), ("Tên", 40), ("Nhóm", 28), ("Địa chỉ e-mail", 34), ("Đồng gửi (Cc)", 30), ("Trạng thái", 18),
    ("Xác nhận đã nhận", 30),
    ("Cơ quan gửi", 36), ("Kênh gửi", 12), ("Số lần gửi", 10), ("Thời gian gửi", 20), ("Message-ID", 50), ("Phản hồi máy chủ", 50),
    ("Bản in (tệp, trang)", 36), ("Người gửi bưu điện", 20), ("Ngày gửi bưu điện", 14), ("Ghi chú", 50),
    ("SHA-256 các tệp", 80), ("Người duyệt", 20), ("Thời gian duyệt", 20),
    ("Thư báo trả lại", 50), ("Trả lời của người nhận", 60),
)


# What the office does next for a letter that has not reached its recipient, by the state it is in.
NEXT_STEPS: dict[DraftState, str] = {
    Unsent.DRAFTED: "Xem trước rồi duyệt thư (hoặc tạo lại bản thảo nếu danh sách đã sửa).",
    State.APPROVED: "Chờ lượt gửi theo lịch của phòng, hoặc bấm gửi ngay.",
    State.SENDING: "Đang gửi: chờ kết quả.",
    State.RETRYING: "Máy chủ thư tạm từ chối; thư sẽ được tự động gửi lại.",
    State.FAILED: "Máy chủ thư từ chối hẳn: kiểm tra địa chỉ e-mail trong danh sách, sửa, tạo lại bản thảo và duyệt lại.",
    State.UNCERTAIN: "Không rõ máy chủ đã nhận thư chưa: kiểm tra hộp thư đã gửi rồi xác nhận «đã gửi» hoặc «gửi lại».",
    State.PRINTED: "Đã in: gửi qua bưu điện rồi ghi nhận «đã gửi bưu điện».",
}


def not_received(ledger: Ledger, manifest: Manifest) -> list[tuple[Draft, DraftState]]:
    """Every recipient whose letter has not reached the end of its road (sent by e-mail, or posted),
    whatever the reason, with the state it is in: the list an office works through before closing."""
    deliveries = ledger.deliveries(manifest.campaign)
    found = [(draft, draft_state(draft, deliveries.get(draft.key))) for draft in manifest.drafts]
    return [(draft, state) for draft, state in found if state not in DELIVERED]


def write_delivery_report(ledger: Ledger, manifest: Manifest, path: Path, timezone: str = OFFICE_TIMEZONE,
                          only_not_received: bool = False, senders: Mapping[str, str] | None = None) -> Path:
    """One row per recipient (``only_not_received``: per recipient not reached yet), grouped by the
    office that sends it (``senders``: code → name, in the order to list them), Vietnamese headers,
    times in local time; a second sheet counts each office's letters by state. Written atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    tz = ZoneInfo(timezone)
    deliveries = ledger.deliveries(manifest.campaign)
    confirmations = ledger.confirmations(manifest.campaign)
    replied = ledger.replied_keys(manifest.campaign)
    inbound: dict[str, list[InboundMessage]] = {}
    for message in ledger.inbound(manifest.campaign, kinds=(Inbound.BOUNCE, Inbound.REPLY)):
        inbound.setdefault(message.key, []).append(message)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Gửi thư"
    sheet.append([title for title, _ in REPORT_COLUMNS])
    listed = [draft for draft, _ in not_received(ledger, manifest)] if only_not_received else manifest.drafts
    names = dict(senders or {})
    order = {code: index for index, code in enumerate([*names, *sorted({d.sender for d in listed} - set(names))])}
    drafts = sorted(listed, key=lambda d: order[d.sender])  # stable: the manifest's order within an office
    for draft in drafts:
        append_row(sheet, _report_row(draft, deliveries.get(draft.key), manifest, tz, confirmations, replied,
                                      _office(names, draft.sender)) + _inbound_cells(inbound.get(draft.key, ()), tz))
    # The rows validation refused are part of the campaign's record; the not-received view lists
    # letters, as its page does, and a refused row has none (the campaign page shows them, "bị loại").
    for rejected in () if only_not_received else manifest.rejected_rows:
        append_row(sheet, _rejected_row(rejected))
    _sender_sheet(workbook.create_sheet("Theo cơ quan gửi"), drafts, deliveries, names, Font(bold=True))
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


def _office(names: Mapping[str, str], code: str) -> str:
    return f"{names[code]} ({code})" if code in names else code


def _sender_sheet(sheet, drafts: list[Draft], deliveries: Mapping[str, Delivery], names: Mapping[str, str], bold) -> None:
    """Per office: how many letters, and how many in each state that occurs."""
    counts: dict[str, Counter[str]] = {}
    for draft in drafts:
        counts.setdefault(draft.sender, Counter())[draft_state(draft, deliveries.get(draft.key))] += 1
    states = [s for s in DRAFT_STATES if any(s in c for c in counts.values())]
    sheet.append(["Cơ quan gửi", "Số thư", *(LABELS[s].long for s in states)])
    for code, count in counts.items():
        append_row(sheet, [_office(names, code), sum(count.values()), *(count[s] for s in states)])
    for cell in sheet[1]:
        cell.font = bold
    sheet.column_dimensions["A"].width = 50


def _report_row(draft: Draft, delivery: Delivery | None, manifest: Manifest, tz: ZoneInfo,
                confirmations: Mapping[str, Confirmation], replied: Collection[str], office: str) -> list[object]:
    state = draft_state(draft, delivery)
    answer = answer_of(draft.key, state, confirmations, replied)
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
        answer_text(answer, confirmations.get(draft.key), tz),
        office,
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


def _rejected_row(rejected: RejectedRow) -> list[object]:
    """A row of the list that has no letter: where it is and why, under the same headers."""
    values = {"Tên": f"(dòng {rejected.row} của {Path(rejected.file).name})",
              "Nhóm": AUDIENCE_LABELS.get(rejected.audience, rejected.audience),
              "Trạng thái": LABELS[Unsent.REJECTED].long, "Ghi chú": rejected.reason}
    return [values.get(title, "") for title, _ in REPORT_COLUMNS]


def answer_text(answer: Answer | None, confirmation: Confirmation | None, tz: ZoneInfo | None = None) -> str:
    """``Đã xác nhận lúc 09:12 ngày 10/01/2023 (từ 192.0.2.7)``, ``Chưa xác nhận``, or "" when not delivered."""
    if answer is None:
        return ""
    if answer == Answer.CONFIRMED and confirmation is not None:
        when = local_time(confirmation.at, tz) if tz else local_time(confirmation.at)
        return f"{LABELS[answer].short} lúc {when} (từ {confirmation.address})"
    return LABELS[answer].short


def _excel_time(value: str | None, tz: ZoneInfo) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(tz).replace(tzinfo=None) if value else None

