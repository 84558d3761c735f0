"""What every view shares: the blueprint, the request's store, config, ledger and campaign, the acting
person (the logged-in account), and the flash-and-redirect wrapper of every action."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)

from ...accounts import Actor
from ...config import Campaign, Config
from ...delivery import Ledger, Phase, campaign_phase, utc_now
from ...errors import UserError, redact
from ...localtime import office_today
from ...outbox import Manifest
from ..jobs import Jobs
from ..reachability import ServerProbe, Unreachable
from ..scheduling import PageScheduler
from ..auth import accounts_on, current_account
from ..preview import PageCache
from ..security import safe_next
from ..store import (
    Row,
    Store,
    find_row,
)

bp = Blueprint("views", __name__)

# ---------------------------------------------------------------------------- request helpers


def workspace_root() -> Path:
    return current_app.config["OUTREACH_ROOT"]


def app_store() -> Store:
    return current_app.extensions["outreach_store"]


def build_jobs() -> Jobs:
    return current_app.extensions["outreach_jobs"]


def send_jobs() -> Jobs:
    return current_app.extensions["outreach_send_jobs"]


def page_scheduler() -> PageScheduler:
    return current_app.extensions["outreach_page_scheduler"]


def unreachable_servers(manifest: Manifest) -> list[Unreachable]:
    """The mail servers the campaign's e-mails go through that do not answer now."""
    config = request_config()
    senders = config.senders()
    names = dict.fromkeys(senders[d.sender].smtp for d in manifest.drafts if d.to and d.sender in senders)
    probe: ServerProbe = current_app.extensions["outreach_probe"]
    return probe.unreachable(config.smtp[name] for name in names if name in config.smtp)


def approve_jobs() -> Jobs:
    return current_app.extensions["outreach_approve_jobs"]


def page_cache() -> PageCache:
    return current_app.extensions["outreach_pages"]


def request_config() -> Config:
    if "config" not in g:
        g.config = app_store().config()
    return g.config


def request_ledger() -> Ledger:
    if "ledger" not in g:
        g.ledger = Ledger.open(workspace_root())
    return g.ledger


def campaign_or_404(name: str) -> Campaign:
    config = request_config()
    if name in config.broken_campaigns:
        config.campaign(name)  # raises its ConfigError: the page says what to fix in config.toml
    campaign = config.campaigns.get(name)
    if campaign is None:
        abort(404, description=f"Không có chiến dịch '{name}' trong config.toml hay thư mục campaigns/.")
    return campaign


def manifest_or_404(name: str) -> Manifest:
    campaign_or_404(name)
    manifest = app_store().manifest(name)
    if manifest is None:
        abort(404, description=f"Chiến dịch {name} chưa có bản thảo. Hãy bấm «Tạo bản thảo» ở trang chiến dịch.")
    return manifest


def phase_of(campaign: Campaign, manifest: Manifest | None) -> Phase:
    return campaign_phase(manifest, request_ledger().state_counts(campaign.name), campaign, utc_now())


def rows_of(manifest: Manifest) -> list[Row]:
    ledger = request_ledger()
    return app_store().rows(request_config(), manifest, ledger.deliveries(manifest.campaign),
                            ledger.confirmations(manifest.campaign), ledger.replied_keys(manifest.campaign))


def row_or_404(rows: list[Row], code: str) -> Row:
    row = find_row(rows, code, request.args.get("kind", ""))
    if row is None:
        abort(404, description=f"Không có người nhận mã '{code}' trong bản thảo của chiến dịch này.")
    return row


def acting_person(field: str = "by", *, required: bool = True) -> Actor:
    """Who an action is recorded under: the logged-in account, whatever name the form carries. Only
    where no account exists at all, the name typed into the form (kept in the session to fill the
    next form: one person at their own computer); a form that asks for none (``required=False``,
    the build) records the name last typed, if any."""
    source = f"web {request.remote_addr or '?'}"
    account = current_account()
    if account is not None:
        return account.actor(source)
    if accounts_on():
        abort(401)  # the login check refuses first; never record a typed name beside accounts
    name = " ".join(request.form.get(field, "").split())[:120]
    if not required and not name:
        return Actor(session.get("by", ""), "", source)
    if not name:
        raise UserError("Cần ghi họ tên người thực hiện (ví dụ: Nguyễn Văn A) để lưu làm bằng chứng.")
    session["by"] = name
    return Actor(name, "", source)


def form_day(field: str, label: str) -> dt.date:
    """A day picked in a form's date field (``YYYY-MM-DD``); today, office time, when left empty."""
    raw = request.form.get(field, "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else office_today()
    except ValueError:
        raise UserError(f"{label} '{raw}' không hợp lệ. Chọn ngày trong ô «{label}».") from None


def back_url(name: str) -> str:
    return safe_next(request.form.get("next"), url_for("views.campaign", name=name))


def recipient_url(name: str, row: Row, ambiguous: set[str], **args: str) -> str:
    if row.draft.code in ambiguous:
        args["kind"] = row.draft.audience
    return url_for("views.recipient", name=name, code=row.draft.code, **args)


def flash_outcome(action: Callable[[], str]) -> None:
    """Run one change; its outcome (or the Vietnamese reason it was refused) is flashed."""
    try:
        message = action()
        if message:
            flash(message, "ok")
    except UserError as error:
        flash(redact(error.message), "error")


def act(name: str, action: Callable[[], str]) -> Response:
    """A change on campaign ``name``, then back to the page it was asked from."""
    flash_outcome(action)
    return redirect(back_url(name))
