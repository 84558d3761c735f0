"""Approval and the other decisions people record: staff bind a draft to the exact bytes of its
payload (``message.eml``; ``letter.pdf`` for a letter on paper), or withdraw that.

* ``approve`` binds an approval to the sha256 of the draft's payload as it is on disk now, and
  keeps a copy of those bytes (``outbox/<campaign>/approved/…``): the evidence of what was sent
  survives a later rebuild of the draft. Nothing goes out unapproved, on paper either. It tells an
  ``on_step`` observer each payload checked (the web page's count of a long approval);
  ``check_approver`` is its refusals that read no payload, for a caller to ask before it starts.
* ``revoke`` withdraws approvals not yet handed to the channel; ``resolve`` is a person's decision
  on an ``uncertain`` message; ``resume`` lifts a campaign's pause; ``post`` records who took
  printed letters to the post office, and on which day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..accounts import Actor
from ..errors import UserError
from ..localtime import OFFICE_TZ, day_of
from ..outbox import Draft, Manifest, OnStep, Step, no_steps
from ..workspace import Workspace
from ..sign import signing_gate
from .ledger import (
    CLAIMABLE,
    EVIDENCE,
    LABELS,
    POSTABLE,
    REVOCABLE,
    ApprovalRequest,
    Delivery,
    Ledger,
    State,
    Unsent,
    utc_now,
)
from .messenger import PAPER

Clock = Callable[[], dt.datetime]
# Reading, hashing and copying payloads wait on the disk or run in hashlib, both outside the GIL.
APPROVAL_WORKERS = 4
APPROVE_PHASE = "Đang duyệt thư"  # each payload read, hashed against the manifest and kept
RECORD_PHASE = "Đang ghi nhận việc duyệt"  # the approvals written to the ledger, all in one transaction


class FourEyes(UserError):
    """Approval refused: the approving account built the campaign's drafts (``[web] four_eyes``)."""


def approve(root: Path, ledger: Ledger, manifest: Manifest, by: Actor | str, keys: Sequence[str] | None = None,
            *, clock: Clock = utc_now, four_eyes: bool = True, on_step: OnStep = no_steps) -> list[Delivery]:
    """Approve drafts (all, e-mail and paper, when ``keys`` is None) for their payload's current bytes.

    All or nothing: any draft changed since build, or already sent (when named), refuses the whole
    approval with one Vietnamese message listing every problem. ``four_eyes``: an account that ran a
    build of the campaign approves none of its drafts (:class:`FourEyes`, before anything is read).
    ``on_step`` is told each draft checked (:data:`APPROVE_PHASE`), then the ledger's write.
    """
    person = check_approver(ledger, manifest, by, four_eyes=four_eyes)
    current = ledger.deliveries(manifest.campaign)
    named = keys is not None
    drafts = _select(manifest, keys)
    on_step(Step(APPROVE_PHASE, 0, len(drafts)))
    checked: list[_Checked] = []
    with ThreadPoolExecutor(APPROVAL_WORKERS) as pool:  # in manifest order, whatever order they finish in
        for done, check in enumerate(pool.map(lambda draft: _check_and_keep(root, draft, current.get(draft.key), named),
                                              drafts), start=1):
            checked.append(check)
            on_step(Step(APPROVE_PHASE, done, len(drafts)))
    gate = signing_gate(root)  # serially: it verifies signatures with pyHanko, which is CPU, and caches
    problems = [c.problem or gate.refusal(c.draft) for c in checked if c.problem or c.matches]
    problems = [problem for problem in problems if problem]
    if problems:
        for c in checked:
            if c.created is not None:
                c.created.unlink(missing_ok=True)  # nothing was approved: keep no copy of approved bytes
        raise UserError("Không duyệt thư nào vì:\n" + _bullets(problems) +
                        f"\nCách sửa: chạy lại 'outreach build {manifest.campaign}', xem lại rồi duyệt lại.")
    requests = [c.request for c in checked if c.request is not None]
    on_step(Step(RECORD_PHASE, 0, len(requests)))
    approved = ledger.approve(manifest.campaign, requests, person, clock())
    on_step(Step(RECORD_PHASE, len(requests), len(requests)))
    return approved


def check_approver(ledger: Ledger, manifest: Manifest, by: Actor | str, *, four_eyes: bool = True) -> Actor:
    """The person recorded for an approval of ``manifest``'s drafts, or the refusal that reads no payload:
    no name, the four-eyes rule (:class:`FourEyes`), a letter without its number."""
    person = _person(by, "người duyệt")
    if four_eyes and person.login and person.login in ledger.builders(manifest.campaign):
        raise FourEyes(f"Tài khoản {person.login} ({person.name}) đã tạo bản thảo của chiến dịch {manifest.campaign} "
                       "(tạo bản thảo là đưa danh sách và mẫu công văn vào thư), nên không được tự duyệt các thư này: "
                       "mỗi công văn phải được một người khác xem và duyệt. Không có thư nào được duyệt. Cách sửa: "
                       "đề nghị một người có vai trò duyệt khác duyệt.")
    if not manifest.numbered:
        raise UserError(f"Công văn của chiến dịch {manifest.campaign} chưa được cấp số: bản thảo còn ghi "
                        f"'Số: {manifest.document_number.strip()}'. Cách sửa: chạy 'outreach issue {manifest.campaign}' "
                        "để lấy số trong sổ văn bản đi (thư sẽ được tạo lại với số đó), xem lại rồi duyệt.")
    return person


