"""Work started from a page that outlasts the request: building drafts, approving many, sending. One
background thread per campaign and kind of work, its result kept for display.

A build converts every letter with LibreOffice and may take minutes; approving thousands of letters
reads, hashes and copies every payload; a send waits between messages for the sender's rate. So the
button starts the work and returns at once; the pages show it running, with the count of letters done
and the time left (``Job.progress``, polled by the page), until it ends, then its report. A build and
an approval of the same campaign never run together (the drafts are being replaced, or bound to their
bytes): rival kinds share one lock and each refuses to start while the other runs. A send holds the
campaign's send lock, as `outreach send` does.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..accounts import Actor
from ..config import Config, load_config
from ..errors import UserError
from ..outbox import OnStep, Step, no_steps
from ..text import format_number

if TYPE_CHECKING:
    from flask import Flask

    from ..convert import PdfConverter
    from ..delivery import Delivery, SendReport
    from ..outbox import BuildReport

log = logging.getLogger(__name__)
Work = Callable[..., Any]  # (config, campaign name, **options[, on_step=]) -> its report


def default_build(config: Config, campaign: str, *, by: Actor | None = None, on_step: OnStep = no_steps) -> "BuildReport":
    from ..delivery import Ledger
    from ..outbox import build_campaign

    reminder = config.campaign(campaign).reminder
    if reminder is not None:  # counted by nobody: the page says only how long it has run
        return _build_reminder(config, campaign, reminder.parent)
    with Ledger.open(config.root) as ledger:
        return build_campaign(config, campaign, ledger, progress=False, by=by, on_step=on_step,
                              converter=_server_converter())


@functools.cache
def _server_converter() -> "PdfConverter":
    """One converter for the server's life: its LibreOffice processes stay running between builds
    (starting them takes seconds), and a rebuild that changes only page 1 (the number issued)
    converts only page 1 on the stand-ins of the build before.  Its offices end with the server
    (the bridge takes LibreOffice down with its parent)."""
    from ..convert import PdfConverter

    converter = PdfConverter(keep_warm=True)
    atexit.register(converter.close)
    return converter


def default_approve(config: Config, campaign: str, *, by: Actor, keys: Sequence[str], four_eyes: bool,
                    on_step: OnStep = no_steps) -> "list[Delivery]":
    """«Duyệt» of many letters, as the page's own approval: the manifest read again here (no build can
    have run since the page checked, the build being this job's rival)."""
    from ..delivery import Ledger, approve
    from ..outbox import read_manifest

    with Ledger.open(config.root) as ledger:
        return approve(config.root, ledger, read_manifest(config.root, campaign), by, keys, four_eyes=four_eyes,
                       on_step=on_step)


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


def default_send(config: Config, campaign: str, *, by: Actor, retry_now: bool = False) -> "SendReport":
    from ..delivery import Ledger, send_campaign
    from ..outbox import read_manifest

    with Ledger.open(config.root) as ledger:
        return send_campaign(config, read_manifest(config.root, campaign), ledger, retry_now=retry_now, by=by)


@dataclass(frozen=True)
class Kind:
    """One kind of work: where the app keeps its function (tests may replace it), and its words."""

    config_key: str  # app.config entry holding the Work
    doing: str  # "được tạo bản thảo": what a running job is doing to the campaign
    failed: str  # "tạo bản thảo": in "Lỗi không mong đợi khi …"
    title: str  # "Đang tạo bản thảo": the running job's notice, before its work has told a step
    counted: bool = False  # the Work takes ``on_step`` and tells each letter done


BUILD = Kind("OUTREACH_BUILD", "được tạo bản thảo", "tạo bản thảo", "Đang tạo bản thảo", counted=True)
APPROVE = Kind("OUTREACH_APPROVE", "được duyệt", "duyệt thư", "Đang duyệt thư", counted=True)
SEND = Kind("OUTREACH_SEND", "được gửi", "gửi thư", "Đang gửi thư")


@dataclass(frozen=True)
class JobProgress:
    """What the page shows of a job, and its JSON: "Đang tạo bản thảo: 120/2.156 thư, còn khoảng 3 phút"."""

    running: bool
    phase: str  # "" before the work has said what it does
    done: int
    total: int
    seconds_left: int | None  # None: not known yet (nothing done in this phase), or ended
    text: str
    error: str

    def as_json(self) -> dict:
        return asdict(self)


IDLE = JobProgress(running=False, phase="", done=0, total=0, seconds_left=None, text="", error="")  # no job yet


@dataclass
class Job:
    campaign: str
    started_at: dt.datetime
    title: str = ""  # its Kind's
    finished_at: dt.datetime | None = None
    report: Any = None
    error: str = ""
    thread: threading.Thread | None = None
    # The latest step the work told, when its phase began (monotonic seconds) and the count then: the
    # rate is that phase's. One tuple, replaced whole: a reader never pairs a step with another's start.
    _told: tuple[Step, float, int] | None = field(default=None, repr=False)

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

    def told(self, step: Step, now: float | None = None) -> None:
        """The job's :data:`OnStep`, called on the work's thread (``now``: monotonic seconds, for tests)."""
        now = time.monotonic() if now is None else now
        told = self._told
        self._told = (step, told[1], told[2]) if told and told[0].phase == step.phase else (step, now, step.done)

    def progress(self, now: float | None = None) -> JobProgress:
        told = self._told
        if not self.running or told is None:
            text = f"{self.title}: đang chuẩn bị (đã chạy {self.duration})…" if self.running else ""
            return JobProgress(self.running, told[0].phase if told else "", told[0].done if told else 0,
                               told[0].total if told else 0, None, text, self.error)
        step, started, first = told
        elapsed = (time.monotonic() if now is None else now) - started
        left = round((step.total - step.done) * elapsed / (step.done - first)) if step.done > first else None
        text = f"{step.phase}: {format_number(step.done)}/{format_number(step.total)} thư"
        if step.done >= step.total:
            text += ", sắp xong"
        else:
            text += f", {time_left(left)}" if left is not None else ", đang ước tính thời gian còn lại"
        return JobProgress(True, step.phase, step.done, step.total, left, text, "")


def time_left(seconds: int) -> str:
    """"còn khoảng 3 phút": rounded as a person would say it, never "0 giây" (work is left)."""
    if seconds < 60:
        return f"còn khoảng {max(5, -(-seconds // 5) * 5)} giây"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"còn khoảng {minutes} phút"
    return f"còn khoảng {minutes // 60} giờ {minutes % 60} phút" if minutes % 60 else f"còn khoảng {minutes // 60} giờ"


class Jobs:
    """The jobs of one kind, the last one of each campaign kept for its page."""

    def __init__(self, app: "Flask", kind: Kind, lock: threading.RLock | None = None) -> None:
        self.app = app
        self.kind = kind
        self._lock = lock or threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._rivals: list[Jobs] = []

    def rival(self, other: "Jobs") -> None:
        """Neither kind starts on a campaign while the other runs on it (both must share one lock)."""
        assert other._lock is self._lock
        self._rivals.append(other)
        other._rivals.append(self)

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
            for jobs in (self, *self._rivals):
                current = jobs._jobs.get(campaign)
                if current is not None and current.running:
                    raise UserError(f"Chiến dịch {campaign} đang {jobs.kind.doing} (bắt đầu {current.duration} trước). "
                                    "Chờ xong rồi hãy làm lại.")
            job = Job(campaign, dt.datetime.now(dt.timezone.utc), self.kind.title)
            if self.kind.counted:
                options = {**options, "on_step": job.told}
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
