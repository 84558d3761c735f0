"""A campaign's own lists: where each audience's list comes from, the versions accepted, and an
upload checked (the report ``outreach validate`` gives) before anything changes."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ...accounts import Role
from ...delivery import CampaignEvent, utc_now
from ...errors import UserError
from ...recipients import CampaignLists, own_list
from ..auth import requires
from ._request import (
    acting_person,
    app_store,
    bp,
    campaign_or_404,
    request_config,
    request_ledger,
    workspace_root,
)
from .lists import without_fix


def _letter_campaign(name: str):
    campaign = campaign_or_404(name)
    if campaign.reminder is not None:  # a reminder reads its letter's lists
        abort(404, description="Thư nhắc dùng danh sách của công văn mà nó nhắc.")
    return campaign


def _store(name: str) -> CampaignLists:
    return CampaignLists(request_config().workspace, name)


@bp.get("/campaigns/<name>/lists")
def campaign_lists(name: str):
    campaign = _letter_campaign(name)
    config = request_config()
    sources = {}
    for audience in campaign.audiences:
        try:
            sources[audience] = own_list(config.workspace, name, audience)
        except UserError as error:
            sources[audience] = error.message
    checked = app_store().checked_lists(config, campaign.audiences, campaign)
    return render_template("campaign_lists.html", campaign=campaign, sources=sources, checked=checked,
                           versions=_store(name).versions(), root=workspace_root())


@bp.post("/campaigns/<name>/lists/upload")
@requires(Role.DRAFTER)
def list_upload(name: str):
    campaign = _letter_campaign(name)
    audience = request.form.get("audience", "")
    upload = request.files.get("file")
    try:
        if audience not in campaign.audiences:
            raise UserError("Chọn nhóm nhận của danh sách (một trong các nhóm của chiến dịch) rồi tải lên lại.")
        if upload is None or not upload.filename:
            raise UserError("Chưa chọn tệp danh sách. Cách sửa: bấm «Chọn tệp», chọn tệp .xlsx hoặc .csv rồi tải lên.")
        pending = _store(name).stage(audience, upload.filename, upload.read())
    except UserError as error:
        flash(error.message, "error")
        return redirect(url_for("views.campaign_lists", name=name))
    return redirect(url_for("views.list_pending", name=name, token=pending.token))


@bp.get("/campaigns/<name>/lists/pending/<token>")
def list_pending(name: str, token: str):
    campaign = _letter_campaign(name)
    pending = _store(name).pending(token)
    checked = app_store().checked_file(request_config(), pending.path, pending.audience)
    problems = [(checked, p, without_fix(p)) for p in checked.result.problems] if checked.result else []
    return render_template("list_pending.html", campaign=campaign, pending=pending, checked=checked,
                           problems=problems, current=own_list(request_config().workspace, name, pending.audience))


@bp.post("/campaigns/<name>/lists/pending/<token>/accept")
@requires(Role.DRAFTER)
def list_accept(name: str, token: str):
    _letter_campaign(name)
    lists = _store(name)
    try:
        pending = lists.pending(token)
        checked = app_store().checked_file(request_config(), pending.path, pending.audience)
        if checked.result is None:
            raise UserError(f"Không nhận được danh sách không đọc được: {checked.error}")
        result = checked.result
        by = acting_person()
        version = lists.accept(token, by, (result.rows, len(result.recipients), len(result.rejected_rows)))
        # Who brought the list in is, under four-eyes, as bound as who built from it.
        request_ledger().record(name, CampaignEvent.LIST_ACCEPTED, by,
                                f"bản {version.number}: {version.file} ({version.valid} hợp lệ, "
                                f"{version.rejected} bị loại)", utc_now())
        flash(f"Đã nhận danh sách làm bản {version.number} của chiến dịch: {version.valid} người nhận hợp lệ, "
              f"{version.rejected} dòng bị loại. Bấm «Tạo lại bản thảo» để tạo thư theo danh sách mới.", "ok")
    except UserError as error:
        flash(error.message, "error")
    return redirect(url_for("views.campaign_lists", name=name))


@bp.post("/campaigns/<name>/lists/pending/<token>/discard")
@requires(Role.DRAFTER)
def list_discard(name: str, token: str):
    _letter_campaign(name)
    try:
        _store(name).discard(token)
        flash("Đã bỏ tệp tải lên; danh sách của chiến dịch không thay đổi.", "ok")
    except UserError as error:
        flash(error.message, "error")
    return redirect(url_for("views.campaign_lists", name=name))
