"""Approval: staff bind a draft to the exact bytes of its ``message.eml``, or withdraw that.

* ``approve`` binds an approval to the sha256 of the draft's ``message.eml`` as it is on disk now,
  and keeps a copy of those bytes (``outbox/<campaign>/approved/…``): the evidence of what was
  sent survives a later rebuild of the draft.
* ``revoke`` withdraws approvals not yet handed to the server; ``resolve`` is a person's decision
  on an ``uncertain`` message; ``resume`` lifts a campaign's pause.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from ..accounts import Actor
from ..errors import UserError
from ..outbox.manifest import Draft, Manifest
from ..workspace import Workspace
from ..sign import signing_gate
from .ledger import EVIDENCE, LABELS, REVOCABLE, ApprovalRequest, Delivery, Ledger, State, Unsent, utc_now

Clock = Callable[[], dt.datetime]



def approve(root: Path, ledger: Ledger, manifest: Manifest, by: Actor | str, keys: Sequence[str] | None = None,
            *, clock: Clock = utc_now) -> list[Delivery]:
    """Approve drafts (all with e-mail when ``keys`` is None) for their current ``message.eml`` bytes.

    All or nothing: any draft changed since build, without e-mail or already sent (when named)
    refuses the whole approval with one Vietnamese message listing every problem.
    """
    person = _person(by, "người duyệt")
    if not manifest.numbered:
        raise UserError(f"Công văn của chiến dịch {manifest.campaign} chưa được cấp số: bản thảo còn ghi "
                        f"'Số: {manifest.document_number.strip()}'. Cách sửa: chạy 'outreach issue {manifest.campaign}' "
                        "để lấy số trong sổ văn bản đi (thư sẽ được tạo lại với số đó), xem lại rồi duyệt.")
    current = ledger.deliveries(manifest.campaign)
    gate = signing_gate(root)
    approved: list[tuple[Draft, ApprovalRequest, bytes]] = []
    problems: list[str] = []
    for draft in _select(manifest, keys):
        delivery = current.get(draft.key)
        refusal = _approval_refusal(draft, delivery)
        if refusal:
            if keys is not None:
                problems.append(refusal)
            continue
        data = _read_eml(root, draft)
        actual = hashlib.sha256(data).hexdigest() if data is not None else "(không có tệp)"
        if actual != draft.message_sha256:
            problems.append(f"{_who(draft)}: message.eml đã thay đổi sau khi tạo bản thảo "
                            f"({_short(draft.message_sha256)} → {_short(actual)}).")
        elif unsigned := gate.refusal(draft):
            problems.append(unsigned)
        elif not (delivery and delivery.state == State.APPROVED and delivery.message_sha256 == actual):
            approved.append((draft, ApprovalRequest(draft.key, draft.sender, actual), data))
    if problems:
        raise UserError("Không duyệt thư nào vì:\n" + _bullets(problems) +
                        f"\nCách sửa: chạy lại 'outreach build {manifest.campaign}', xem lại rồi duyệt lại.")
    for draft, request, data in approved:
        _keep_approved_copy(root, draft, request.message_sha256, data)
    return ledger.approve(manifest.campaign, [request for _, request, _ in approved], person, clock())


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


def _approval_refusal(draft: Draft, delivery: Delivery | None) -> str:
    if not draft.to:
        return f"{_who(draft)}: không có địa chỉ e-mail, thư này in và gửi bản giấy."
    if delivery is not None and delivery.state == State.SENT:
        return f"{_who(draft)}: đã gửi lúc {delivery.sent_at}, không duyệt để gửi lại."
    if delivery is not None and delivery.state in EVIDENCE:
        return f"{_who(draft)}: đang ở trạng thái '{LABELS[delivery.state].long}', không duyệt lại."
    return ""


def approved_copy_path(root: Path, draft: Draft, message_sha256: str) -> Path:
    """The approved bytes, kept at approval: what is sent is byte-identical (same sha256), and the
    copy survives a later rebuild of the draft, as evidence of what the recipient received."""
    return Workspace(root).approved_copy(draft.campaign, draft.audience, draft.code, message_sha256)


def _keep_approved_copy(root: Path, draft: Draft, message_sha256: str, data: bytes) -> None:
    path = approved_copy_path(root, draft, message_sha256)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


# ====================================================================== helpers


def _select(manifest: Manifest, keys: Sequence[str] | None) -> list[Draft]:
    if keys is None:
        return list(manifest.drafts)
    return [manifest.draft(key) for key in dict.fromkeys(keys)]


def _read_eml(root: Path, draft: Draft) -> bytes | None:
    try:
        return draft.eml_path(root).read_bytes()
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
