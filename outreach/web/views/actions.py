"""The POST actions on a campaign's letters: approve, revoke, test copy, resolve, posted, pause, resume, send now."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from flask import (
    abort,
    current_app,
    request,
    session,
)

from ...accounts import Role
from ...delivery import (
    LABELS,
    POSTABLE,
    REVOCABLE,
    FourEyes,
    State,
    Unsent,
    approve,
    check_approver,
    post,
    resolve,
    resume,
    revoke,
    send_test_copy,
    sending_process,
    utc_now,
)
from ...errors import UserError
from ...outbox import Manifest
from ..auth import current_account, requires
from ..store import (
    Filters,
    Row,
)
from ._request import (
    act,
    acting_person,
    approve_jobs,
    bp,
    build_jobs,
    campaign_or_404,
    form_day,
    manifest_or_404,
    request_config,
    request_ledger,
    rows_of,
    send_jobs,
    workspace_root,
)


def _targets(rows: list[Row]) -> tuple[str, list[Row]]:
    """The rows an action applies to: one, the ticked ones, or the whole filtered list."""
    scope = request.form.get("scope", "")
    if scope in ("one", "selected"):
        by_key = {row.key: row for row in rows}
        keys = list(dict.fromkeys(request.form.getlist("key")))
        unknown = [key for key in keys if key not in by_key]
        if unknown:
            raise UserError(f"Không có thư {', '.join(unknown)} trong bản thảo hiện tại. Hãy tải lại trang.")
        if not keys:
            raise UserError("Chưa chọn thư nào. Đánh dấu ô ở đầu dòng của các thư cần chọn rồi bấm lại.")
        return scope, [by_key[key] for key in keys]
    if scope == "filtered":
        targets = Filters.from_args(request.form).apply(rows)
        expected = request.form.get("expected", "")
        if expected != str(len(targets)):
            raise UserError(f"Danh sách đang lọc đã thay đổi (lúc xem có {expected or '?'} thư, bây giờ có "
                            f"{len(targets)} thư). Hãy xem lại danh sách rồi bấm lại.")
        return scope, targets
    abort(400, description="Thiếu phạm vi thao tác (một thư, các thư đã chọn hoặc cả danh sách đang lọc).")


def _applicable(manifest: Manifest, states: Collection[str], nothing: str) -> tuple[list[Row], list[Row]]:
    """The rows an action applies to (the one picked; of a selection or list, those in ``states``) and
    those it leaves out; refused with ``nothing`` and what was left out when none is left."""
    scope, targets = _targets(rows_of(manifest))
    ready = targets if scope == "one" else [row for row in targets if row.state in states]
    chosen = {row.key for row in ready}
    others = [row for row in targets if row.key not in chosen]
    if not ready:
        raise UserError(nothing + _skipped(others))
    return ready, others


def _skipped(rows: list[Row]) -> str:
    if not rows:
        return ""
    counts = Counter(LABELS[row.state].short.lower() for row in rows)
    return " Bỏ qua " + ", ".join(f"{count} thư {label}" for label, count in counts.items()) + "."


@bp.post("/campaigns/<name>/approve")
@requires(Role.APPROVER)
def approve_action(name: str):
    def run() -> str:
        person = acting_person()
        manifest = manifest_or_404(name)
        if build_jobs().running(name):
            raise UserError("Chiến dịch đang được tạo lại bản thảo; chờ xong, xem lại rồi hãy duyệt.")
        if approve_jobs().running(name):
            raise UserError("Chiến dịch đang được duyệt (xem tiến độ ở đầu trang); chờ xong rồi hãy duyệt tiếp.")
        scope, targets = _targets(rows_of(manifest))
        if scope == "one" and targets[0].state == State.APPROVED:
            return "Thư này đã được duyệt từ trước."
        ready = targets if scope == "one" else [row for row in targets if row.state == Unsent.DRAFTED]
        chosen = {row.key for row in ready}
        others = [row for row in targets if row.key not in chosen]
        if not ready:
            raise UserError("Không có thư nào cần duyệt trong lựa chọn." + _skipped(others))
        keys, four_eyes = [row.key for row in ready], request_config().web.four_eyes
        try:
            if len(ready) > current_app.config["OUTREACH_APPROVE_IN_BACKGROUND"]:
                # Refused now if it would be at all, before the page is told it runs.
                check_approver(request_ledger(), manifest, person, four_eyes=four_eyes)
                approve_jobs().start(name, by=person, keys=keys, four_eyes=four_eyes)
                return (f"Đang duyệt {len(ready)} thư (người duyệt: {person}); tiến độ hiện ở đầu trang."
                        + _skipped(others))
            approve(workspace_root(), request_ledger(), manifest, person, keys, four_eyes=four_eyes)
        except FourEyes as refusal:
            abort(403, description=refusal.message)
        return f"Đã duyệt {len(ready)} thư (người duyệt: {person})." + _skipped(others)

    return act(name, run)


@bp.post("/campaigns/<name>/revoke")
@requires(Role.APPROVER)
def revoke_action(name: str):
    def run() -> str:
        person = acting_person()
        manifest = manifest_or_404(name)
        ready, others = _applicable(manifest, REVOCABLE, "Không có thư nào đang được duyệt để hủy trong lựa chọn.")
        note = " ".join(request.form.get("note", "").split())[:500]
        revoke(request_ledger(), manifest, person, [row.key for row in ready], note)
        return f"Đã hủy duyệt {len(ready)} thư (người hủy: {person})." + _skipped(others)

    return act(name, run)


@bp.post("/campaigns/<name>/test-copy")
@requires(Role.DRAFTER)
def test_copy(name: str):
    def run() -> str:
        address = request.form.get("to", "").strip()
        if not address:
            raise UserError("Cần ghi địa chỉ e-mail nhận bản thử.")
        session["test_to"] = address
        manifest = manifest_or_404(name)
        draft = manifest.draft(request.form.get("key", ""))
        if not draft.to:
            raise UserError("Người nhận này không có thư điện tử (gửi bản giấy), không có gì để gửi thử.")
        trial = send_test_copy(request_config(), draft, address)
        return (f"Đã gửi bản thử của {draft.code} tới {trial.to} (máy chủ trả lời: "
                f"{trial.code or ''} {trial.reply}). Trạng thái duyệt của thư không thay đổi.")

    return act(name, run)


@bp.post("/campaigns/<name>/resolve")
@requires(Role.SENDER)
def resolve_action(name: str):
    def run() -> str:
        person = acting_person()
        manifest = manifest_or_404(name)
        draft = manifest.draft(request.form.get("key", ""))
        decision = request.form.get("decision", "")
        resolve(request_ledger(), name, draft.key, decision, person, request.form.get("note", ""))  # type: ignore[arg-type]
        if decision == "sent":
            return f"Đã ghi nhận thư {draft.code} đã đến nơi (người quyết định: {person})."
        return f"Thư {draft.code} sẽ được gửi lại ở lượt gửi tiếp theo (người quyết định: {person})."

    return act(name, run)


@bp.post("/campaigns/<name>/posted")
@requires(Role.SENDER)
def posted_action(name: str):
    """Letters on paper that a person took to the post office, and the day (today unless picked)."""
    def run() -> str:
        person = acting_person()
        manifest = manifest_or_404(name)
        ready, others = _applicable(manifest, POSTABLE, "Không có thư giấy nào đã in, chờ gửi bưu điện trong lựa chọn.")
        day = form_day("date", "Ngày gửi bưu điện")
        posted = post(request_ledger(), manifest, person, [row.key for row in ready], day)
        return (f"Đã ghi nhận {len(posted)} thư giấy được gửi bưu điện ngày {day:%d/%m/%Y} (người gửi: {person})."
                + _skipped(others))

    return act(name, run)


@bp.post("/campaigns/<name>/pause")
@requires(Role.SENDER)
def pause_action(name: str):
    def run() -> str:
        person = acting_person()
        campaign_or_404(name)
        reason = " ".join(request.form.get("reason", "").split())[:500]
        if not reason:
            raise UserError("Cần ghi lý do tạm dừng (ví dụ: chờ sửa nội dung công văn).")
        request_ledger().pause(name, reason, person, utc_now())
        return f"Đã tạm dừng gửi chiến dịch {name}. Thư đang gửi dở (nếu có) vẫn được ghi nhận kết quả."

    return act(name, run)


@bp.post("/campaigns/<name>/resume")
@requires(Role.SENDER)
def resume_action(name: str):
    def run() -> str:
        person = acting_person()
        campaign_or_404(name)
        resume(request_ledger(), name, person)
        return f"Chiến dịch {name} được gửi tiếp ở lượt gửi sau."

    return act(name, run)


@bp.post("/campaigns/<name>/send")
@requires(Role.SENDER)
def send_action(name: str):
    """«Gửi ngay»: the approved letters go now, in the background, at each sender's rate and within its
    daily quota (not waiting for its windows); «Gửi lại ngay» (``retry_now``) also those waiting to retry."""
    def run() -> str:
        campaign_or_404(name)
        manifest_or_404(name)
        if build_jobs().running(name):
            raise UserError("Chiến dịch đang được tạo bản thảo; chờ xong rồi hãy gửi.")
        retry_now = request.form.get("retry_now") == "1"
        due = {State.RETRYING} if retry_now else {State.APPROVED, State.RETRYING}
        if not any(d.state in due for d in request_ledger().deliveries(name).values()):
            raise UserError("Không có thư nào đang chờ gửi lại." if retry_now else
                            "Không có thư đã duyệt nào chờ gửi. Duyệt thư trước rồi hãy gửi.")
        # The events of the run name the account that asked (without accounts: the page's process).
        by = acting_person() if current_account() else sending_process(f"web {request.remote_addr or '?'}")
        send_jobs().start(name, retry_now=retry_now, by=by)
        what = "các thư đã duyệt và các thư đang chờ gửi lại" if retry_now else "các thư đã duyệt"
        return (f"Đang gửi {what} của chiến dịch {name}, theo tốc độ và hạn mức trong ngày của từng phòng. "
                "Kết quả hiện ở trang Tiến độ gửi.")

    return act(name, run)
