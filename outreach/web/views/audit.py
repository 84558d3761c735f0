"""A campaign's audit page: who did what, when and from where, from the ledger and the register."""

from __future__ import annotations

from flask import render_template, request, url_for

from ...letters import Register
from ...workspace import Workspace
from ..pages import AuditPage
from ._request import bp, campaign_or_404, request_ledger, workspace_root


@bp.get("/campaigns/<name>/audit")
def audit(name: str):
    campaign = campaign_or_404(name)
    entries = Register(Workspace(workspace_root()).register).history(name)
    view = AuditPage.build(request_ledger().events(name), entries, request.args)
    return render_template(
        "audit.html", campaign=campaign, view=view,
        page_url=lambda number: url_for("views.audit", name=name, page=number,
                                        **({"action": view.action} if view.action else {})),
    )
