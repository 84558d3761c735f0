"""Validation of the recipient files, as a page and as an Excel report."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import (
    render_template,
    request,
    send_file,
    url_for,
)

from ...recipients import SEVERITY_LABELS, ValidationSummary, write_xlsx
from ..store import paginate
from ._request import app_store, bp, request_config, workspace_root

PROBLEMS_PER_PAGE = 100


@bp.get("/lists")
def lists():
    checked = app_store().checked_lists(request_config())
    severity = request.args.get("severity", "")
    severity = severity if severity in SEVERITY_LABELS else ""
    file_index = request.args.get("file", "")
    chosen = [c for i, c in enumerate(checked) if file_index in ("", str(i))]
    problems = [
        (c, p) for c in chosen if c.result is not None for p in c.result.problems
        if not severity or p.severity == severity
    ]
    page = paginate(problems, request.args.get("page"), PROBLEMS_PER_PAGE, PROBLEMS_PER_PAGE)
    shown = [(c, p, without_fix(p)) for c, p in page.items]
    args = {k: v for k, v in (("severity", severity), ("file", file_index)) if v}
    return render_template(
        "lists.html", checked=checked, problems=shown, total=page.total, number=page.number, pages=page.pages,
        severity=severity, file_index=file_index, severity_labels=SEVERITY_LABELS, root=workspace_root(),
        page_url=lambda n: url_for("views.lists", **args, page=n),
        campaigns=[c for c in request_config().campaigns.values() if c.reminder is None],
    )


def without_fix(problem) -> str:
    """The message without its trailing fix, which has a column of its own."""
    suffix = f" Cách sửa: {problem.fix}"
    return problem.message[: -len(suffix)] if problem.fix and problem.message.endswith(suffix) else problem.message


@bp.get("/lists/report.xlsx")
def lists_report():
    checked = app_store().checked_lists(request_config())
    summary = ValidationSummary(tuple(c.result for c in checked if c.result is not None))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ket-qua-kiem-tra.xlsx"
        write_xlsx(summary, path)
        data = path.read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name="ket-qua-kiem-tra-danh-sach.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
