"""Throughput of a whole `outreach build` of the shipped campaign, with N generated employers.

    .venv/bin/python bench/bench_build.py 1000
    .venv/bin/python bench/bench_build.py 10000

Copies the sample working folder to a temporary one, replaces recipients/employers.xlsx with N
fictional employers (bench/datagen.py), then builds campaign vssid-2022 exactly as the command
does: read and validate the lists, render every letter, convert, fidelity gate, message.eml,
print bundle, manifest. The 139 communes and 17 collection agents of the sample are built too.
Prints drafts/s, pages/s and the peak memory of this process and of the whole process tree.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datagen import generate_employers, write_employers_xlsx  # noqa: E402
from bench.memory import TreeMemorySampler  # noqa: E402
from outreach.config import load_config  # noqa: E402
from outreach.delivery import Ledger  # noqa: E402
from outreach.outbox import letter_pages, read_manifest  # noqa: E402
from outreach.outbox import build_campaign  # noqa: E402
from outreach.workspace import init_workspace  # noqa: E402

CAMPAIGN = "vssid-2022"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("employers", nargs="?", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outreach-bench-build-") as tmp:
        root = Path(tmp) / "work"
        init_workspace(root)
        write_employers_xlsx(root / "recipients" / "employers.xlsx", generate_employers(args.employers, seed=args.seed))
        config = load_config(root)
        with TreeMemorySampler() as memory:
            started = time.perf_counter()
            with Ledger.open(root) as ledger:
                report = build_campaign(config, CAMPAIGN, ledger, progress=False)
            seconds = time.perf_counter() - started
        drafts = read_manifest(root, CAMPAIGN).drafts
        pages = sum(letter_pages(d) for d in drafts)
        print(f"outreach build {CAMPAIGN}: {len(report.built)} drafts built, {len(report.failed)} failed, "
              f"{len(report.rejected_rows)} rows rejected, in {seconds:.1f} s = {len(report.built) / seconds:.1f} "
              f"drafts/s, {pages / seconds:.1f} letter pages/s")
        print(f"  {memory.summary()}")


if __name__ == "__main__":
    main()
