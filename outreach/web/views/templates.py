"""The letter from Word: upload the leadership's ordinary letter, see what was recognised and the template
proposed from it with its check, download it or save it into templates/; the check of a template already
there; the field picker (every field a campaign's letter can use, with the tag to copy).

An upload is kept under its sha256 (``Workspace.template_proposals``) and the proposal made again from it
on each page: the same letter, the same proposal, and nothing is written into templates/ before a person
has read the check and confirmed the name.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import zipfile
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from ...accounts import Role
from ...config import Campaign
from ...errors import UserError
from ...letters import (
    check_template,
    list_columns,
    propose_template,
    provided_variables,
    template_fields,
    template_samples,
)
from ...outbox import load_campaign_recipients
from ...recipients import Recipient
from ...text import fold_diacritics
from ...workspace import Workspace
from ..auth import requires
from ._request import bp, request_config, workspace_root

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SAMPLE_ROWS = 10  # list rows the page's check fills the template in for, beside the made-up recipients
_SHA = re.compile(r"[0-9a-f]{64}")
_NAME_MAX = 60


@bp.get("/templates")
@requires(Role.DRAFTER)
def templates():
    campaign = _chosen_campaign()
    recipients, list_error = _recipients(campaign)
    return render_template("templates.html", campaign=campaign, campaigns=request_config().campaigns.values(),
                           files=_template_files(), fields=template_fields(list_columns(recipients)),
                           list_error=list_error)


@bp.post("/templates/upload")
@requires(Role.DRAFTER)
def template_upload():
    upload = request.files.get("letter")
    campaign = request.form.get("campaign", "")
    if upload is None or not upload.filename:
        return _refuse("Chưa chọn tệp. Cách sửa: bấm «Chọn tệp», chọn công văn Word (.docx) rồi bấm «Tải lên».", campaign)
    if not upload.filename.lower().endswith(".docx"):
        return _refuse(f"Tệp «{upload.filename}» không phải văn bản Word .docx. Cách sửa: mở tệp bằng Word, chọn "
                       "«Lưu thành» (Save As) kiểu «Word Document (*.docx)» rồi tải lên tệp mới.", campaign)
    data = upload.read()
    try:
        propose_template(data)
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        return _refuse(f"Không đọc được tệp «{upload.filename}» như văn bản Word ({type(error).__name__}). Cách sửa: "
                       "mở tệp bằng Word, lưu lại kiểu .docx rồi tải lên lại.", campaign)
    digest = hashlib.sha256(data).hexdigest()
    folder = Workspace(workspace_root()).template_proposals / digest
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "letter.docx").exists():
        (folder / "letter.docx").write_bytes(data)
        (folder / "name.txt").write_text(Path(upload.filename).name, encoding="utf-8")
    return redirect(url_for("views.template_proposal", digest=digest, campaign=campaign or None))


@bp.get("/templates/proposals/<digest>")
@requires(Role.DRAFTER)
def template_proposal(digest: str):
    letter, name = _upload(digest)
    data, recognition = propose_template(letter)
    campaign = _chosen_campaign()
    recipients, list_error = _recipients(campaign)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mau.docx"
        path.write_bytes(data)
        issues = _check(path, campaign, recipients, appendix=False)
    return render_template("template_check.html", digest=digest, upload_name=name, recognition=recognition,
                           issues=issues, campaign=campaign, campaigns=request_config().campaigns.values(),
                           fields=template_fields(list_columns(recipients)), list_error=list_error,
                           suggested=_safe_name(Path(name).stem), template_file=None)


@bp.get("/templates/proposals/<digest>/mau.docx")
@requires(Role.DRAFTER)
def template_proposal_docx(digest: str):
    letter, name = _upload(digest)
    data, _ = propose_template(letter)
    return send_file(io.BytesIO(data), as_attachment=True, mimetype=DOCX,
                     download_name=f"mau-{_safe_name(Path(name).stem) or 'cong-van'}.docx")


@bp.post("/templates/proposals/<digest>/save")
@requires(Role.DRAFTER)
def template_save(digest: str):
    letter, _ = _upload(digest)
    campaign = request.form.get("campaign", "")
    back = url_for("views.template_proposal", digest=digest, campaign=campaign or None)
    name = _safe_name(request.form.get("name", ""))
    if not request.form.get("confirm"):
        flash("Chưa lưu: hãy đánh dấu ô «Tôi đã đọc kết quả kiểm tra» rồi bấm «Lưu vào templates/».", "error")
        return redirect(back)
    if not name:
        flash("Chưa lưu: tên mẫu cần có ít nhất một chữ hoặc số, vd. «cong-van-vssid-2023».", "error")
        return redirect(back)
    data, _ = propose_template(letter)
    target = Workspace(workspace_root()).templates / f"{name}.docx"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("xb") as file:  # never over a template some campaign may use
            file.write(data)
    except FileExistsError:
        flash(f"Chưa lưu: templates/{target.name} đã có (có thể một chiến dịch đang dùng), không ghi đè. "
              "Cách sửa: chọn tên khác.", "error")
        return redirect(back)
    flash(f"Đã lưu mẫu templates/{target.name}. Chọn mẫu này làm công văn của chiến dịch (template = "
          f"\"templates/{target.name}\") để tạo thư theo mẫu.", "ok")
    return redirect(url_for("views.template_file", filename=target.name, campaign=campaign or None))


@bp.get("/templates/files/<filename>")
@requires(Role.DRAFTER)
def template_file(filename: str):
    path = next((p for p in _template_files() if p.name == filename), None)
    if path is None:
        abort(404, description=f"Không có mẫu «{filename}» trong thư mục templates/.")
    campaign = _chosen_campaign(path)
    recipients, list_error = _recipients(campaign)
    appendix = campaign is not None and path.resolve() in {g.resolve() for g in campaign.guidance}
    issues = _check(path, campaign, recipients, appendix=appendix)
    return render_template("template_check.html", digest=None, upload_name=None, recognition=None, issues=issues,
                           campaign=campaign, campaigns=request_config().campaigns.values(),
                           fields=template_fields(list_columns(recipients)), list_error=list_error,
                           suggested="", template_file=path.name, appendix=appendix)


# --- helpers --------------------------------------------------------------------------------

def _refuse(message: str, campaign: str):
    flash(message, "error")
    return redirect(url_for("views.templates", campaign=campaign or None))


def _upload(digest: str) -> tuple[bytes, str]:
    folder = Workspace(workspace_root()).template_proposals / digest
    if not _SHA.fullmatch(digest) or not (folder / "letter.docx").is_file():
        abort(404, description="Không còn tệp công văn đã tải lên này. Hãy tải công văn Word lên lại.")
    return (folder / "letter.docx").read_bytes(), (folder / "name.txt").read_text(encoding="utf-8")


def _template_files() -> list[Path]:
    folder = Workspace(workspace_root()).templates
    return sorted(folder.glob("*.docx")) if folder.is_dir() else []


def _chosen_campaign(path: Path | None = None) -> Campaign | None:
    """The campaign named in the address, else the one using the template, else the first (its lists
    give the field picker its columns and the check its sample rows)."""
    config = request_config()
    name = request.args.get("campaign", "")
    if name in config.campaigns:
        return config.campaigns[name]
    users = [c for c in config.campaigns.values()
             if path is not None and path.resolve() in {p.resolve() for p in (c.template, *c.guidance)}]
    return next(iter(users or config.campaigns.values()), None)


def _recipients(campaign: Campaign | None) -> tuple[list[Recipient], str]:
    """The campaign's listed recipients, or none and why (a list that cannot be read)."""
    if campaign is None:
        return [], ""
    try:
        return [r for lst in load_campaign_recipients(request_config(), campaign) for r in lst.recipients], ""
    except UserError as error:
        return [], error.message


def _check(path: Path, campaign: Campaign | None, recipients: list[Recipient], appendix: bool):
    samples = template_samples(request_config(), campaign, recipients, appendix=appendix, rows=SAMPLE_ROWS)
    return check_template(path, provided_variables(list_columns(recipients)), samples, letter=not appendix)


def _safe_name(text: str) -> str:
    """A file name anyone can type and no path can hide in: «Công văn VssID 2023» → «cong-van-vssid-2023»."""
    return re.sub(r"[^a-z0-9]+", "-", fold_diacritics(text)).strip("-")[:_NAME_MAX].strip("-")
