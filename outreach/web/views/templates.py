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
    LetterError,
    TemplateField,
    check_template,
    html_email_template,
    list_columns,
    propose_template,
    provided_variables,
    render_text_template,
    template_fields,
    template_samples,
)
from ...outbox import attachment_titles, load_campaign_recipients, message_variables
from ...recipients import Recipient
from ...text import fold_diacritics
from ...workspace import Workspace
from ..auth import requires
from ._request import bp, campaign_or_404, request_config, workspace_root

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
                           files=_template_files(), fields=_fields(campaign, recipients),
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
    config = request_config()
    differences = recognition.differences(
        config.agency.place, f"{config.agency.abbreviation}-{campaign.drafting_unit}" if campaign else recognition.ky_hieu,
        (config.signer.authority, config.signer.title, config.signer.name))
    return render_template("template_check.html", digest=digest, upload_name=name, recognition=recognition,
                           differences=differences,
                           issues=issues, campaign=campaign, campaigns=request_config().campaigns.values(),
                           fields=_fields(campaign, recipients), list_error=list_error,
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
                           fields=_fields(campaign, recipients), list_error=list_error,
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


def _fields(campaign: Campaign | None, recipients: list[Recipient]):
    """The field picker's rows: a participant's payment only where the campaign writes to participants."""
    return template_fields(list_columns(recipients), payments=campaign is None or "participants" in campaign.audiences)


def _check(path: Path, campaign: Campaign | None, recipients: list[Recipient], appendix: bool):
    samples = template_samples(request_config(), campaign, recipients, appendix=appendix, rows=SAMPLE_ROWS)
    return check_template(path, provided_variables(list_columns(recipients)), samples, letter=not appendix)


def _safe_name(text: str) -> str:
    """A file name anyone can type and no path can hide in: «Công văn VssID 2023» → «cong-van-vssid-2023»."""
    return re.sub(r"[^a-z0-9]+", "-", fold_diacritics(text)).strip("-")[:_NAME_MAX].strip("-")


# --- the e-mail of one campaign -------------------------------------------------------------

@bp.get("/templates/email/<name>")
@requires(Role.DRAFTER)
def campaign_email(name: str):
    campaign = _email_campaign(name)
    return _email_page(campaign, campaign.email_subject, _read(campaign.email_text))


@bp.post("/templates/email/<name>")
@requires(Role.DRAFTER)
def campaign_email_save(name: str):
    campaign = _email_campaign(name)
    subject = " ".join(request.form.get("subject", "").split())
    text = request.form.get("text", "").replace("\r\n", "\n").strip("\n") + "\n"
    if not subject or not text.strip():
        return _email_page(campaign, subject, text, "Chưa lưu: tiêu đề và nội dung thư không được để trống.")
    html = html_email_template(text)
    try:
        _preview(campaign, subject, text, html)
    except LetterError as error:
        return _email_page(campaign, subject, text, f"Chưa lưu: {error.message}")
    own = Workspace(workspace_root()).campaign_email(campaign.name)
    own.text.parent.mkdir(parents=True, exist_ok=True)
    for path, content in ((own.subject, subject + "\n"), (own.text, text), (own.html, html)):
        staged = path.with_name(path.name + ".new")
        staged.write_text(content, encoding="utf-8")
        staged.replace(path)  # a reader sees the old file or the new one, never half of one
    flash(f"Đã lưu thư điện tử riêng của chiến dịch {campaign.name} ({Workspace(workspace_root()).relative(own.text)}"
          "). Các chiến dịch khác không thay đổi. Bấm «Tạo bản thảo» ở trang chiến dịch để thư chưa gửi dùng nội dung "
          "mới; thư đã gửi giữ nguyên như đã gửi.", "ok")
    return redirect(url_for("views.campaign_email", name=campaign.name))


def _email_campaign(name: str) -> Campaign:
    campaign = campaign_or_404(name)
    if campaign.reminder is not None:
        abort(404, description=f"{name} là thư nhắc: nội dung của nó ở tệp thư nhắc ({campaign.reminder.text.name}).")
    return campaign


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _email_page(campaign: Campaign, subject: str, text: str, error: str = ""):
    own = Workspace(workspace_root()).campaign_email(campaign.name)
    preview, problem = None, ""
    try:
        preview = _preview(campaign, subject, text, html_email_template(text))
    except LetterError as failure:
        problem = failure.message
    recipients, list_error = _recipients(campaign)
    return render_template("campaign_email.html", campaign=campaign, subject=subject, text=text, error=error,
                           problem=problem, preview=preview, own=own.text.is_file(),
                           source=Workspace(workspace_root()).relative(campaign.email_text),
                           fields=[*_EMAIL_FIELDS, *_fields(campaign, recipients)],
                           list_error=list_error), 200 if not error else 422


_EMAIL_FIELDS = (
    TemplateField("tep_dinh_kem", "Các tệp đính kèm", "Danh sách tên các tệp thư này đính kèm: công văn, rồi từng phụ "
                  "lục, tài liệu — do hệ thống lập khi tạo bản thảo", "{% for tep in tep_dinh_kem %}- {{ tep }}\n{% endfor %}"),
    TemplateField("xac_nhan", "Đường dẫn xác nhận đã nhận", "Đường dẫn riêng để người nhận xác nhận (trống khi chưa "
                  "khai báo [web] public_url)", "{{ xac_nhan }}"),
)


def _preview(campaign: Campaign, subject: str, text: str, html: str) -> tuple[str, str, str]:
    """The message for one sample recipient (a draft, as the build would write it): whom, subject, text.
    Raises LetterError for a template that does not parse or names what a message does not have."""
    config = request_config()
    recipients, _ = _recipients(campaign)
    samples = template_samples(config, campaign, recipients, rows=1)
    if not samples:
        raise LetterError("chưa có người nhận mẫu để thử: danh sách của chiến dịch chưa có dòng nào hợp lệ.")
    context = samples[0]
    link = config.web.receipt_url("(duong-dan-rieng)") if config.web.public_url else ""
    variables = message_variables(config, context, context.recipient, link, attachment_titles(campaign, context))
    render_text_template(html, variables, "nội dung HTML tạo từ nội dung thư")
    return (context.recipient.salutation, " ".join(render_text_template(subject, variables).split()),
            render_text_template(text, variables, "nội dung thư"))
