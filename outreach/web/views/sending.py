"""Sending progress of one campaign and its delivery record."""

from __future__ import annotations

from flask import (
    jsonify,
    render_template,
    request,
    url_for,
)

from ..progress import progress, send_running
from ..store import (
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
    page = paginate(delivered, request.args.get("page"), request.args.get("per"))
    ambiguous = ambiguous_codes(rows)
    return render_template(
        "sending.html", campaign=campaign, progress=state, page=page,
        link=lambda row: recipient_url(name, row, ambiguous),
        page_url=lambda number: url_for("views.sending", name=name, page=number),
        smtp=_smtp_targets(),
    )


def _smtp_targets() -> list[str]:
    """Where each profile sends (host and port only: never a user name or password)."""
    return [f"{profile.name}: {profile.host}:{profile.port}" for profile in request_config().smtp.values()]


@bp.get("/campaigns/<name>/progress.json")
def progress_json(name: str):
    campaign_or_404(name)
    _, state = _progress(name)
    return jsonify(state.as_json())
