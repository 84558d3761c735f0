"""convert.office: what a killed build leaves in the temp folder is removed by the next office to start
(issue 20, item 15): profiles, chunk folders and LibreOffice's pipe sockets of processes that no longer run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from outreach.convert.office import owned_prefix, sweep_leftovers


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_dead_processes_go_and_those_of_running_ones_stay(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    gone = [tmp_path / f"outreach-lo-{dead}-abc", tmp_path / f"outreach-chunk-{dead}-def"]
    for folder in gone:
        (folder / "profile" / "user").mkdir(parents=True)
    uid = os.getuid()
    stale = [tmp_path / f"OSL_PIPE_{uid}_outreach-{alive}-0123abcd", tmp_path / f"OSL_PIPE_{uid}_SingleOfficeIPC_9f3e"]
    for pipe in stale:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(pipe))  # a real socket file that nothing listens on, as a killed office leaves it
        os.utime(pipe, (time.time() - 600,) * 2, follow_symlinks=False)
    starting = tmp_path / f"OSL_PIPE_{uid}_SingleOfficeIPC_new"  # bound a moment ago, not listening yet
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(starting))
    listening = tmp_path / f"OSL_PIPE_{uid}_SingleOfficeIPC_live"
    office = socket.socket(socket.AF_UNIX)
    office.bind(str(listening))
    office.listen()
    kept = [tmp_path / f"outreach-lo-{alive}-ghi", tmp_path / "outreach-lo-notapid", tmp_path / "unrelated-1-x"]
    for folder in kept:
        folder.mkdir()

    try:
        removed = sweep_leftovers(tmp_path)
    finally:
        office.close()

    assert sorted(removed) == sorted([*gone, *stale])
    assert not any(path.exists() for path in [*gone, *stale])
    assert all(path.exists() for path in [*kept, listening, starting])  # a running or starting office's pipe stays


def test_the_names_an_office_and_a_chunk_get_carry_their_owner() -> None:
    assert owned_prefix("outreach-lo-") == f"outreach-lo-{os.getpid()}-"
