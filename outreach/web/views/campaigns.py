"""The campaign list and one campaign's page: build, issue the number, the print bundles (the build's
preview, and the paper channel's bundles of approved letters)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flask import (
    abort,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)

from ...accounts import Role
from ...delivery import PAPER, Phase, bundles
from ...errors import UserError
from ...localtime import office_today
from ...workspace import Workspace
from ..auth import requires
from ..jobs import IDLE, Job
from ..pages import CampaignPage
from ..progress import send_running
from ..store import (
    NO_DISTRICT,
    PROBLEM_NAMES,
    ambiguous_codes,
)
from ._request import (
    act,
    acting_person,
    app_store,
    approve_jobs,
    bp,
    build_jobs,
    campaign_or_404,
    form_day,
    phase_of,
    recipient_url,
    request_config,
    request_ledger,
    rows_of,
    workspace_root,
)


@bp.get("/")
def campaigns():
    config = request_config()
    items = []
    for campaign in config.campaigns.values():
        manifest = app_store().manifest(campaign.name)
        counts: Counter[str] = Counter()
        if manifest is not None:
            counts = Counter(row.state for row in rows_of(manifest))
        items.append({
            "campaign": campaign,
            "manifest": manifest,
            "counts": counts,
            "phase": phase_of(campaign, manifest),
            "pause": request_ledger().pause_state(campaign.name),
            "running": send_running(workspace_root(), campaign.name),
            "job": build_jobs().get(campaign.name),
            "approving": approve_jobs().running(campaign.name),
        })
    return render_template("campaigns.html", items=items, broken=config.broken_campaigns)


@bp.post("/campaigns/<name>/build")
@requires(Role.DRAFTER)
def build(name: str):
    campaign = campaign_or_404(name)
    newcomers = [] if request.form.get("confirm_new") == "1" else _newcomers_of_a_sent_campaign(name)
    if newcomers:  # letters have gone out: drafting anyone new is a decision, not a side effect
        return render_template("confirm_build.html", campaign=campaign, newcomers=newcomers,
                               next=request.form.get("next", ""))

    def start() -> str:
        build_jobs().start(name, by=acting_person(required=False))
        return "Đã bắt đầu tạo bản thảo. Việc chuyển công văn sang PDF có thể mất vài phút; trang sẽ báo khi xong."

    return act(name, start)


def _newcomers_of_a_sent_campaign(name: str) -> list:
    """The recipients a rebuild would draft for the first time, once some letter of the campaign is
    evidence (sent, printed, posted); none before that, when a build is only drafting."""
    manifest = app_store().manifest(name)
    if manifest is None or not request_ledger().evidence_keys(name):
        return []
    from ...outbox import load_campaign_recipients

    drafted = {d.key for d in manifest.drafts}
    config = request_config()
    return [r for listed in load_campaign_recipients(config, config.campaign(name)) for r in listed.recipients
            if r.key not in drafted]


@bp.post("/campaigns/<name>/issue")
@requires(Role.SENDER)
def issue(name: str):
    """Take the campaign's number from the register (sổ văn bản đi), then rebuild with it."""
    campaign_or_404(name)

    def run() -> str:
        from ...outbox import issue_document_number

        day = form_day("date", "Ngày ký")
        if build_jobs().running(name):
            raise UserError("Chiến dịch đang được tạo bản thảo; chờ xong rồi hãy cấp số.")
        if approve_jobs().running(name):
            raise UserError("Chiến dịch đang được duyệt; chờ xong rồi hãy cấp số.")
        person = acting_person()
        entry = issue_document_number(request_config(), name, day, person)
        build_jobs().start(name, by=person)
        return (f"Công văn được cấp số {entry.number:02d}/{entry.ky_hieu}, ngày {entry.issued_on:%d/%m/%Y}. "
                "Đang tạo lại bản thảo với số này; xem lại các thư rồi duyệt.")

    return act(name, run)


@bp.get("/campaigns/<name>")
def campaign(name: str):
    campaign = campaign_or_404(name)
    manifest = app_store().manifest(name)
    job = build_jobs().get(name)
    if manifest is None:
        return render_template("campaign.html", campaign=campaign, manifest=None, job=job, approve_job=None,
                               numbered=False, phase=Phase.NOT_BUILT)
    rows = rows_of(manifest)
    view = CampaignPage.build(campaign, request_config().senders(), rows, request.args)
    ambiguous = ambiguous_codes(rows)
    filters, page = view.filters, view.page
    return render_template(
        "campaign.html",
        campaign=campaign,
        manifest=manifest,
        job=job,
        approve_job=approve_jobs().get(name),
        phase=phase_of(campaign, manifest),
        rows=rows,
        filters=filters,
        base_args=view.base_args,
        page=page,
        counts=view.counts,
        selected_counts=view.selected_counts,
        audiences=view.audiences,
        districts=view.districts,
        has_no_district=view.has_no_district,
        departments=view.departments,
        by_sender=view.by_sender,
        link=lambda row: recipient_url(name, row, ambiguous, **filters.args()),
        page_url=lambda number: url_for("views.campaign", name=name, **filters.args(), page=number,
                                        **({"per": page.per} if request.args.get("per") else {})),
        pause=request_ledger().pause_state(name),
        running=send_running(workspace_root(), name),
        print_bundle=_print_bundle(name),
        paper_bundles=bundles(Workspace(workspace_root()).paper_bundles(name)),
        paper_count=sum(1 for row in rows if row.draft.channel == PAPER),
        no_district=NO_DISTRICT,
        numbered=manifest.numbered,
        today=office_today().isoformat(),
        problem_names=PROBLEM_NAMES,
    )


@bp.get("/campaigns/<name>/build-progress.json")
def build_progress(name: str):
    """The campaign's build running from the page: letters done of those to do, time left."""
    campaign_or_404(name)
    return _job_progress(build_jobs().get(name))


@bp.get("/campaigns/<name>/approve-progress.json")
def approve_progress(name: str):
    """The campaign's approval running in the background (many letters at once), as the build's."""
    campaign_or_404(name)
    return _job_progress(approve_jobs().get(name))


def _job_progress(job: Job | None):
    return jsonify((job.progress() if job else IDLE).as_json())


def _print_bundle(name: str) -> Path | None:
    workspace = Workspace(workspace_root())
    supplementary = set(workspace.supplementary_files(name))  # collect's, not the build's preview
    return next((p for p in sorted(workspace.print_folder(name).glob("ban-in-*.pdf")) if p not in supplementary), None)


@bp.get("/campaigns/<name>/print.pdf")
def print_bundle(name: str):
    campaign_or_404(name)
    path = _print_bundle(name)
    if path is None:
        abort(404, description="Chiến dịch này không có thư nào phải in (mọi người nhận đều có e-mail).")
    return send_file(path, mimetype="application/pdf", download_name=path.name)


@bp.get("/campaigns/<name>/paper/<filename>")
def paper_bundle(name: str, filename: str):
    """One bundle of approved letters to print and post (only a name the bundles folder lists)."""
    campaign_or_404(name)
    path = next((p for p in bundles(Workspace(workspace_root()).paper_bundles(name)) if p.name == filename), None)
    if path is None:
        abort(404, description=f"Chiến dịch này không có bản in '{filename}'.")
    return send_file(path, mimetype="application/pdf", download_name=path.name)