@dataclass(frozen=True)
class _Checked:
    draft: Draft
    problem: str = ""
    matches: bool = False  # its payload is the one the manifest names: the signing gate looks at it next
    request: ApprovalRequest | None = None  # None: nothing to record (refused, or approved already)
    created: Path | None = None  # the approved copy written for this request


def _check_and_keep(root: Path, draft: Draft, delivery: Delivery | None, named: bool) -> _Checked:
    """One draft's checks that read its payload, and the copy of the bytes to approve (read once)."""
    refusal = _approval_refusal(draft, delivery)
    if refusal:
        return _Checked(draft, refusal if named else "")
    data = _read_payload(root, draft)
    actual = hashlib.sha256(data).hexdigest() if data is not None else "(không có tệp)"
    if actual != draft.payload_sha256:
        return _Checked(draft, f"{_who(draft)}: {draft.payload} đã thay đổi sau khi tạo bản thảo "
                               f"({_short(draft.payload_sha256)} → {_short(actual)}).")
    if delivery and delivery.state == State.APPROVED and delivery.message_sha256 == actual:
        return _Checked(draft, matches=True)
    assert data is not None
    created = _keep_approved_copy(root, draft, actual, data)
    return _Checked(draft, matches=True, request=ApprovalRequest(draft.key, draft.sender, actual, draft.channel),
                    created=created)


def revoke(ledger: Ledger, manifest: Manifest, by: Actor | str, keys: Sequence[str] | None = None, note: str = "",
           *, clock: Clock = utc_now) -> list[Delivery]:
    """Withdraw approvals not yet handed to the server (approved, retrying, failed)."""
    person = _person(by, "người hủy duyệt")
    current = ledger.deliveries(manifest.campaign)
    targets: list[str] = []
    problems: list[str] = []
    for draft in _select(manifest, keys):
        delivery = current.get(draft.key)
        if delivery is not None and delivery.state in REVOCABLE:
            targets.append(draft.key)
        elif keys is not None:
            state = LABELS[delivery.state if delivery else Unsent.DRAFTED].long
            problems.append(f"{_who(draft)}: đang ở trạng thái '{state}', không hủy duyệt được.")
    if problems:
        raise UserError("Không hủy duyệt thư nào vì:\n" + _bullets(problems))
    return ledger.revoke(manifest.campaign, targets, person, note.strip(), clock())


def resolve(ledger: Ledger, campaign: str, key: str, decision: Literal["sent", "resend"], by: Actor | str, note: str,
            *, clock: Clock = utc_now) -> Delivery:
    """A person settles an ``uncertain`` message: it did arrive (``sent``) or must go again (``resend``)."""
    person = _person(by, "người quyết định")
    if decision not in ("sent", "resend"):
        raise UserError(f"Quyết định '{decision}' không hợp lệ. Dùng 'sent' (đã đến nơi) hoặc 'resend' (gửi lại).")
    if not note.strip():
        raise UserError("Cần ghi lý do (ví dụ: 'đã gọi điện, đơn vị xác nhận đã nhận') để lưu làm bằng chứng.")
    return ledger.resolve(campaign, key, decision, person, note.strip(), clock())


def resume(ledger: Ledger, campaign: str, by: Actor | str, *, clock: Clock = utc_now) -> None:
    ledger.resume(campaign, _person(by, "người cho gửi tiếp"), clock())


