"""Throughput of the DOCX→PDF stage: PdfConverter (merge+split, one worker per core) against
one LibreOffice process per file, on N copies of the reference letter.

    .venv/bin/python bench/bench_conversion.py 1000
    .venv/bin/python bench/bench_conversion.py 10000 --baseline 20
    .venv/bin/python bench/bench_conversion.py 200 --template outbox/x/employers/ABC1234/letter.docx

The reference letter is the shipped campaign's template (templates/cong-van-vssid.docx, the
công văn of BHXH Khánh Hòa 2022) rendered for one employer; each copy names a different
recipient. Every copy then goes through the fidelity gate (pages, fonts, its own name as text),
as in `outreach build`. Prints letters/s, pages/s, the speed-up over one process per file and
the peak memory of this process and of the whole process tree (see bench/memory.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import TreeMemorySampler  # noqa: E402
from outreach.config import load_config  # noqa: E402
from outreach.convert import ConversionJob, PdfConverter, check_pdf, find_soffice, page_count  # noqa: E402
from outreach.letters import LetterTemplate, build_context  # noqa: E402
from outreach.recipients import Recipient  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDER = "Công ty TNHH Thủy sản Hải Vương"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=200, help="letters (default 200)")
    parser.add_argument("--template", type=Path,
                        help=f"a letter DOCX containing “{PLACEHOLDER}” (default: the reference letter)")
    parser.add_argument("--baseline", type=int, default=20, help="letters for one-process-per-file (0: skip)")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--chunk-size", type=int, default=PdfConverter.DEFAULT_CHUNK_SIZE)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
        root = Path(tmp)
        template = args.template or reference_letter(root / "reference.docx")
        started = time.perf_counter()
        letters = make_copies(template, args.count, root / "docx")
        print(f"{args.count} copies of {template.name} made in {time.perf_counter() - started:.1f} s")

        jobs = [ConversionJob(f"b/{d.stem}", d, root / "pdf" / d.stem / "letter.pdf") for d in letters]
        converter = PdfConverter(workers=args.workers, chunk_size=args.chunk_size)
        single_rate = calibrate(letters, root / "calibration", args.chunk_size)
        problems, pages, lengths = 0, 0, set()
        with TreeMemorySampler() as memory:
            started = time.perf_counter()
            # As `outreach build` does: each result gated as its chunk finishes, then dropped.
            for number, result in converter.convert_iter(jobs):
                problems += bool(result.error or check_pdf(
                    result.pdf, expected_pages=None, must_contain=[copy_name(number)],
                    content=result.content))
                pages += result.pages
                lengths.add(result.pages)
            merged_s = time.perf_counter() - started
        report("PdfConverter + fidelity gate", len(jobs), pages, merged_s)
        print(f"  workers {converter.workers}, chunk size {converter.chunk_size}, "
              f"pages per letter {sorted(lengths)}, failed or not fit to send {problems}")
        print(f"  {memory.summary()}")
        cpu_ms = (memory.cpu_self_s + memory.cpu_children_s) / len(jobs) * 1000
        print(f"  CPU per letter: {cpu_ms:.1f} ms; the same work takes more when the VM is slower")
        print(f"  10,000 letters at this rate: {10_000 / (len(jobs) / merged_s) / 60:.1f} min")
        print(f"  calibration, just before: one worker alone converts {single_rate:.1f} letters/s (the "
              f"machine's speed at the moment, with the other cores free for its splitting, pdftotext "
              f"and gate); this run reached {len(jobs) / merged_s / (single_rate * converter.workers):.0%} "
              f"of {converter.workers} such workers")

        subset = letters[: args.baseline]
        if subset:
            started = time.perf_counter()
            baseline_pages = one_process_per_file(subset, root / "baseline")
            baseline_s = time.perf_counter() - started
            report("one process per file", len(subset), baseline_pages, baseline_s)
            print(f"speed-up: {(len(jobs) / merged_s) / (len(subset) / baseline_s):.1f}x")


def calibrate(letters: list[Path], folder: Path, chunk_size: int) -> float:
    """Letters/s of one worker in its stride (the time between its first and second chunk),
    with the machine otherwise idle.  A shared VM's speed drifts (here the same chunk took
    3.6 s at one hour and 5.3 s at another), so a run's figure is also given as a share of
    what its workers could do at that moment."""
    jobs = [ConversionJob(f"c/{d.stem}", d, folder / d.stem / "letter.pdf") for d in letters[: 2 * chunk_size]]
    finished = [time.perf_counter() for index, _ in PdfConverter(workers=1, chunk_size=chunk_size).convert_iter(jobs)
                if index % chunk_size == 0]
    return chunk_size / (finished[1] - finished[0])


def reference_letter(path: Path) -> Path:
    """The shipped campaign's letter, rendered for one employer and numbered as issued."""
    config = load_config(REPO)
    campaign = config.campaign("vssid-2022")
    recipient = Recipient(kind="employers", code="TZH490L", name=PLACEHOLDER, emails=("ketoan@haivuong.example.vn",),
                          address="Lô B2, Khu công nghiệp Suối Dầu, Cam Lâm, Khánh Hòa")
    context = build_context(config, campaign, recipient, 5, dt.date(2023, 1, 5))
    LetterTemplate(campaign.template).render_to(context, path)
    return path


def copy_name(number: int) -> str:
    return f"{PLACEHOLDER} {number:05d}"


def make_copies(template: Path, count: int, folder: Path) -> list[Path]:
    """``count`` letters, each naming a different recipient (text replaced inside the DOCX)."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(template) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    paths = []
    for number in range(count):
        name = copy_name(number).encode()
        path = folder / f"{number:05d}.docx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for info, data in parts:
                if info.filename == "word/document.xml":
                    data = data.replace(PLACEHOLDER.encode(), name)
                target.writestr(info.filename, data)
        paths.append(path)
    return paths


def one_process_per_file(letters: list[Path], outdir: Path) -> int:
    soffice = find_soffice()
    profile = outdir / "profile"
    pages = 0
    for docx in letters:
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
             "--convert-to", "pdf", "--outdir", str(outdir), str(docx)],
            check=True, capture_output=True, timeout=300,
        )
        pages += page_count(outdir / f"{docx.stem}.pdf")
    return pages


def report(label: str, letters: int, pages: int, seconds: float) -> None:
    print(f"{label}: {letters} letters, {pages} pages in {seconds:.1f} s = "
          f"{letters / seconds:.1f} letters/s, {pages / seconds:.1f} pages/s")


if __name__ == "__main__":
    main()
