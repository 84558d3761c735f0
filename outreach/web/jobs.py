"""Work started from a page that outlasts the request: building drafts, sending. One background
thread per campaign and kind of work, its result kept for display.

A build converts every letter with LibreOffice and may take minutes; a send waits between messages
for the sender's rate. So the button starts the work and returns at once; the pages show it running
until it ends, then its report. Approval is refused while a build of the same campaign runs (the
drafts are being replaced); a send holds the campaign's send lock, as `outreach send` does.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..config import Config, load_config
from ..errors import UserError

if TYPE_CHECKING:
    from flask import Flask

    from ..delivery import SendReport
    from ..outbox import BuildReport

log = logging.getLogger(__name__)
Work = Callable[[Config, str], Any]  # (config, campaign name) -> its report


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


def default_send(config: Config, campaign: str, *, retry_now: bool = False) -> "SendReport":
    from ..delivery import Ledger, send_campaign
    from ..outbox import read_manifest

    with Ledger.open(config.root) as ledger:
        return send_campaign(config, read_manifest(config.root, campaign), ledger, retry_now=retry_now)


@dataclass(frozen=True)
class Kind:
    """One kind of work: where the app keeps its function (tests may replace it), and its words."""

    config_key: str  # app.config entry holding the Work
    doing: str  # "được tạo bản thảo": what a running job is doing to the campaign
    failed: str  # "tạo bản thảo": in "Lỗi không mong đợi khi …"


BUILD = Kind("OUTREACH_BUILD", "được tạo bản thảo", "tạo bản thảo")
SEND = Kind("OUTREACH_SEND", "được gửi", "gửi thư")


@dataclass
class Job:
    campaign: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    report: Any = None
    error: str = ""
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def wait(self, timeout: float | None = None) -> bool:
        """For tests and shutdown: True when the work has ended."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running

    @property
    def duration(self) -> str:
        end = self.finished_at or dt.datetime.now(dt.timezone.utc)
        seconds = int((end - self.started_at).total_seconds())
        return f"{seconds // 60} phút {seconds % 60} giây" if seconds >= 60 else f"{seconds} giây"


class Jobs:
    """The jobs of one kind, the last one of each campaign kept for its page."""

    def __init__(self, app: "Flask", kind: Kind) -> None:
        self.app = app
        self.kind = kind
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def get(self, campaign: str) -> Job | None:
        with self._lock:
            return self._jobs.get(campaign)

    def running(self, campaign: str) -> bool:
        job = self.get(campaign)
        return job is not None and job.running

    def start(self, campaign: str, **options: object) -> Job:
        work: Work = self.app.config[self.kind.config_key]
        config = load_config(self.app.config["OUTREACH_ROOT"], lenient_campaigns=True)
        config.campaign(campaign)  # unknown or broken: UserError now, not in the thread
        with self._lock:
            current = self._jobs.get(campaign)
            if current is not None and current.running:
                raise UserError(f"Chiến dịch {campaign} đang {self.kind.doing} (bắt đầu {current.duration} trước). "
                                "Chờ xong rồi hãy làm lại.")
            job = Job(campaign, dt.datetime.now(dt.timezone.utc))
            job.thread = threading.Thread(target=self._run, args=(job, work, config, options),
                                          name=f"{self.kind.config_key.lower()}-{campaign}", daemon=True)
            self._jobs[campaign] = job
        job.thread.start()
        return job

    def _run(self, job: Job, work: Work, config: Config, options: dict[str, object]) -> None:
        try:
            job.report = work(config, job.campaign, **options)
        except UserError as error:
            job.error = error.message
        except Exception as error:  # shown to staff; the traceback goes to the server's log
            log.exception("%s of %s failed", self.kind.failed, job.campaign)
            job.error = f"Lỗi không mong đợi khi {self.kind.failed}: {type(error).__name__}: {error}"
        finally:
            job.finished_at = dt.datetime.now(dt.timezone.utc)
