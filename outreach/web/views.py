"""The pages and actions. Pages are GETs; every change is a POST that redirects back (flash message).

Addresses::

    /                                               campaigns, their counts, build button
    /campaigns/<name>                               recipients table: filters, search, paging, actions
    /campaigns/<name>/recipients/<code>             preview: letter pages beside the e-mail
    /campaigns/<name>/recipients/<code>/…           pages/<n>.png, letter.pdf, body.html,
                                                    attachments/<i>, message.eml
    /campaigns/<name>/sending, …/progress.json      sending progress, delivery record
    /campaigns/<name>/print.pdf                     print bundle (recipients without e-mail)
    /lists, /lists/report.xlsx                      validation of the recipient files
    POST /campaigns/<name>/{build,issue,approve,revoke,test-copy,resolve,pause,resume}
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
from collections import Counter
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from ..config import Campaign, Config
from ..delivery.engine import approve, resolve, resume, revoke, send_test_copy
from ..errors import UserError
from ..delivery.ledger import Ledger, utc_now
from ..outbox.manifest import Manifest
from ..recipients.report import SEVERITY_LABELS, ValidationSummary, write_xlsx
from ..sign.verify import letter_signatures
from .jobs import BuildJobs
from .preview import PageCache, attachment, letter_pdf, message_view, read_message
from .progress import progress, send_running
from .security import BODY_SECURITY_POLICY, safe_next
from .store import (
    LOCAL_TZ,
    NO_DISTRICT,
    PER_PAGE,
    PROBLEM_NAMES,
    STATE_NAMES,
    Filters,
    Row,
    Store,
    ambiguous_codes,
    audience_label,
    find_row,
    local_time,
    paginate,
)
from ..workspace import Workspace

bp = Blueprint("views", __name__)

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không được phép",
    404: "Không tìm thấy",
    405: "Thao tác không hợp lệ",
    413: "Dữ liệu gửi lên quá lớn",
    429: "Thử quá nhiều lần",
    500: "Lỗi của chương trình",
}
ERROR_TEXTS = {
    404: "Trang này không tồn tại. Quay về danh sách chiến dịch để chọn lại.",
    405: "Địa chỉ này không nhận thao tác như vậy. Hãy dùng các nút trên trang.",
    413: "Dữ liệu gửi lên quá lớn.",
    500: "Chương trình gặp lỗi không mong đợi. Chi tiết đã được ghi vào nhật ký của máy chủ; "
         "hãy báo cho người quản trị.",
}
EVENT_LABELS = {**STATE_NAMES, None: "Chưa duyệt", "revoked": "Đã hủy duyệt", "paused": "Tạm dừng",
                "resumed": "Gửi tiếp"}
REVOCABLE = ("approved", "retrying", "failed")
PROBLEMS_PER_PAGE = 100
_URL_CREDENTIALS = re.compile(r"(//)[^/@\s]+@")


def redact(text: str) -> str:
    """Never show credentials that an error message may quote (``smtp://user:pass@host``)."""
    return _URL_CREDENTIALS.sub(r"\1***@", text)


# ---------------------------------------------------------------------------- request helpers


def _root() -> Path:
    return current_app.config["OUTREACH_ROOT"]


def _store() -> Store:
    return current_app.extensions["outreach_store"]


def _jobs() -> BuildJobs:
    return current_app.extensions["outreach_jobs"]


def _pages() -> PageCache:
    return current_app.extensions["outreach_pages"]


def _config() -> Config:
    if "config" not in g:
        g.config = _store().config()
    return g.config


def _ledger() -> Ledger:
    if "ledger" not in g:
        g.ledger = Ledger.open(_root())
    return g.ledger


def _campaign(name: str) -> Campaign:
    campaign = _config().campaigns.get(name)
    if campaign is None:
        abort(404, description=f"Không có chiến dịch '{name}' trong config.toml.")
    return campaign


def _manifest(name: str) -> Manifest:
    _campaign(name)
    manifest = _store().manifest(name)
    if manifest is None:
        abort(404, description=f"Chiến dịch {name} chưa có bản thảo. Hãy bấm «Tạo bản thảo» ở trang chiến dịch.")
    return manifest


def _rows(manifest: Manifest) -> list[Row]:
    return _store().rows(_config(), manifest, _ledger().deliveries(manifest.campaign))


def _row(rows: list[Row], code: str) -> Row:
    row = find_row(rows, code, request.args.get("kind", ""))
    if row is None:
        abort(404, description=f"Không có người nhận mã '{code}' trong bản thảo của chiến dịch này.")
    return row


def _person(field: str = "by") -> str:
    """The acting person's name (kept in the session to fill the next form)."""
    name = " ".join(request.form.get(field, "").split())[:120]
    if not name:
        raise UserError("Cần ghi họ tên người thực hiện (ví dụ: Nguyễn Văn A) để lưu làm bằng chứng.")
    session["by"] = name
    return name


def _back(name: str) -> str:
    return safe_next(request.form.get("next"), url_for("views.campaign", name=name))


def _recipient_url(name: str, row: Row, ambiguous: set[str], **args: str) -> str:
    if row.draft.code in ambiguous:
        args["kind"] = row.draft.audience
    return url_for("views.recipient", name=name, code=row.draft.code, **args)


def _act(name: str, action) -> Response:
    """Run one change; its outcome (or the Vietnamese reason it was refused) is flashed."""
    try:
        message = action()
        if message:
            flash(message, "ok")
    except UserError as error:
        flash(redact(error.message), "error")
    return redirect(_back(name))


# ---------------------------------------------------------------------------- campaigns


@bp.get("/")
def campaigns():
    config = _config()
    items = []
    for campaign in config.campaigns.values():
        manifest = _store().manifest(campaign.name)
        counts: Counter[str] = Counter()
        if manifest is not None:
            counts = Counter(row.state for row in _rows(manifest))
        items.append({
            "campaign": campaign,
            "manifest": manifest,
            "counts": counts,
            "pause": _ledger().pause_state(campaign.name),
            "running": send_running(_root(), campaign.name),
            "job": _jobs().get(campaign.name),
        })
    return render_template("campaigns.html", items=items)


@bp.post("/campaigns/<name>/build")
def build(name: str):
    _campaign(name)

    def start() -> str:
        _jobs().start(name)
        return "Đã bắt đầu tạo bản thảo. Việc chuyển công văn sang PDF có thể mất vài phút; trang sẽ báo khi xong."

    return _act(name, start)


@bp.post("/campaigns/<name>/issue")
def issue(name: str):
    """Take the campaign's number from the register (sổ văn bản đi), then rebuild with it."""
    _campaign(name)

    def run() -> str:
        from ..outbox.build import issue_document_number

        raw = request.form.get("date", "").strip()
        try:
            day = dt.date.fromisoformat(raw) if raw else dt.datetime.now(LOCAL_TZ).date()
        except ValueError:
            raise UserError(f"Ngày ký '{raw}' không hợp lệ. Chọn ngày trong ô «Ngày ký».") from None
        if _jobs().running(name):
            raise UserError("Chiến dịch đang được tạo bản thảo; chờ xong rồi hãy cấp số.")
        entry = issue_document_number(_config(), name, day)
        _jobs().start(name)
        return (f"Công văn được cấp số {entry.number:02d}/{entry.ky_hieu}, ngày {entry.issued_on:%d/%m/%Y}. "
                "Đang tạo lại bản thảo với số này; xem lại các thư rồi duyệt.")

    return _act(name, run)


@bp.get("/campaigns/<name>")
def campaign(name: str):
    campaign = _campaign(name)
    manifest = _store().manifest(name)
    job = _jobs().get(name)
    if manifest is None:
        return render_template("campaign.html", campaign=campaign, manifest=None, job=job, numbered=False)
    rows = _rows(manifest)
    filters = Filters.from_args(request.args)
    selected = filters.apply(rows)
    page = paginate(selected, request.args.get("page"), request.args.get("per"))
    ambiguous = ambiguous_codes(rows)
    senders = _config().senders()
    departments = sorted({row.draft.sender for row in rows})
    districts = sorted({row.draft.district for row in rows if row.draft.district})
    return render_template(
        "campaign.html",
        campaign=campaign,
        manifest=manifest,
        job=job,
        rows=rows,
        filters=filters,
        base_args={k: v for k, v in filters.args().items() if k != "state"},
        page=page,
        counts=Counter(row.state for row in rows),
        selected_counts=Counter(row.state for row in selected),
        audiences=[a for a in campaign.audiences if any(r.draft.audience == a for r in rows)],
        districts=districts,
        has_no_district=any(not row.draft.district for row in rows),
        departments=[(code, senders[code].name if code in senders else code) for code in departments],
        link=lambda row: _recipient_url(name, row, ambiguous, **filters.args()),
        page_url=lambda number: url_for("views.campaign", name=name, **filters.args(), page=number,
                                        **({"per": page.per} if request.args.get("per") else {})),
        pause=_ledger().pause_state(name),
        running=send_running(_root(), name),
        print_bundle=_print_bundle(name),
        no_district=NO_DISTRICT,
        numbered=manifest.numbered,
        today=dt.datetime.now(LOCAL_TZ).date().isoformat(),
        problem_names=PROBLEM_NAMES,
    )


def _print_bundle(name: str) -> Path | None:
    return next(iter(sorted(Workspace(_root()).print_folder(name).glob("*.pdf"))), None)


@bp.get("/campaigns/<name>/print.pdf")
def print_bundle(name: str):
    _campaign(name)
    path = _print_bundle(name)
    if path is None:
        abort(404, description="Chiến dịch này không có thư nào phải in (mọi người nhận đều có e-mail).")
    return send_file(path, mimetype="application/pdf", download_name=path.name)


# ---------------------------------------------------------------------------- one recipient


@bp.get("/campaigns/<name>/recipients/<code>")
def recipient(name: str, code: str):
    campaign = _campaign(name)
    manifest = _manifest(name)
    rows = _rows(manifest)
    row = _row(rows, code)
    filters = Filters.from_args(request.args)
    ambiguous = ambiguous_codes(rows)
    listed = filters.apply(rows)
    position = next((i for i, r in enumerate(listed) if r.key == row.key), None)
    previous = nxt = None
    if position is not None:
        previous = listed[position - 1] if position > 0 else None
        nxt = listed[position + 1] if position + 1 < len(listed) else None
    found = read_message(_root(), row.draft)
    view = message_view(*found) if found else None
    problems = []
    if row.draft.to and view is None:
        problems.append("Không tìm thấy message.eml của thư này. Hãy tạo lại bản thảo.")
    if view is not None and view.sha256 != row.draft.message_sha256:
        problems.append("message.eml đã thay đổi sau khi tạo bản thảo: thư này không duyệt được. Hãy tạo lại bản thảo.")
    if view is not None and row.delivery is not None and row.delivery.message_sha256 != view.sha256:
        problems.append("Nội dung thư hiện tại khác với nội dung đã được duyệt: thư sẽ không được gửi cho tới khi "
                        "được duyệt lại.")
    pages = _pages()
    sha, page_count, letter_error = "", 0, ""
    try:
        sha = pages.store(letter_pdf(_root(), row.draft))
        page_count = pages.page_count(sha)
    except UserError as error:
        letter_error = error.message
    kind = {"kind": row.draft.audience} if row.draft.code in ambiguous else {}
    list_page = (position // PER_PAGE + 1) if position is not None else 1
    return render_template(
        "recipient.html",
        campaign=campaign,
        manifest=manifest,
        row=row,
        view=view,
        problems=problems,
        sha=sha,
        page_count=page_count,
        letter_error=letter_error,
        kind=kind,
        filters=filters,
        position=position,
        listed=len(listed),
        previous_url=_recipient_url(name, previous, ambiguous, **filters.args()) if previous else None,
        next_url=_recipient_url(name, nxt, ambiguous, **filters.args()) if nxt else None,
        back_url=url_for("views.campaign", name=name, **filters.args(), page=list_page),
        events=_ledger().events(name, row.key),
        sender=_config().senders().get(row.draft.sender),
        test_to=session.get("test_to", ""),
        numbered=manifest.numbered,
        signatures=letter_signatures(_config(), row.draft),
    )


@bp.get("/campaigns/<name>/recipients/<code>/pages/<int:number>.png")
def page_image(name: str, code: str, number: int):
    row = _row(_rows(_manifest(name)), code)
    pages = _pages()
    sha = pages.store(letter_pdf(_root(), row.draft))
    try:
        path = pages.page_png(sha, number)
    except KeyError:
        abort(404, description=f"Công văn không có trang {number}.")
    response = send_file(path, mimetype="image/png", etag=f"{sha}-{number}", conditional=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/campaigns/<name>/recipients/<code>/letter.pdf")
def letter(name: str, code: str):
    row = _row(_rows(_manifest(name)), code)
    response = Response(letter_pdf(_root(), row.draft), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="cong-van-{row.draft.code}.pdf"'
    return response


def _message(name: str, code: str):
    row = _row(_rows(_manifest(name)), code)
    found = read_message(_root(), row.draft)
    if found is None:
        abort(404, description="Người nhận này không có thư điện tử (không có địa chỉ e-mail: gửi bản giấy).")
    return row, found


@bp.get("/campaigns/<name>/recipients/<code>/body.html")
def body(name: str, code: str):
    _, (_, message) = _message(name, code)
    html = message.get_body(preferencelist=("html",))
    response = Response(html.get_content() if html is not None else "", mimetype="text/html")
    response.headers["Content-Security-Policy"] = BODY_SECURITY_POLICY
    return response


@bp.get("/campaigns/<name>/recipients/<code>/attachments/<int:index>")
def attachment_file(name: str, code: str, index: int):
    _, (_, message) = _message(name, code)
    try:
        filename, content_type, data = attachment(message, index)
    except KeyError:
        abort(404, description="Thư không có tệp đính kèm này.")
    return send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True, download_name=filename)


@bp.get("/campaigns/<name>/recipients/<code>/message.eml")
def eml(name: str, code: str):
    row, (data, _) = _message(name, code)
    return send_file(io.BytesIO(data), mimetype="message/rfc822", as_attachment=True,
                     download_name=f"{row.draft.code}.eml")


# ---------------------------------------------------------------------------- actions


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


def _skipped(rows: list[Row]) -> str:
    if not rows:
        return ""
    counts = Counter(STATE_NAMES[row.state].lower() for row in rows)
    return " Bỏ qua " + ", ".join(f"{count} thư {label}" for label, count in counts.items()) + "."


@bp.post("/campaigns/<name>/approve")
def approve_action(name: str):
    def run() -> str:
        person = _person()
        manifest = _manifest(name)
        if _jobs().running(name):
            raise UserError("Chiến dịch đang được tạo lại bản thảo; chờ xong, xem lại rồi hãy duyệt.")
        scope, targets = _targets(_rows(manifest))
        if scope == "one" and targets[0].state == "approved":
            return "Thư này đã được duyệt từ trước."
        ready = targets if scope == "one" else [row for row in targets if row.state == "drafted"]
        others = [row for row in targets if row not in ready]
        if not ready:
            raise UserError("Không có thư nào cần duyệt trong lựa chọn." + _skipped(others))
        approve(_root(), _ledger(), manifest, person, [row.key for row in ready])
        return f"Đã duyệt {len(ready)} thư (người duyệt: {person})." + _skipped(others)

    return _act(name, run)


@bp.post("/campaigns/<name>/revoke")
def revoke_action(name: str):
    def run() -> str:
        person = _person()
        manifest = _manifest(name)
        scope, targets = _targets(_rows(manifest))
        ready = targets if scope == "one" else [row for row in targets if row.state in REVOCABLE]
        others = [row for row in targets if row not in ready]
        if not ready:
            raise UserError("Không có thư nào đang được duyệt để hủy trong lựa chọn." + _skipped(others))
        note = " ".join(request.form.get("note", "").split())[:500]
        revoke(_ledger(), manifest, person, [row.key for row in ready], note)
        return f"Đã hủy duyệt {len(ready)} thư (người hủy: {person})." + _skipped(others)

    return _act(name, run)


@bp.post("/campaigns/<name>/test-copy")
def test_copy(name: str):
    def run() -> str:
        address = request.form.get("to", "").strip()
        if not address:
            raise UserError("Cần ghi địa chỉ e-mail nhận bản thử.")
        session["test_to"] = address
        manifest = _manifest(name)
        draft = manifest.draft(request.form.get("key", ""))
        if not draft.to:
            raise UserError("Người nhận này không có thư điện tử (gửi bản giấy), không có gì để gửi thử.")
        trial = send_test_copy(_config(), draft, address)
        return (f"Đã gửi bản thử của {draft.code} tới {trial.to} (máy chủ trả lời: "
                f"{trial.smtp_code or ''} {trial.smtp_reply}). Trạng thái duyệt của thư không thay đổi.")

    return _act(name, run)


@bp.post("/campaigns/<name>/resolve")
def resolve_action(name: str):
    def run() -> str:
        person = _person()
        manifest = _manifest(name)
        draft = manifest.draft(request.form.get("key", ""))
        decision = request.form.get("decision", "")
        resolve(_ledger(), name, draft.key, decision, person, request.form.get("note", ""))  # type: ignore[arg-type]
        if decision == "sent":
            return f"Đã ghi nhận thư {draft.code} đã đến nơi (người quyết định: {person})."
        return f"Thư {draft.code} sẽ được gửi lại ở lượt gửi tiếp theo (người quyết định: {person})."

    return _act(name, run)


@bp.post("/campaigns/<name>/pause")
def pause_action(name: str):
    def run() -> str:
        person = _person()
        _campaign(name)
        reason = " ".join(request.form.get("reason", "").split())[:500]
        if not reason:
            raise UserError("Cần ghi lý do tạm dừng (ví dụ: chờ sửa nội dung công văn).")
        _ledger().pause(name, reason, person, utc_now())
        return f"Đã tạm dừng gửi chiến dịch {name}. Thư đang gửi dở (nếu có) vẫn được ghi nhận kết quả."

    return _act(name, run)


@bp.post("/campaigns/<name>/resume")
def resume_action(name: str):
    def run() -> str:
        person = _person()
        _campaign(name)
        resume(_ledger(), name, person)
        return f"Chiến dịch {name} được gửi tiếp ở lượt gửi sau."

    return _act(name, run)


# ---------------------------------------------------------------------------- sending


def _progress(name: str):
    manifest = _manifest(name)
    rows = _rows(manifest)
    events = _ledger().events(name)[-30:][::-1]
    return rows, progress(name, rows, _ledger().pause_state(name), send_running(_root(), name), events)


@bp.get("/campaigns/<name>/sending")
def sending(name: str):
    campaign = _campaign(name)
    rows, state = _progress(name)
    delivered = sorted((row for row in rows if row.delivery is not None),
                       key=lambda row: row.delivery.updated_at, reverse=True)
    page = paginate(delivered, request.args.get("page"), request.args.get("per"))
    ambiguous = ambiguous_codes(rows)
    return render_template(
        "sending.html", campaign=campaign, progress=state, page=page,
        link=lambda row: _recipient_url(name, row, ambiguous),
        page_url=lambda number: url_for("views.sending", name=name, page=number),
        smtp=_smtp_targets(),
    )


def _smtp_targets() -> list[str]:
    """Where each profile sends (host and port only: never a user name or password)."""
    return [f"{profile.name}: {profile.host}:{profile.port}" for profile in _config().smtp.values()]


@bp.get("/campaigns/<name>/progress.json")
def progress_json(name: str):
    _campaign(name)
    _, state = _progress(name)
    return jsonify(state.as_json())


# ---------------------------------------------------------------------------- recipient lists


@bp.get("/lists")
def lists():
    checked = _store().checked_lists(_config())
    severity = request.args.get("severity", "")
    severity = severity if severity in SEVERITY_LABELS else ""
    file_index = request.args.get("file", "")
    chosen = [c for i, c in enumerate(checked) if file_index in ("", str(i))]
    problems = [
        (c, p) for c in chosen if c.result is not None for p in c.result.problems
        if not severity or p.severity == severity
    ]
    total = len(problems)
    pages = max(1, -(-total // PROBLEMS_PER_PAGE))
    number = min(max(1, int(request.args["page"]) if request.args.get("page", "").isdigit() else 1), pages)
    shown = [(c, p, _without_fix(p)) for c, p in problems[(number - 1) * PROBLEMS_PER_PAGE: number * PROBLEMS_PER_PAGE]]
    args = {k: v for k, v in (("severity", severity), ("file", file_index)) if v}
    return render_template(
        "lists.html", checked=checked, problems=shown, total=total, number=number, pages=pages,
        severity=severity, file_index=file_index, severity_labels=SEVERITY_LABELS, root=_root(),
        page_url=lambda n: url_for("views.lists", **args, page=n),
    )


def _without_fix(problem) -> str:
    """The message without its trailing fix, which has a column of its own."""
    suffix = f" Cách sửa: {problem.fix}"
    return problem.message[: -len(suffix)] if problem.fix and problem.message.endswith(suffix) else problem.message


@bp.get("/lists/report.xlsx")
def lists_report():
    checked = _store().checked_lists(_config())
    summary = ValidationSummary(tuple(c.result for c in checked if c.result is not None))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ket-qua-kiem-tra.xlsx"
        write_xlsx(summary, path)
        data = path.read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name="ket-qua-kiem-tra-danh-sach.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# ---------------------------------------------------------------------------- wiring


def _error_page(code: int, text: str):
    return render_template("error.html", code=code, title=ERROR_TITLES.get(code, "Lỗi"), text=redact(text)), code


def init_app(app: Flask) -> None:
    app.extensions["outreach_pages"] = PageCache(Workspace(app.config["OUTREACH_ROOT"]).preview_cache)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        state_names=STATE_NAMES,
        audience_label=audience_label,
        local_time=local_time,
        severity_labels=SEVERITY_LABELS,
        event_label=lambda state: EVENT_LABELS.get(state, state),
        login_required=lambda: bool(current_app.config["OUTREACH_PASSWORD"]),
    )
    app.jinja_env.filters["filesize"] = _filesize
    app.jinja_env.filters["docnumber"] = _document_number

    @app.teardown_appcontext
    def close_ledger(_: BaseException | None) -> None:
        ledger = g.pop("ledger", None)
        if ledger is not None:
            ledger.close()

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        described = error.description if error.description != type(error).description else ""
        return _error_page(error.code or 500, described or ERROR_TEXTS.get(error.code or 500, ""))

    @app.errorhandler(UserError)
    def user_error(error: UserError):
        return _error_page(400, error.message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        current_app.logger.exception("unexpected error")
        return _error_page(500, ERROR_TEXTS[500])


def _document_number(number: str) -> str:
    """``05/BHXH-QLT``, or a plain note for a draft not numbered yet (``      /BHXH-QLT``)."""
    number = number.strip()
    return f"chưa cấp số (…{number})" if not number or number.startswith("/") else number


def _filesize(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB"
