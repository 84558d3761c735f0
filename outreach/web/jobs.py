"""Building drafts from the web page: one background thread per campaign, its result kept for display.

A build converts every letter with LibreOffice and may take minutes, so the button starts it and
returns at once; the pages show "đang tạo bản thảo" until it ends, then its report. Approval is
refused while a build of the same campaign runs (the drafts are being replaced).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..config import Config, load_config
from ..errors import UserError

if TYPE_CHECKING:
    from flask import Flask

    from ..outbox import BuildReport

log = logging.getLogger(__name__)
BuildFunction = Callable[[Config, str], "BuildReport"]


def default_build(config: Config, campaign: str) -> "BuildReport":
    from ..delivery import Ledger
    from ..outbox import build_campaign

    reminder = config.campaign(campaign).reminder
    if reminder is not None:
        return _build_reminder(config, campaign, reminder.parent)
    with Ledger.open(config.root) as ledger:
        return build_campaign(config, campaign, ledger, progress=False)


def _build_reminder(config: Config, campaign: str, parent: str) -> "BuildReport":
    """A reminder's «Tạo bản thảo» is `outreach remind`, told as a build (the page shows one kind)."""
    from ..outbox import BuildReport, read_manifest
    from ..schedule import build_reminders

    (report,) = [r for r in build_reminders(config, parent) if r.campaign == campaign]
    notes = [f"{len(report.answered)} người nhận đã xác nhận đã nhận công văn nên không được nhắc."] if report.answered else []
    if report.not_due:
        notes.append(f"{len(report.not_due)} người nhận chưa đến hạn nhắc ({report.after_working_days} ngày làm việc "
                     "sau ngày gửi).")
    if report.expired:
        notes.append(f"Chiến dịch {parent} đã hết hạn: không tạo thư nhắc mới.")
    return BuildReport(campaign=campaign, document_number=read_manifest(config.root, campaign).document_number,
                       built=report.built, unchanged=report.unchanged, failed=report.failed, warnings=notes,
                       drafts=len(report.built) + len(report.unchanged))


@dataclass
class BuildJob:
    campaign: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    report: "BuildReport | None" = None
    error: str = ""
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def wait(self, timeout: float | None = None) -> bool:
        """For tests and shutdown: True when the build has ended."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running

    @property
    def duration(self) -> str:
        end = self.finished_at or dt.datetime.now(dt.timezone.utc)
        seconds = int((end - self.started_at).total_seconds())
        return f"{seconds // 60} phút {seconds % 60} giây" if seconds >= 60 else f"{seconds} giây"


class BuildJobs:
    def __init__(self, app: "Flask") -> None:
        self.app = app
        self._lock = threading.Lock()
        self._jobs: dict[str, BuildJob] = {}

    def get(self, campaign: str) -> BuildJob | None:
        with self._lock:
            return self._jobs.get(campaign)

    def running(self, campaign: str) -> bool:
        job = self.get(campaign)
        return job is not None and job.running

    def start(self, campaign: str) -> BuildJob:
        build: BuildFunction = self.app.config["OUTREACH_BUILD"]
        root = self.app.config["OUTREACH_ROOT"]
        config = load_config(root)
        config.campaign(campaign)  # unknown name: UserError now, not in the thread
        with self._lock:
            current = self._jobs.get(campaign)
            if current is not None and current.running:
                raise UserError(f"Chiến dịch {campaign} đang được tạo bản thảo (bắt đầu "
                                f"{current.duration} trước). Chờ xong rồi hãy tạo lại.")
            job = BuildJob(campaign, dt.datetime.now(dt.timezone.utc))
            job.thread = threading.Thread(target=self._run, args=(job, build, config), name=f"build-{campaign}",
                                          daemon=True)
            self._jobs[campaign] = job
        job.thread.start()
        return job

    @staticmethod
    def _run(job: BuildJob, build: BuildFunction, config: Config) -> None:
        try:
            job.report = build(config, job.campaign)
        except UserError as error:
            job.error = error.message
        except Exception as error:  # shown to staff; the traceback goes to the server's log
            log.exception("build of %s failed", job.campaign)
            job.error = f"Lỗi không mong đợi khi tạo bản thảo: {type(error).__name__}: {error}"
        finally:
            job.finished_at = dt.datetime.now(dt.timezone.utc)
