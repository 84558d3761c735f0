"""One recipient's preview: the letter's pages beside the e-mail, and the files behind them."""

from __future__ import annotations

import io

from flask import (
    Response,
    abort,
    render_template,
    request,
    send_file,
    session,
    url_for,
)

from ...delivery import INBOUND_LABELS, bundle_of
from ...errors import UserError
from ...localtime import office_today
from ..preview import attachment, letter_pdf, message_view, read_message
from ..security import BODY_SECURITY_POLICY
from ...sign import letter_signatures
from ..pages import RecipientPage
from ..store import (
    ambiguous_codes,
)
from ._request import (
    bp,
    campaign_or_404,
    manifest_or_404,
    page_cache,
    recipient_url,
    request_config,
    request_ledger,
    row_or_404,
    rows_of,
    workspace_root,
)


@bp.get("/campaigns/<name>/recipients/<code>")
def recipient(name: str, code: str):
    campaign = campaign_or_404(name)
    manifest = manifest_or_404(name)
    rows = rows_of(manifest)
    row = row_or_404(rows, code)
    ambiguous = ambiguous_codes(rows)
    found = read_message(workspace_root(), row.draft)
    view = message_view(*found) if found else None
    page = RecipientPage.build(rows, row, request.args, view)
    filters = page.filters
    pages = page_cache()
    sha, page_count, letter_error = "", 0, ""
    try:
        sha = pages.store(letter_pdf(workspace_root(), row.draft))
        page_count = pages.page_count(sha)
    except UserError as error:
        letter_error = error.message
    bundle = bundle_of(row.delivery.where) if row.delivery else ""
    kind = {"kind": row.draft.audience} if row.draft.code in ambiguous else {}
    return render_template(
        "recipient.html",
        campaign=campaign,
        manifest=manifest,
        row=row,
        view=view,
        problems=page.problems,
        sha=sha,
        page_count=page_count,
        letter_error=letter_error,
        kind=kind,
        filters=filters,
        position=page.position,
        listed=page.listed,
        previous_url=recipient_url(name, page.previous, ambiguous, **filters.args()) if page.previous else None,
        next_url=recipient_url(name, page.next, ambiguous, **filters.args()) if page.next else None,
        back_url=url_for("views.campaign", name=name, **filters.args(), page=page.list_page),
        events=request_ledger().events(name, row.key),
        inbound=request_ledger().inbound(name, row.key),
        inbound_labels=INBOUND_LABELS,
        sender=request_config().senders().get(row.draft.sender),
        test_to=session.get("test_to", ""),
        numbered=manifest.numbered,
        signatures=letter_signatures(request_config(), row.draft),
        bundle_url=url_for("views.paper_bundle", name=name, filename=bundle.rpartition("/")[2]) if bundle else None,
        today=office_today().isoformat(),
    )


@bp.get("/campaigns/<name>/recipients/<code>/pages/<int:number>.png")
def page_image(name: str, code: str, number: int):
    row = row_or_404(rows_of(manifest_or_404(name)), code)
    pages = page_cache()
    sha = pages.store(letter_pdf(workspace_root(), row.draft))
    try:
        path = pages.page_png(sha, number)
    except KeyError:
        abort(404, description=f"Công văn không có trang {number}.")
    response = send_file(path, mimetype="image/png", etag=f"{sha}-{number}", conditional=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/campaigns/<name>/recipients/<code>/letter.pdf")
def letter(name: str, code: str):
    row = row_or_404(rows_of(manifest_or_404(name)), code)
    response = Response(letter_pdf(workspace_root(), row.draft), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="cong-van-{row.draft.code}.pdf"'
    return response


@bp.get("/campaigns/<name>/recipients/<code>/letter.docx")
def letter_docx(name: str, code: str):
    """The letter as Word made it, for a person who must correct or print it by hand."""
    row = row_or_404(rows_of(manifest_or_404(name)), code)
    path = row.draft.path(workspace_root(), "letter.docx")
    if not path.is_file():
        abort(404, description="Bản thảo này không còn tệp Word (letter.docx).")
    return send_file(path, as_attachment=True, download_name=f"cong-van-{row.draft.code}.docx",
                     mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def _message(name: str, code: str):
    row = row_or_404(rows_of(manifest_or_404(name)), code)
    found = read_message(workspace_root(), row.draft)
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
