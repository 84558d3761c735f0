"""Error pages, Jinja globals and filters: what the app needs once, at start."""

from __future__ import annotations

from collections import Counter

from flask import (
    Flask,
    current_app,
    g,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from ...accounts import ROLE_LABELS, Role
from ...delivery import (
    APPROVABLE,
    DELIVERED,
    DRAFT_STATES,
    EVIDENCE,
    LABELS,
    PAPER,
    PHASE_LABELS,
    POSTABLE,
    REVOCABLE,
    WAITING,
    State,
    Unsent,
    answer_text,
    event_label,
)
from ...errors import ConfigError, UserError
from ...localtime import day_of, local_time
from ...outbox import CHANNEL_LABELS
from ...recipients import SEVERITY_LABELS
from ...workspace import Workspace
from ..preview import PageCache
from ..store import (
    audience_label,
)
from ._request import bp, redact
from .receipt import RECIPIENT_ENDPOINTS

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không được phép",
    404: "Không tìm thấy",
    405: "Thao tác không hợp lệ",
    413: "Dữ liệu gửi lên quá lớn",
    429: "Thử quá nhiều lần",
    500: "Lỗi của chương trình",
    503: "Cấu hình chưa dùng được",
}
ERROR_TEXTS = {
    404: "Trang này không tồn tại. Quay về danh sách chiến dịch để chọn lại.",
    405: "Địa chỉ này không nhận thao tác như vậy. Hãy dùng các nút trên trang.",
    413: "Dữ liệu gửi lên quá lớn (tối đa 2 MB). Với một danh sách: lưu lại tệp chỉ với trang tính và các cột "
         "cần dùng, hoặc chia thành nhiều tệp.",
    500: "Chương trình gặp lỗi không mong đợi. Chi tiết đã được ghi vào nhật ký của máy chủ; "
         "hãy báo cho người quản trị.",
}
# Where a page offers «Duyệt»: an approved message needs no second approval of the same bytes.
APPROVE_OFFERED = frozenset({Unsent.DRAFTED, *APPROVABLE}) - {State.APPROVED}


def _error_page(code: int, text: str):
    # A recipient sees no staff page, link or menu: only what went wrong.
    template = "receipt_error.html" if request.endpoint in RECIPIENT_ENDPOINTS else "error.html"
    return render_template(template, code=code, title=ERROR_TITLES.get(code, "Lỗi"), text=redact(text)), code


def init_app(app: Flask) -> None:
    app.extensions["outreach_pages"] = PageCache(Workspace(app.config["OUTREACH_ROOT"]).preview_cache)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        State=State,
        Unsent=Unsent,
        draft_states=DRAFT_STATES,
        labels=LABELS,
        revocable=REVOCABLE,
        approve_offered=APPROVE_OFFERED,
        evidence=EVIDENCE,
        waiting=WAITING,
        postable=POSTABLE,
        delivered=DELIVERED,
        PAPER=PAPER,
        channel_labels=CHANNEL_LABELS,
        count_in=_count_in,
        phase_labels=PHASE_LABELS,
        audience_label=audience_label,
        local_time=local_time,
        severity_labels=SEVERITY_LABELS,
        event_label=event_label,
        answer_text=answer_text,
        Role=Role,
        role_labels=ROLE_LABELS,
    )
    app.jinja_env.filters["filesize"] = _filesize
    app.jinja_env.filters["docnumber"] = _document_number
    app.jinja_env.filters["day"] = day_of

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
        # config.toml as written cannot be used: the server's setup, not this request, is at fault
        return _error_page(503 if isinstance(error, ConfigError) else 400, error.message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        current_app.logger.exception("unexpected error")
        return _error_page(500, ERROR_TEXTS[500])


def _count_in(counts: Counter[str], states: frozenset[str]) -> int:
    """How many rows are in any of these states: ``count_in(counts, revocable)`` in a template."""
    return sum(counts[state] for state in states)


def _document_number(number: str) -> str:
    """``05/BHXH-QLT``, or a plain note for a draft not numbered yet (``      /BHXH-QLT``)."""
    number = number.strip()
    return f"chưa cấp số (…{number})" if not number or number.startswith("/") else number


def _filesize(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB"
