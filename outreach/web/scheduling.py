"""«Bật lịch gửi tự động» from the page: `outreach run`'s loop in a thread of the web server, so an
office whose staff never open a terminal still sends on each department's calendar.

It is the same loop, with the same lock (a second scheduler of the folder, this one or `outreach
run`, is refused) and heartbeat; «Tắt» asks it to stop as SIGTERM would: the message being handed
over finishes, then it stops. When the server stops, it is asked to stop and waited for.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..accounts import Actor
from ..config import load_config
from ..errors import UserError

log = logging.getLogger(__name__)
STOP_WAIT_S = 30.0  # a message in flight waits for its server's reply (seconds, rarely more)


@dataclass
class PageScheduler:
    root: Path
    started_by: str = ""
    error: str = ""
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, by: Actor) -> None:
        from ..schedule import run_scheduler

        if self.running:
            raise UserError("Lịch gửi tự động đã được bật từ trang này.")
        config = load_config(self.root)  # a mistake in config.toml: said now, not in the thread
        self._stop = threading.Event()
        self.error, self.started_by = "", by.name
        ready = threading.Event()

        def loop() -> None:
            try:
                run_scheduler(config, once=False, log=log.info, by=by, stop_requested=self._stop,
                              on_started=ready.set)
            except UserError as error:  # e.g. `outreach run` already keeps this folder's schedule
                self.error = error.message
            except Exception as error:  # the traceback goes to the server's log, the page says it stopped
                log.exception("the page's scheduler stopped")
                self.error = f"Lịch gửi tự động dừng vì lỗi không mong đợi: {type(error).__name__}: {error}"
            finally:
                ready.set()

        self._thread = threading.Thread(target=loop, name="page-scheduler", daemon=True)
        self._thread.start()
        ready.wait(STOP_WAIT_S)
        if self.error:
            raise UserError(self.error)
        atexit.register(self.stop)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S)
