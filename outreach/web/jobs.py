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

from ..accounts import Actor
from ..config import Config, load_config
from ..errors import UserError

if TYPE_CHECKING:
    from flask import Flask

    from ..outbox import BuildReport

log = logging.getLogger(__name__)
BuildFunction = Callable[[Config, str, Actor], "BuildReport"]  # (config, campaign, who runs it)


def default_build(config: Config, campaign: str, by: Actor) -> "BuildReport":
    from ..delivery import Ledger
    from ..outbox import build_campaign

    with Ledger.open(config.root) as ledger:
        return build_campaign(config, campaign, ledger, progress=False, by=by)


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

    def start(self, campaign: str, by: Actor) -> BuildJob:
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
            job.thread = threading.Thread(target=self._run, args=(job, build, config, by), name=f"build-{campaign}",
                                          daemon=True)
            self._jobs[campaign] = job
        job.thread.start()
        return job

    @staticmethod
    def _run(job: BuildJob, build: BuildFunction, config: Config, by: Actor) -> None:
        try:
            job.report = build(config, job.campaign, by)
        except UserError as error:
            job.error = error.message
        except Exception as error:  # shown to staff; the traceback goes to the server's log
            log.exception("build of %s failed", job.campaign)
            job.error = f"Lỗi không mong đợi khi tạo bản thảo: {type(error).__name__}: {error}"
        finally:
            job.finished_at = dt.datetime.now(dt.timezone.utc)
