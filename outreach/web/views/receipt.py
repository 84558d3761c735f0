"""The recipients' page: a personal link confirms that a letter was received.

``GET /xac-nhan/<token>`` shows the letter's number and subject and, until it is confirmed, the
button «Xác nhận đã nhận công văn»; it never changes anything, since mail security gateways open
every link of a message before a person does. Only the button's ``POST`` to the same address
confirms (time, client address, user agent), then shows the page again, saying since when the
letter is confirmed. No login and no session: the token (192 random bits, only its sha256 kept in
the ledger) is the secret and names that one letter; an unknown one is a 404 like any missing page.
Both are rate limited per client address.
"""

from __future__ import annotations

import re

from flask import abort, current_app, redirect, render_template, request, url_for

from ...config import RECEIPT_PATH
from ...delivery import Receipt, utc_now
from ...localtime import local_time
from ..security import RateLimit
from ._request import app_store, bp, request_config, request_ledger

RECIPIENT_ENDPOINTS = frozenset({"views.receipt", "views.receipt_confirm"})
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
TOO_MANY = ("Địa chỉ của anh/chị đã mở trang xác nhận quá nhiều lần trong thời gian ngắn. "
            "Xin chờ ít phút rồi mở lại đường dẫn trong thư.")
UNKNOWN = ("Đường dẫn xác nhận không đúng hoặc không còn dùng được. Xin mở lại đúng đường dẫn trong thư điện tử "
           "đã nhận (chép đủ cả dòng), hoặc trả lời thư đó để báo đã nhận công văn.")


def _limited() -> None:
    limit: RateLimit = current_app.extensions.setdefault(
        "outreach_receipt_limit", RateLimit(*current_app.config["OUTREACH_RECEIPT_LIMIT"]))
    if not limit.allow(request.remote_addr or "?"):
        abort(429, description=TOO_MANY)


def _page(receipt: Receipt, token: str, status: int = 200):
    config = request_config()
    campaign = config.campaigns.get(receipt.campaign)
    manifest = app_store().manifest(receipt.campaign)
    number = manifest.document_number.strip() if manifest and manifest.numbered else ""
    confirmation = receipt.confirmation
    return render_template(
        "receipt.html",
        issuing_body=config.agency.issuing_body,
        number=number,
        subject=campaign.subject if campaign else "",
        confirmed_at=local_time(confirmation.at) if confirmation else "",
        confirmable=receipt.confirmable,
        action=url_for("views.receipt_confirm", token=token),
    ), status


def _receipt_or_404(token: str) -> Receipt:
    receipt = request_ledger().receipt(token) if _TOKEN.fullmatch(token) else None
    if receipt is None:
        abort(404, description=UNKNOWN)
    return receipt


@bp.get(f"{RECEIPT_PATH}<token>")
def receipt(token: str):
    _limited()
    return _page(_receipt_or_404(token), token)


@bp.post(f"{RECEIPT_PATH}<token>")
def receipt_confirm(token: str):
    _limited()
    _receipt_or_404(token)
    request_ledger().confirm(token, request.remote_addr or "?", request.headers.get("User-Agent", ""), utc_now())
    return redirect(url_for("views.receipt", token=token), code=303)
