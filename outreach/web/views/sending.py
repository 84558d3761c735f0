"""Sending progress of one campaign, its delivery record, and who has not received the letter yet."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import (
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)

from ...delivery import DELIVERED, NEXT_STEPS, State, utc_now, write_delivery_report
from ...schedule import CampaignOutlook, schedule_plan, scheduler_status
from ...accounts import Role
from ...errors import UserError
from ...workspace import Workspace
from ..auth import requires

from ..progress import progress, send_running
from ..store import (
    Row,
    ambiguous_codes,
    paginate,
)
from ._request import (
    bp,
    campaign_or_404,
    manifest_or_404,
    recipient_url,
    request_config,
    request_ledger,
    rows_of,
    acting_person,
    act,
    page_scheduler,
    send_jobs,
    unreachable_servers,
    workspace_root,
)


def _progress(name: str):
    manifest = manifest_or_404(name)
    rows = rows_of(manifest)
    events = request_ledger().events(name)[-30:][::-1]
    return rows, progress(name, rows, request_ledger().pause_state(name), send_running(workspace_root(), name), events)


@bp.get("/campaigns/<name>/sending")
def sending(name: str):
    campaign = campaign_or_404(name)
    rows, state = _progress(name)
    delivered = sorted((row for row in rows if row.delivery is not None),
                       key=lambda row: row.delivery.updated_at, reverse=True)
    waiting = state.counts.get(State.APPROVED, 0) + state.counts.get(State.RETRYING, 0)
    return _rows_page("sending.html", "views.sending", name, rows, delivered, campaign=campaign, progress=state,
                      smtp=_smtp_targets(), send_job=send_jobs().get(name),
                      scheduler=scheduler_status(Workspace(workspace_root())), outlooks=_outlooks(name),
                      down=unreachable_servers(manifest_or_404(name)) if waiting else [],
                      page_scheduler=page_scheduler())


def _outlooks(name: str) -> list[CampaignOutlook]:
    """When each sender of the campaign is expected to finish, by its calendar (approved letters only)."""
    plan = schedule_plan(request_config(), utc_now(), now=utc_now())
    return [outlook for outlook in plan.campaigns if outlook.campaign == name]


def _rows_page(template: str, endpoint: str, name: str, rows: list[Row], shown: list[Row], **context: object):
    """A page of ``shown`` (some of the campaign's ``rows``), each linked to its recipient's page."""
    page = paginate(shown, request.args.get("page"), request.args.get("per"))
    ambiguous = ambiguous_codes(rows)  # a code two audiences share, among all of the campaign's rows
    return render_template(template, page=page, link=lambda row: recipient_url(name, row, ambiguous),
                           page_url=lambda number: url_for(endpoint, name=name, page=number), **context)


def _smtp_targets() -> list[str]:
    """Where each profile sends (host and port only: never a user name or password)."""
    return [f"{profile.name}: {profile.host}:{profile.port}" for profile in request_config().smtp.values()]


@bp.get("/campaigns/<name>/progress.json")
def progress_json(name: str):
    campaign_or_404(name)
    _, state = _progress(name)
    return jsonify(state.as_json())


def _report_download(name: str, filename: str, only_not_received: bool):
    manifest = manifest_or_404(name)
    with tempfile.TemporaryDirectory(prefix="outreach-report-") as folder:
        path = write_delivery_report(request_ledger(), manifest, Path(folder) / filename,
                                     only_not_received=only_not_received, senders=request_config().sender_names())
        data = path.read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/campaigns/<name>/bao-cao-gui-thu.xlsx")
def delivery_report(name: str):
    """The delivery record, one row per recipient: what `outreach report --xlsx` writes."""
    return _report_download(name, f"bao-cao-gui-thu-{name}.xlsx", only_not_received=False)


@bp.get("/campaigns/<name>/chua-nhan")
def not_received(name: str):
    """Everyone the letter has not reached yet, whatever the reason, each with what to do next."""
    campaign = campaign_or_404(name)
    rows = rows_of(manifest_or_404(name))
    return _rows_page("not_received.html", "views.not_received", name, rows,
                      [row for row in rows if row.state not in DELIVERED], campaign=campaign, next_steps=NEXT_STEPS,
                      rejected=len(manifest_or_404(name).rejected_rows))


@bp.get("/campaigns/<name>/chua-nhan.xlsx")
def not_received_xlsx(name: str):
    return _report_download(name, f"chua-nhan-{name}.xlsx", only_not_received=True)


@bp.post("/campaigns/<name>/schedule/start")
@requires(Role.SENDER)
def schedule_start(name: str):
    """«Bật lịch gửi tự động»: every campaign's approved letters go on each sender's calendar."""
    def run() -> str:
        campaign_or_404(name)
        page_scheduler().start(acting_person(required=False))
        return ("Đã bật lịch gửi tự động: thư đã duyệt của mọi chiến dịch được gửi trong giờ làm việc, ngày làm việc "
                "và hạn mức của từng phòng, chừng nào trang web còn chạy.")

    return act(name, run)


@bp.post("/campaigns/<name>/schedule/stop")
@requires(Role.SENDER)
def schedule_stop(name: str):
    """«Tắt lịch gửi tự động»: the message in flight finishes, then nothing more goes by the calendar."""
    def run() -> str:
        campaign_or_404(name)
        if not page_scheduler().running:
            raise UserError("Lịch gửi tự động không chạy từ trang này (nếu đang chạy bằng 'outreach run', dừng tiến "
                            "trình đó trên máy chủ).")
        page_scheduler().stop()
        return "Đã tắt lịch gửi tự động; thư đang gửi dở (nếu có) đã được gửi xong."

    return act(name, run)
