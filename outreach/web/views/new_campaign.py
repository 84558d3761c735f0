"""«Chiến dịch mới»: a campaign made in the browser, written as ``campaigns/<name>.toml``."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...accounts import Role
from ...config import create_campaign_file, template_choices
from ...errors import UserError
from ...localtime import OFFICE_TZ
from ..auth import requires
from ._request import acting_person, bp, request_config, workspace_root

DEFAULT_EMAIL_SUBJECT = "Công văn số {{ so_ky_hieu }} V/v {{ campaign.subject }}"


def _form_choices() -> dict:
    config = request_config()
    root = workspace_root()
    return {
        "departments": {code: d.name for code, d in config.departments.items()},
        "audiences": {name: a.label for name, a in config.audiences.items()},
        "letters": template_choices(root, ("*.docx",)),
        "texts": template_choices(root, ("*.txt.j2",)),
        "htmls": template_choices(root, ("*.html.j2",)),
        "default_subject": DEFAULT_EMAIL_SUBJECT,
    }


@bp.get("/new-campaign")
def new_campaign():
    return render_template("new_campaign.html", form=MultiDict(), **_form_choices())


@bp.post("/new-campaign")
@requires(Role.DRAFTER)
def create_campaign():
    form = request.form
    choices = _form_choices()
    try:
        name = form.get("name", "").strip()
        table = {
            "title": " ".join(form.get("title", "").split()),
            "subject": " ".join(form.get("subject", "").split()),
            "drafting_unit": _one_of(form.get("drafting_unit", ""), choices["departments"], "Phòng soạn thảo"),
            "template": _one_of(form.get("template", ""), choices["letters"], "Mẫu công văn"),
            "audiences": [_one_of(a, choices["audiences"], "Nhóm nhận") for a in form.getlist("audiences")],
            "guidance": [_one_of(g, choices["letters"], "Phụ lục hướng dẫn") for g in form.getlist("guidance")],
            "email_subject": form.get("email_subject", "").strip() or DEFAULT_EMAIL_SUBJECT,
            "email_text": _one_of(form.get("email_text", ""), choices["texts"], "Nội dung thư (văn bản)"),
            "email_html": _one_of(form.get("email_html", ""), choices["htmls"], "Nội dung thư (HTML)"),
            "not_before": _moment(form.get("not_before", ""), "Không gửi trước"),
            "expires": _moment(form.get("expires", ""), "Hết hạn gửi"),
        }
        if not table["audiences"]:
            raise UserError("Chọn ít nhất một nhóm nhận cho chiến dịch.")
        if not table["subject"]:
            raise UserError("Ghi trích yếu (V/v …) của công văn.")
        path = create_campaign_file(workspace_root(), name, table, acting_person())
    except UserError as error:
        flash(error.message, "error")
        return render_template("new_campaign.html", form=form, **choices), 400
    flash(f"Đã tạo chiến dịch {name} (tệp {path.relative_to(workspace_root()).as_posix()}). Tiếp theo: tải danh "
          "sách người nhận lên, rồi tạo bản thảo.", "ok")
    return redirect(url_for("views.campaign_lists", name=name))


def _one_of(value: str, allowed, label: str) -> str:
    """A choice of the form, only as the form offered it (a path typed by hand is refused)."""
    if value not in allowed:
        raise UserError(f"«{label}»: chọn một mục trong danh sách của ô này.")
    return value


def _moment(value: str, label: str) -> dt.datetime | None:
    """``YYYY-MM-DDTHH:MM`` of a datetime-local field, in office time; empty: none."""
    if not value.strip():
        return None
    try:
        return dt.datetime.fromisoformat(value.strip()).replace(tzinfo=OFFICE_TZ)
    except ValueError:
        raise UserError(f"«{label}» '{value}' không phải ngày giờ. Chọn ngày giờ trong ô «{label}».") from None
