"""Whether `outreach run` is keeping the schedule, for the pages: it holds a lock while it runs and
writes, after each tick, when it ticked and when it looks next.

The lock is an flock (released by the kernel however the process ends), so a page never reports a
dead scheduler as running; the heartbeat file only adds the times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import UserError
from ..workspace import Workspace, held_alone, lock_held

Heartbeat = Callable[[dt.datetime, dt.datetime], None]  # (this tick, the next tick)


@dataclass(frozen=True)
class SchedulerStatus:
    running: bool
    pid: int | None = None
    started_at: str | None = None  # UTC ISO-8601
    last_tick_at: str | None = None
    next_tick_at: str | None = None  # only while running


@contextlib.contextmanager
def keeping_schedule(workspace: Workspace, started_at: dt.datetime) -> Iterator[Heartbeat]:
    """Held for the life of one `outreach run`; a second one on the same working folder is refused."""
    def refusal(holder: str) -> UserError:
        return UserError(f"Lịch gửi của thư mục làm việc này đã đang chạy (tiến trình {holder or '?'}): không cần chạy "
                         "thêm 'outreach run'. Muốn dừng lịch gửi đó thì dừng tiến trình của nó.")

    with held_alone(workspace.scheduler_lock, refusal):
        def beat(last: dt.datetime, upcoming: dt.datetime) -> None:
            state = {"pid": os.getpid(), "started_at": started_at.isoformat(), "last_tick_at": last.isoformat(),
                     "next_tick_at": upcoming.isoformat()}
            temporary = workspace.scheduler_state.with_name(workspace.scheduler_state.name + ".tmp")
            temporary.write_text(json.dumps(state), encoding="utf-8")
            temporary.replace(workspace.scheduler_state)

        yield beat


def scheduler_status(workspace: Workspace) -> SchedulerStatus:
    """Running or not; the times of the last `outreach run` that wrote them."""
    running = lock_held(workspace.scheduler_lock)
    try:
        state = json.loads(workspace.scheduler_state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    return SchedulerStatus(running, state.get("pid") if running else None, state.get("started_at"),
                           state.get("last_tick_at"), state.get("next_tick_at") if running else None)
