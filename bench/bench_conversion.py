"""Throughput of the DOCX→PDF stage: PdfConverter (merge+split, one worker per core) against
one LibreOffice process per file.

    .venv/bin/python bench/bench_conversion.py 1000
    .venv/bin/python bench/bench_conversion.py 200 --template outbox/x/employers/ABC1234/letter.docx

Prints letters/s, pages/s, the peak RSS of this Python process, of its largest child and of
the whole process tree (sampled from /proc), and the speed-up over one process per file.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from outreach.conversion import ConversionJob, PdfConverter, find_soffice  # noqa: E402
from outreach.fidelity import check_pdf  # noqa: E402

PLACEHOLDER = "Công ty TNHH Thủy sản Hải Vương"
PARAGRAPH = (
    "Thực hiện Luật Bảo hiểm xã hội, Luật Bảo hiểm y tế và Luật Việc làm, Bảo hiểm xã hội tỉnh "
    "Khánh Hòa đề nghị {name} rà soát danh sách người lao động thuộc diện tham gia, đối chiếu "
    "mức tiền lương làm căn cứ đóng và thời gian tham gia bảo hiểm xã hội, bảo hiểm y tế, bảo "
    "hiểm thất nghiệp; lập hồ sơ điều chỉnh (nếu có) và nộp đầy đủ số tiền phải đóng trước ngày "
    "cuối cùng của tháng."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=200, help="letters (default 200)")
    parser.add_argument("--template", type=Path, help=f"a letter DOCX containing “{PLACEHOLDER}”")
    parser.add_argument("--baseline", type=int, default=20, help="letters for one-process-per-file (0: skip)")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--chunk-size", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
        root = Path(tmp)
        template = args.template or make_template(root / "template.docx")
        started = time.perf_counter()
        letters = make_copies(template, args.count, root / "docx")
        print(f"{args.count} letters made in {time.perf_counter() - started:.1f} s")

        sampler = TreeRssSampler()
        jobs = [ConversionJob(f"b/{d.stem}", d, root / "pdf" / d.stem / "letter.pdf") for d in letters]
        converter = PdfConverter(workers=args.workers, chunk_size=args.chunk_size)
        with sampler:
            started = time.perf_counter()
            results = converter.convert(jobs)
            merged_s = time.perf_counter() - started
        failed = [r for r in results if r.error]
        pages = sum(r.pages for r in results)
        report("PdfConverter", len(results), pages, merged_s)
        print(f"  workers {converter.workers}, chunk size {converter.chunk_size}, failed {len(failed)}")
        print(f"  peak RSS: python {self_rss_mb():.0f} MB, largest child {children_rss_mb():.0f} MB, "
              f"whole tree {sampler.peak_kb / 1024:.0f} MB")
        spot_check(results, letters)

        subset = letters[: args.baseline]
        if subset:
            started = time.perf_counter()
            baseline_pages = one_process_per_file(subset, root / "baseline")
            baseline_s = time.perf_counter() - started
            report("one process per file", len(subset), baseline_pages, baseline_s)
            print(f"speed-up: {(len(results) / merged_s) / (len(subset) / baseline_s):.1f}x")


def make_template(path: Path) -> Path:
    """A realistic two-page công văn: Decree-30 header table, 13 pt Times New Roman, A4,
    page number top centre from page 2."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.different_first_page_header_footer = True
    add_page_field(section.header.paragraphs[0])
    header = document.add_table(rows=2, cols=2)
    header.cell(0, 0).text = "BẢO HIỂM XÃ HỘI VIỆT NAM\nBẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA"
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    header.cell(1, 0).text = "Số:      /BHXH-QLT\nV/v đôn đốc đóng BHXH, BHYT, BHTN"
    header.cell(1, 1).text = "Khánh Hòa, ngày 05 tháng 01 năm 2023"
    kinh_gui = document.add_paragraph(f"Kính gửi: {PLACEHOLDER}")
    kinh_gui.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for _ in range(9):
        document.add_paragraph(PARAGRAPH.format(name=PLACEHOLDER)).alignment = (
            WD_ALIGN_PARAGRAPH.JUSTIFY
        )
    signature = document.add_table(rows=1, cols=2)
    signature.cell(0, 0).text = "Nơi nhận:\n- Như trên;\n- Giám đốc (để b/c);\n- Lưu: VT, QLT."
    signature.cell(0, 1).text = "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\n\n\n\nNguyễn Văn An"
    document.save(path)
    return path


def add_page_field(paragraph) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()._r
    for kind in ("begin", "instr", "end"):
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = " PAGE "
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run.append(element)


def make_copies(template: Path, count: int, folder: Path) -> list[Path]:
    """``count`` letters, each naming a different recipient (text replaced inside the DOCX)."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(template) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    paths = []
    for number in range(count):
        name = f"{PLACEHOLDER} {number:05d}".encode()
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
        pages += len(PdfReader(outdir / f"{docx.stem}.pdf").pages)
    return pages


def spot_check(results, letters: list[Path]) -> None:
    """Every 97th letter must carry its own recipient's name."""
    for number in range(0, len(results), 97):
        result = results[number]
        if result.error:
            continue
        problems = check_pdf(result.pdf, expected_pages=result.pages,
                             must_contain=[f"{PLACEHOLDER} {number:05d}"])
        if problems:
            print(f"  FIDELITY {letters[number].name}: {problems}")


def report(label: str, letters: int, pages: int, seconds: float) -> None:
    print(f"{label}: {letters} letters, {pages} pages in {seconds:.1f} s = "
          f"{letters / seconds:.1f} letters/s, {pages / seconds:.1f} pages/s")


def self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class TreeRssSampler:
    """Peak of the summed RSS of this process and all its descendants, read from /proc."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.peak_kb = 0
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.peak_kb = max(self.peak_kb, sum(map(rss_kb, descendants(os.getpid()))))


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


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
