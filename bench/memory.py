"""Memory and CPU of a benchmark's whole process tree (this process, LibreOffice, pdftotext, ...).

Two memory sums are sampled from /proc, because they answer different questions:

* RSS summed over the processes counts every shared page once per process: the two
  LibreOffice workers map the same ~100 MB of libraries and fonts, so this overstates use;
* PSS (proportional set size, /proc/PID/smaps_rollup) splits each shared page between the
  processes sharing it: the sum is what the tree really occupies in RAM.

The sampler runs as a process of its own (``python bench/memory.py PID``), so that reading
/proc neither holds the measured process's GIL nor counts in its CPU time; it is left out of
the tree it measures.
"""

from __future__ import annotations

import os
import resource
import select
import subprocess
import sys
from pathlib import Path

INTERVAL_S = 0.25


class TreeMemorySampler:
    """Peaks, in MB, of the tree's summed RSS and summed PSS, and of this process's own RSS;
    and the CPU time this process and its children used meanwhile."""

    def __init__(self) -> None:
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.cpu_self_s = 0.0
        self.cpu_children_s = 0.0

    def __enter__(self) -> TreeMemorySampler:
        self._sampler = subprocess.Popen(
            [sys.executable, __file__, str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self._started = _cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        ended = _cpu_seconds()
        self.cpu_self_s = ended[0] - self._started[0]
        # Children count once reaped: LibreOffice when its worker closes, pdftotext at once.
        self.cpu_children_s = ended[1] - self._started[1]
        report, _ = self._sampler.communicate("")
        peaks, self.at_peak = report.split("\n", 1)
        self.peak_rss_kb, self.peak_pss_kb = map(int, peaks.split())

    def summary(self) -> str:
        return (f"peak memory: this process {own_peak_kb() / 1024:.0f} MB (VmHWM); whole tree "
                f"{self.peak_pss_kb / 1024:.0f} MB PSS, {self.peak_rss_kb / 1024:.0f} MB summed RSS\n"
                f"  PSS at the peak, by process: {self.at_peak.strip()}\n"
                f"  CPU: this process {self.cpu_self_s:.1f} s, its children (LibreOffice, "
                f"pdftotext) {self.cpu_children_s:.1f} s")


def own_rss_kb() -> int:
    """This process's resident memory now (VmRSS)."""
    return _field_kb("/proc/self/status", "VmRSS:")


def own_peak_kb() -> int:
    """This process's peak RSS (VmHWM); not ru_maxrss, which Linux carries over a fork+exec."""
    return _field_kb("/proc/self/status", "VmHWM:")


def _cpu_seconds() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _sample_until_stdin_closes(root: int) -> None:
    peak_rss = peak_pss = 0
    at_peak = ""
    while not select.select([sys.stdin], [], [], INTERVAL_S)[0]:
        tree = [pid for pid in descendants(root)
                if pid != os.getpid() and (pid == root or not _shares_memory(pid, root))]
        peak_rss = max(peak_rss, sum(_field_kb(f"/proc/{pid}/status", "VmRSS:") for pid in tree))
        pss = {pid: _field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in tree}
        if sum(pss.values()) > peak_pss:
            peak_pss = sum(pss.values())
            at_peak = ", ".join(f"{_name(pid)} {kb / 1024:.0f} MB"
                                for pid, kb in sorted(pss.items(), key=lambda item: -item[1]) if kb)
    print(peak_rss, peak_pss)
    print(at_peak)


def _shares_memory(child: int, parent: int) -> bool:
    """True for a child between vfork and exec (how subprocess starts pdftotext): it runs in its
    parent's memory, so counting its PSS would count the parent twice."""
    try:
        return (os.readlink(f"/proc/{child}/exe") == os.readlink(f"/proc/{parent}/exe")
                and _vsize(child) == _vsize(parent))
    except OSError:
        return True  # gone already


def _vsize(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[20])


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return str(pid)


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


if __name__ == "__main__":
    _sample_until_stdin_closes(int(sys.argv[1]))
