#!/usr/bin/env python3
"""Read + validate a large employer list; prints rows/s and peak RSS.

    python bench/bench_recipients.py [N]      (default 50,000 rows; target ≤ 10 s and ≤ 300 MB)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datagen  # noqa: E402  (bench helper beside this file)
from memory import own_rss_kb  # noqa: E402

from outreach.recipients import load_list  # noqa: E402


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "employers.xlsx"
        # Written by another process, so the peak RSS below is the reader's alone.
        subprocess.run([sys.executable, str(Path(datagen.__file__)), "employers", str(rows), str(path)],
                       check=True, stdout=subprocess.DEVNULL)
        size_mb = path.stat().st_size / 1e6
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        result = load_list(path, "employers")
        elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {result.rows}  valid: {len(result.recipients)}  rejected: {len(result.rejected_rows)}  "
          f"problems: {len(result.problems)}")
    print(f"file: {size_mb:.1f} MB  read+validate: {elapsed:.2f} s  = {result.rows / elapsed:,.0f} rows/s")
    print(f"peak RSS: {peak:.0f} MB (before reading: {rss_before:.0f} MB); RSS after, the list kept: {own_rss_kb() / 1024:.0f} MB")


if __name__ == "__main__":
    main()
