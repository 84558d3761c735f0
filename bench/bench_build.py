"""Throughput of a whole `outreach build` of the shipped campaign, with N generated employers.

    .venv/bin/python bench/bench_build.py 1000
    .venv/bin/python bench/bench_build.py 10000

Copies the sample working folder to a temporary one, replaces recipients/employers.xlsx with N
fictional employers (bench/datagen.py), then builds campaign vssid-2022 exactly as the command
does: read and validate the lists, render every letter, convert, fidelity gate, message.eml,
print bundle, manifest. The 139 communes and 17 collection agents of the sample are built too.
Prints drafts/s, pages/s, CPU per draft, and the peak memory of this process and of the whole
process tree.  Then, in the same run (the machine's speed drifts up to 3x from hour to hour), the
plain way as a baseline: ONE `soffice --convert-to pdf` call, with a profile of its own, converting
100 of the DOCX files the build wrote; the ratio of the two rates is the figure that travels.

    --whole       convert every letter whole (no splicing of page 1), for a same-run comparison
    --rebuild     then issue the number and build again (every page 1 changes), timed on its own
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datagen import generate_employers, write_employers_xlsx  # noqa: E402
from bench.memory import TreeMemorySampler  # noqa: E402
from outreach.accounts import Actor  # noqa: E402
from outreach.config import load_config  # noqa: E402
from outreach.convert import PdfConverter, find_soffice  # noqa: E402
from outreach.delivery import Ledger  # noqa: E402
from outreach.outbox import letter_pages, read_manifest  # noqa: E402
from outreach.outbox import build_campaign, issue_document_number  # noqa: E402
from outreach.workspace import init_workspace  # noqa: E402

CAMPAIGN = "vssid-2022"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("employers", nargs="?", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--whole", action="store_true", help="convert every letter whole")
    parser.add_argument("--rebuild", action="store_true", help="issue the number, build again")
    parser.add_argument("--plain", type=int, default=100, help="files in the plain call (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outreach-bench-build-") as tmp:
        root = Path(tmp) / "work"
        init_workspace(root)
        write_employers_xlsx(root / "recipients" / "employers.xlsx", generate_employers(args.employers, seed=args.seed))
        config = load_config(root)
        rate = timed_build(root, config, args.whole, "first build")
        if args.rebuild:
            issue_document_number(config, CAMPAIGN, dt.date(2023, 1, 5), Actor("bench", "bench"))
            rebuild = timed_build(root, load_config(root), args.whole, "after the number is issued")
            print(f"  the rebuild took {rate / rebuild:.0%} of the first build's time")
        if args.plain:
            docx = sorted(root.glob(f"outbox/{CAMPAIGN}/employers/*/letter.docx"))[: args.plain]
            plain = plain_call(docx, Path(tmp) / "plain")
            print(f"ratio to the plain call, same run: {rate / plain:.1f}x")


def timed_build(root: Path, config, whole: bool, label: str) -> float:
    """Builds the campaign; prints what it took; returns drafts built per second."""
    with TreeMemorySampler() as memory:
        started = time.perf_counter()
        with Ledger.open(root) as ledger, PdfConverter(splice=not whole) as converter:
            report = build_campaign(config, CAMPAIGN, ledger, progress=False, converter=converter)
        seconds = time.perf_counter() - started
    drafts = read_manifest(root, CAMPAIGN).drafts
    pages = sum(letter_pages(d) for d in drafts)
    built = len(report.built)
    cpu = memory.cpu_self_s + memory.cpu_children_s
    print(f"outreach build {CAMPAIGN} ({label}{', whole letters' if whole else ''}): {built} drafts built, "
          f"{len(report.failed)} failed, {len(report.rejected_rows)} rows rejected, in {seconds:.1f} s = "
          f"{built / seconds:.1f} drafts/s, {pages / seconds:.1f} letter pages/s")
    print(f"  CPU per draft {1000 * cpu / max(built, 1):.1f} ms (this process "
          f"{1000 * memory.cpu_self_s / max(built, 1):.1f}, LibreOffice and pdftotext "
          f"{1000 * memory.cpu_children_s / max(built, 1):.1f})")
    print(f"  {memory.summary()}")
    return built / seconds


def plain_call(docx: list[Path], outdir: Path) -> float:
    """One plain LibreOffice call converting ``docx``: letters/s; prints what it took."""
    outdir.mkdir(parents=True)
    for number, path in enumerate(docx):  # the build's files are all called letter.docx
        (outdir / f"{number:05d}.docx").symlink_to(path)
    inputs = sorted(outdir.glob("*.docx"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([find_soffice(), f"-env:UserInstallation={(outdir / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(outdir), *map(str, inputs)],
                   check=True, capture_output=True, timeout=3600)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    converted = len(list(outdir.glob("*.pdf")))
    print(f"plain call (soffice --convert-to pdf, {len(inputs)} files, one process): {converted} PDFs in "
          f"{seconds:.1f} s = {converted / seconds:.2f} letters/s, CPU per letter {1000 * cpu / converted:.0f} ms")
    return converted / seconds


if __name__ == "__main__":
    main()
