"""Memory of a benchmark's whole process tree (this process, LibreOffice, pdftotext, ...).

Two sums are sampled from /proc, because they answer different questions:

* RSS summed over the processes counts every shared page once per process: the two
  LibreOffice workers map the same ~100 MB of libraries and fonts, so this overstates use;
* PSS (proportional set size, /proc/PID/smaps_rollup) splits each shared page between the
  processes sharing it: the sum is what the tree really occupies in RAM.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


class TreeMemorySampler:
    """Peaks, in MB, of the tree's summed RSS and summed PSS, and of this process's own RSS."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            tree = descendants(os.getpid())
            self.peak_rss_kb = max(self.peak_rss_kb, sum(_field_kb(f"/proc/{pid}/status", "VmRSS:") for pid in tree))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(_field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in tree))

    def summary(self) -> str:
        return (f"peak memory: this process {own_peak_kb() / 1024:.0f} MB (VmHWM); whole tree "
                f"{self.peak_pss_kb / 1024:.0f} MB PSS, {self.peak_rss_kb / 1024:.0f} MB summed RSS")


def own_peak_kb() -> int:
    """This process's peak RSS (VmHWM); not ru_maxrss, which Linux carries over a fork+exec."""
    return _field_kb("/proc/self/status", "VmHWM:")


def descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = [root]
    for pid in tree:
        tree += [child for child, parent in parents.items() if parent == pid]
    return tree


def _field_kb(path: str, name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except OSError:  # the process ended between listing and reading
        pass
    return 0