def post(ledger: Ledger, manifest: Manifest, by: str, keys: Sequence[str] | None = None,
         on: dt.date | None = None, *, clock: Clock = utc_now) -> list[Delivery]:
    """Record that ``by`` posted printed letters on ``on`` (default: today, office time): every
    printed letter not yet posted when ``keys`` is None.

    All or nothing: a named letter that is not printed (not approved, revoked, e-mailed, not in a
    bundle yet, already posted), or a day before its printing or after today, refuses the whole
    record with one Vietnamese message listing every problem.
    """
    person = _person(by, "người gửi bưu điện")
    now = clock()
    today = now.astimezone(OFFICE_TZ).date()
    day = on or today
    if day > today:
        raise UserError(f"Ngày gửi bưu điện {day:%d/%m/%Y} chưa tới (hôm nay là {today:%d/%m/%Y}). "
                        "Cách sửa: ghi ngày thư đã thực sự được mang ra bưu điện.")
    current = ledger.deliveries(manifest.campaign)
    targets: list[str] = []
    problems: list[str] = []
    for draft in _select(manifest, keys):
        delivery = current.get(draft.key)
        if delivery is None or delivery.state not in POSTABLE:
            if keys is not None:
                problems.append(_posting_refusal(manifest.campaign, draft, delivery))
            continue
        printed = dt.datetime.fromisoformat(delivery.sent_at or delivery.updated_at).astimezone(OFFICE_TZ).date()
        if day < printed:
            problems.append(f"{_who(draft)}: được in ngày {printed:%d/%m/%Y}, không thể đã gửi bưu điện "
                            f"ngày {day:%d/%m/%Y}.")
        else:
            targets.append(draft.key)
    if problems:
        raise UserError("Không ghi nhận thư nào đã gửi bưu điện vì:\n" + _bullets(problems))
    if not targets:
        raise UserError(f"Chiến dịch {manifest.campaign} không có thư giấy nào đã in đang chờ gửi bưu điện. "
                        f"Thư giấy đã duyệt được xếp vào bản in khi chạy 'outreach send {manifest.campaign}'.")
    return ledger.post(manifest.campaign, targets, person, day, now)


def _posting_refusal(campaign: str, draft: Draft, delivery: Delivery | None) -> str:
    if delivery is None or delivery.state == State.REVOKED:
        return f"{_who(draft)}: chưa được duyệt; thư chưa duyệt không được gửi đi, kể cả bản giấy."
    if delivery.state == State.POSTED:
        return (f"{_who(draft)}: đã được {delivery.posted_by} gửi bưu điện ngày {day_of(delivery.posted_on)}, "
                "không ghi nhận lần nữa.")
    if delivery.channel != PAPER:
        return f"{_who(draft)}: gửi bằng e-mail ('{LABELS[delivery.state].long}'), không phải thư giấy."
    if delivery.state in CLAIMABLE:
        return (f"{_who(draft)}: đã duyệt nhưng chưa được xếp vào bản in. Cách sửa: chạy 'outreach send "
                f"{campaign}' để tạo bản in, in ra và gửi đi rồi mới ghi nhận.")
    return f"{_who(draft)}: đang ở trạng thái '{LABELS[delivery.state].long}', chưa in nên chưa gửi bưu điện được."


def _approval_refusal(draft: Draft, delivery: Delivery | None) -> str:
    if not draft.payload:
        return f"{_who(draft)}: không gửi được qua kênh '{draft.channel}', không có gì để duyệt."
    if delivery is not None and delivery.state == State.SENT:
        return f"{_who(draft)}: đã gửi lúc {delivery.sent_at}, không duyệt để gửi lại."
    if delivery is not None and delivery.state in EVIDENCE:
        return f"{_who(draft)}: đang ở trạng thái '{LABELS[delivery.state].long}', không duyệt lại."
    return ""


def approved_copy_path(root: Path, draft: Draft, message_sha256: str) -> Path:
    """The approved bytes, kept at approval: what is sent is byte-identical (same sha256), and the
    copy survives a later rebuild of the draft, as evidence of what the recipient received."""
    return Workspace(root).approved_copy(draft.campaign, draft.audience, draft.code, message_sha256,
                                         Path(draft.payload).suffix)


def _keep_approved_copy(root: Path, draft: Draft, message_sha256: str, data: bytes) -> Path | None:
    """The approved copy of ``data``, written unless it exists; the path when written now. A copy of its
    own, never a link to the draft's file: bytes written into the draft later must not reach it."""
    path = approved_copy_path(root, draft, message_sha256)
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    return path


def _select(manifest: Manifest, keys: Sequence[str] | None) -> list[Draft]:
    if keys is None:
        return list(manifest.drafts)
    return [manifest.draft(key) for key in dict.fromkeys(keys)]


def _read_payload(root: Path, draft: Draft) -> bytes | None:
    if not draft.payload:
        return None
    try:
        return draft.path(root, draft.payload).read_bytes()
    except FileNotFoundError:
        return None


def _person(by: Actor | str, role: str) -> Actor:
    """The actor recorded: an account's, or a name typed in where no accounts exist (a plain string)."""
    actor = by if isinstance(by, Actor) else Actor(by)
    name = " ".join(actor.name.split())
    if not name:
        raise UserError(f"Cần ghi tên {role} (ví dụ --by 'Nguyễn Văn A') để lưu làm bằng chứng.")
    return Actor(name, actor.login, actor.source)


def _who(draft: Draft) -> str:
    return f"{draft.key} ({draft.name})"


def _short(sha: str) -> str:
    return sha[:12] + "…" if len(sha) == 64 else sha


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def approved_states(ledger: Ledger, campaign: str) -> dict[str, str]:
    """Drafts whose bytes an approval binds (key → its state, in words): what signing must not touch.
    A revoked or failed approval binds nothing any more."""
    return {key: LABELS[d.state].long for key, d in ledger.deliveries(campaign).items()
            if d.state not in (State.REVOKED, State.FAILED)}
