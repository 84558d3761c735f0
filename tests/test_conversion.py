"""DOCX→PDF stage against the real LibreOffice: merge+split, fallbacks, fidelity gate."""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path
from types import ModuleType, SimpleNamespace
from xml.etree import ElementTree

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
import pikepdf

from outreach import convert
from outreach.convert import (
    ConversionError,
    ConversionJob,
    PdfContent,
    PdfConverter,
    PdfFont,
    check_pdf,
    convert_one,
    find_soffice,
    pdf_page_texts,
    pdf_text,
    read_pdf,
)
from outreach.convert import chunk, docx_letter, office, split
from outreach.convert.office import BridgedOffice, LaunchedOffice, find_uno_python
from outreach.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice missing")

NAMES = [
    "Công ty TNHH Thủy sản Hải Vương",
    "Ủy ban nhân dân Phường Vĩnh Hòa",
    "Công ty Cổ phần Yến Sào Khánh Hòa",
    "Hợp tác xã Nông nghiệp Diên Phú",
    "Ủy ban nhân dân Xã Ninh Ích",
    "Công ty TNHH Một thành viên Điện lực Cam Ranh",
    "Trường Trung học phổ thông Lý Tự Trọng",
]
# Body paragraphs per letter: 1 to 5 pages, mixed so chunks hold different sizes.
PARAGRAPHS = [3, 14, 1, 30, 16, 2, 45]
# Pictures in letters after the first of a chunk make the merge copy parts (and share one).
LOGOS = ["", "header", "body", "", "", "", "header"]
BODY = (
    "Bảo hiểm xã hội tỉnh Khánh Hòa đề nghị {name} rà soát danh sách người lao động, đối "
    "chiếu mức đóng và thời gian tham gia bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất "
    "nghiệp để kịp thời điều chỉnh trước ngày 25 hằng tháng."
)


def add_field(paragraph, code: str) -> None:
    """A complex field (e.g. PAGE) as Word writes it; LibreOffice recomputes its value."""
    run = paragraph.add_run()._r
    for tag, value in (("w:fldChar", "begin"), ("w:instrText", f" {code} "),
                       ("w:fldChar", "separate"), ("w:t", "1"), ("w:fldChar", "end")):
        element = OxmlElement(tag)
        if tag == "w:fldChar":
            element.set(qn("w:fldCharType"), value)
        else:
            element.set(qn("xml:space"), "preserve")
            element.text = value
        run.append(element)


def png(width: int = 16, height: int = 16) -> bytes:
    """A small red square, as a logo."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(tag + data))
        return struct.pack(">I", len(data)) + tag + data + checksum

    rows = b"".join(b"\x00" + b"\xc0\x10\x10" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def make_letter(
    path: Path,
    name: str,
    paragraphs: int,
    *,
    font: str = "Times New Roman",
    extra: str = "",
    page_total: bool = False,
    logo: str = "",
) -> Path:
    """A Decree-30-like letter: A4, 13 pt, page number top centre from page 2; ``logo`` puts
    a picture in the "body" or in the page-2+ "header"."""
    document = Document()
    document.core_properties.title = f"Công văn gửi {name}"
    normal = document.styles["Normal"]
    normal.font.name = font
    normal.font.size = Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), font)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.different_first_page_header_footer = True
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_field(header, "PAGE")
    if page_total:  # NUMPAGES must count this letter's pages, not a whole merged chunk's
        header.add_run(" / ")
        add_field(header, "NUMPAGES")
    if logo == "header":
        header.add_run().add_picture(io.BytesIO(png()), width=Cm(1))
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA"
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    if logo == "body":
        document.add_picture(io.BytesIO(png()), width=Cm(1.5))
    document.add_paragraph(f"Kính gửi: {name}").alignment = WD_ALIGN_PARAGRAPH.CENTER
    for number in range(paragraphs):
        document.add_paragraph(f"{number + 1}. " + BODY.format(name=name))
    if extra:
        document.add_paragraph(extra)
    signature = document.add_table(rows=1, cols=2)
    signature.cell(0, 0).text = "Nơi nhận:\n- Như trên;\n- Lưu: VT, QLT."
    signature.cell(0, 1).text = "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\n\n\nNguyễn Văn An"
    document.save(path)
    return path


def image_count(pdf: Path) -> int:
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True)
    return len(listing.stdout.splitlines()) - 2  # after a header and a rule


def collapse(text: str) -> str:
    return " ".join(text.split())


def standalone_texts(docx_files: list[Path], outdir: Path) -> dict[str, list[str]]:
    """Reference: each file converted on its own by plain LibreOffice, text per page."""
    profile = outdir / "profile"
    subprocess.run(
        [find_soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docx_files)],
        check=True, capture_output=True, timeout=120,
    )
    return {
        docx.stem: [collapse(page) for page in pdf_page_texts(outdir / f"{docx.stem}.pdf")]
        for docx in docx_files
    }


class CallSpy:
    """Records every LibreOffice call the converter makes, and every bridged start."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        self.profiles: set[Path] = set()
        self.starts = 0
        self.before_call = lambda office, number: None
        for kind in (BridgedOffice, LaunchedOffice):
            monkeypatch.setattr(kind, "convert", self._recording(kind.convert))
        start = BridgedOffice._start

        def counted_start(office, deadline):
            self.starts += 1
            return start(office, deadline)

        monkeypatch.setattr(BridgedOffice, "_start", counted_start)

    def _recording(self, convert):
        def spy(office, inputs, outdir):
            self.calls.append([Path(p).name for p in inputs])
            self.profiles.add(office.profile)
            self.before_call(office, len(self.calls))
            return convert(office, inputs, outdir)

        return spy


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch) -> CallSpy:
    return CallSpy(monkeypatch)


@pytest.fixture(params=["bridged", "launched"])
def office_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test with LibreOffice kept running (the default) and launched once per call."""
    if request.param == "bridged":
        assert find_uno_python(find_soffice()), "no Python with LibreOffice's uno (python3-uno)"
    else:
        monkeypatch.setattr(office, "find_uno_python", lambda soffice: None)
    return request.param


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("letters")
    made = [
        make_letter(folder / f"letter{i}.docx", name, count, logo=logo)
        for i, (name, count, logo) in enumerate(zip(NAMES, PARAGRAPHS, LOGOS))
    ]
    # One letter that must not be merged: its page total would count the whole chunk.
    made.insert(4, make_letter(folder / "total.docx", "Công ty TNHH Tổng Trang", 20,
                               page_total=True))
    return made


def jobs_for(docx_files: list[Path], out: Path) -> list[ConversionJob]:
    # Every output is called letter.pdf, as in the outbox, so name clashes would show.
    return [ConversionJob(f"employers/{d.stem}", d, out / d.stem / "letter.pdf") for d in docx_files]


def test_chunks_are_merged_split_and_match_standalone_conversion(
    letters: list[Path], tmp_path: Path, spy: CallSpy, caplog: pytest.LogCaptureFixture,
    office_mode: str,
) -> None:
    jobs = jobs_for(letters, tmp_path / "out")
    seen: list[int] = []
    with caplog.at_level(logging.WARNING, logger="outreach.convert"):
        results = PdfConverter(workers=2, chunk_size=3, splice=False).convert(jobs, progress=seen.append)

    assert [r.key for r in results] == [j.key for j in jobs]
    assert [r.error for r in results] == [None] * len(jobs)
    assert seen[-1] == len(jobs) and seen == sorted(seen)
    assert not caplog.records, "a merged chunk was rejected: " + caplog.text
    merged_calls = [c for c in spy.calls if any(n.startswith("merged-") for n in c)]
    assert len(merged_calls) == 3  # chunks of 3, 3 and 2 letters
    assert ["4.docx"] in spy.calls  # the letter with a page total went alone

    reference = standalone_texts(letters, tmp_path / "reference")
    names = NAMES[:4] + ["Công ty TNHH Tổng Trang"] + NAMES[4:]
    logos = LOGOS[:4] + [""] + LOGOS[4:]
    for result, docx, name, logo in zip(results, letters, names, logos):
        pages = [collapse(page) for page in pdf_page_texts(result.pdf)]
        assert pages == reference[docx.stem], docx.stem  # same pages, same text, same numbers
        assert result.pages == len(pages)
        # What the gate is given is what the written file holds.
        assert result.content == read_pdf(result.pdf), docx.stem
        assert check_pdf(result.pdf, expected_pages=result.pages, must_contain=[name]) == []
        text = collapse(pdf_text(result.pdf))
        assert [other for other in names if other != name and other in text] == []
        with pikepdf.open(result.pdf) as written:
            assert str(written.docinfo["/Title"]) == f"Công văn gửi {name}"
        assert bool(image_count(result.pdf)) == bool(logo), docx.stem
    assert {1, 2, 3} <= {r.pages for r in results} and max(r.pages for r in results) > 3
    assert f"2/{results[4].pages}" in pdf_text(results[4].pdf).replace(" ", "")


def test_doubtful_split_falls_back_to_converting_the_files_as_they_are(
    letters: list[Path], tmp_path: Path, spy: CallSpy, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def reject(*args):
        raise split._SplitMismatch("canary differs (forced by the test)")

    monkeypatch.setattr(chunk, "check_canary", reject)
    chosen = letters[:3]
    with caplog.at_level(logging.WARNING, logger="outreach.convert"):
        results = PdfConverter(workers=1, chunk_size=3, splice=False).convert(jobs_for(chosen, tmp_path))
    assert "forced by the test" in caplog.text
    assert [len(c) for c in spy.calls] == [2, 3]  # merged+canary, then the 3 files as they are
    for result, name in zip(results, NAMES):
        assert result.error is None
        assert check_pdf(result.pdf, expected_pages=result.pages, must_contain=[name]) == []
        assert result.content == read_pdf(result.pdf)


def test_jobs_written_by_a_worker_convert_and_a_writer_error_stops_only_that_job(
    letters: list[Path], tmp_path: Path
) -> None:
    def copy_of(source: Path):
        return lambda target: shutil.copyfile(source, target)

    def refuse(target: Path) -> None:
        raise UserError("Thiếu giá trị recipient.address (dòng 7).")

    out = tmp_path / "out"
    jobs = [ConversionJob(f"w/{i}", out / f"{i}.docx", out / str(i) / "letter.pdf", writer)
            for i, writer in enumerate([copy_of(letters[0]), refuse, copy_of(letters[1])])]
    out.mkdir()
    streamed = list(PdfConverter(workers=1, chunk_size=3).convert_iter(jobs))
    assert sorted(index for index, _ in streamed) == [0, 1, 2]
    results = dict(streamed)
    assert results[1].pdf is None and results[1].error == "Thiếu giá trị recipient.address (dòng 7)."
    for index, name in ((0, NAMES[0]), (2, NAMES[1])):
        assert results[index].error is None
        assert check_pdf(results[index].pdf, expected_pages=results[index].pages, must_contain=[name],
                         content=results[index].content) == []


def test_corrupt_file_fails_alone_with_a_reason(letters: list[Path], tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(os.urandom(4096))
    chosen = [letters[0], corrupt, letters[1]]
    results = PdfConverter(workers=1, chunk_size=3).convert(jobs_for(chosen, tmp_path / "out"))
    assert [r.error is None for r in results] == [True, False, True]
    failed = results[1]
    assert failed.pdf is None and failed.pages == 0
    assert "corrupt.docx" in failed.error and "DOCX" in failed.error
    assert not (tmp_path / "out" / "corrupt" / "letter.pdf").exists()
    assert check_pdf(results[2].pdf, expected_pages=2, must_contain=[NAMES[1]]) == []


def test_timeout_gives_failed_results_and_leaves_no_process(
    letters: list[Path], tmp_path: Path, spy: CallSpy, office_mode: str
) -> None:
    started = time.monotonic()
    results = PdfConverter(workers=1, timeout_s=0.3).convert(jobs_for(letters[:2], tmp_path))
    assert time.monotonic() - started < 20
    for result in results:
        assert result.pdf is None
        assert "sau 0.3 giây" in result.error and "LibreOffice" in result.error
    leftovers = [
        pid for pid in os.listdir("/proc") if pid.isdigit()
        and any(str(p).encode() in _cmdline(pid) for p in spy.profiles)
    ]
    assert leftovers == []


def test_a_bridged_office_starts_libreoffice_once_for_many_calls(
    letters: list[Path], tmp_path: Path, spy: CallSpy
) -> None:
    assert find_uno_python(find_soffice()), "no Python with LibreOffice's uno (python3-uno)"
    results = PdfConverter(workers=1, chunk_size=2, splice=False).convert(jobs_for(letters[:4], tmp_path))
    assert [r.error for r in results] == [None] * 4
    assert len(spy.calls) == 2 and spy.starts == 1


def test_libreoffice_stopping_mid_run_is_restarted_and_no_letter_is_lost(
    letters: list[Path], tmp_path: Path, spy: CallSpy
) -> None:
    def kill_libreoffice(office: BridgedOffice, number: int) -> None:
        if number == 2:  # LibreOffice dies under the bridge, as in a crash
            bridge = office._process.pid
            for pid in _process_group(bridge) - {bridge}:
                os.kill(pid, signal.SIGKILL)

    spy.before_call = kill_libreoffice
    chosen = letters[:4]
    results = PdfConverter(workers=1, chunk_size=2, splice=False).convert(jobs_for(chosen, tmp_path))
    assert [r.error for r in results] == [None] * 4
    for result, name in zip(results, NAMES):
        assert check_pdf(result.pdf, expected_pages=result.pages, must_contain=[name]) == []
    assert spy.starts == 2
    assert [len(c) for c in spy.calls] == [2, 2, 1, 1]  # the failed chunk, then file by file


def test_the_bridge_python_ignores_our_interpreter_settings(
    letters: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when outreach runs from a virtual environment or a Python installed under /usr/local.
    monkeypatch.setenv("PYTHONHOME", str(tmp_path / "not-a-python-home"))
    find_uno_python.cache_clear()
    try:
        assert find_uno_python(find_soffice())
        with BridgedOffice(find_soffice(), 120, find_uno_python(find_soffice())) as bridged:
            bridged.convert([letters[0]], tmp_path)
        assert (tmp_path / f"{letters[0].stem}.pdf").is_file()
    finally:
        find_uno_python.cache_clear()


def test_libreoffice_runs_with_jemalloc_and_one_malloc_arena(letters: list[Path], tmp_path: Path) -> None:
    # Over 10,000 letters each office then peaks at 120 MB PSS instead of 156–186, and jemalloc
    # takes ~18 % off its CPU per letter (see office._office_environment); setup installs it.
    with BridgedOffice(find_soffice(), 120, find_uno_python(find_soffice())) as bridged:
        bridged.convert([letters[0]], tmp_path)
        bridge = bridged._process.pid
        offices = [pid for pid in _process_group(bridge) - {bridge} if b"soffice.bin" in _cmdline(str(pid))]
        assert offices
        for pid in offices:
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert b"MALLOC_ARENA_MAX=1" in environment and b"MALLOC_CONF=narenas:1" in environment
            assert "libjemalloc" in Path(f"/proc/{pid}/maps").read_text()


def test_libreoffice_does_not_collect_words_for_autocompletion(
    letters: list[Path], tmp_path: Path, office_mode: str
) -> None:
    # Writer collected them while idle after each load: 15 % of its CPU in a bench run (see office.py).
    with office.open_office(find_soffice(), 120) as opened:
        opened.convert([letters[0]], tmp_path)
        opened.close()  # LibreOffice writes the settings it holds back into the profile
        assert (tmp_path / f"{letters[0].stem}.pdf").is_file()
        stored = ElementTree.parse(opened.profile / "user" / "registrymodifications.xcu").getroot()
    registry = "{http://openoffice.org/2001/registry}"
    values = [
        prop.findtext("value")
        for item in stored.iter("item")
        if item.get(f"{registry}path") == "/org.openoffice.Office.Writer/AutoFunction/Completion"
        for prop in item.iter("prop")
        if prop.get(f"{registry}name") == "CollectWords"
    ]
    assert values == ["false"]


def test_a_libreoffice_that_cannot_start_fails_each_letter_with_the_reason(
    letters: list[Path], tmp_path: Path
) -> None:
    assert find_uno_python("/bin/false"), "no Python with LibreOffice's uno (python3-uno)"
    results = PdfConverter(workers=1, soffice="/bin/false").convert(jobs_for(letters[:2], tmp_path))
    for result in results:
        assert result.pdf is None
        assert "LibreOffice không khởi động được (mã thoát 1)." in result.error, result.error
        assert letters[0].parent.name in result.error


def _process_group(group: int) -> set[int]:
    members = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[2]) == group:
            members.add(int(pid))
    return members


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_fidelity_gate_reports_fallback_font_leftover_tag_and_missing_name(
    tmp_path: Path,
) -> None:
    name = NAMES[0]
    substituted = make_letter(tmp_path / "font.docx", name, 2, font="Arial Unicode Nonexistent")
    leftover = make_letter(tmp_path / "tag.docx", name, 2, extra="Người nhận: {{ name }}")
    jobs = jobs_for([substituted, leftover], tmp_path / "out")
    results = PdfConverter(workers=1).convert(jobs)
    font_pdf, tag_pdf = (r.pdf for r in results)

    font_problems = check_pdf(font_pdf, expected_pages=1, must_contain=[name])
    assert len(font_problems) == 1 and "DejaVu" in font_problems[0], font_problems
    # The converter's own reading of the pages feeds the same gate.
    assert check_pdf(font_pdf, expected_pages=1, must_contain=[name], content=results[0].content) == font_problems
    unembedded = PdfContent(results[1].content.page_texts, (PdfFont("LiberationSerif", False),))
    assert check_pdf(tag_pdf, expected_pages=1, must_contain=[], content=unembedded)[0].startswith(
        "Phông “LiberationSerif” không được nhúng")
    wrong_pages = PdfContent(results[1].content.page_texts * 2, results[1].content.fonts)
    assert "2 trang" in check_pdf(tag_pdf, expected_pages=1, must_contain=[], content=wrong_pages)[0]
    tag_problems = check_pdf(tag_pdf, expected_pages=1, must_contain=[name])
    assert len(tag_problems) == 2 and all("{{" in p or "}}" in p for p in tag_problems)
    missing = check_pdf(font_pdf, expected_pages=2, must_contain=["Ủy ban nhân dân Phường Vĩnh Hòa"],
                        allowed_fonts=("DejaVuSans",))
    assert missing == [
        f"Tệp PDF {font_pdf.name} có 1 trang, cần 2 trang.",
        "Không tìm thấy “Ủy ban nhân dân Phường Vĩnh Hòa” trong nội dung PDF.",
    ]
    assert check_pdf(tmp_path / "none.pdf", expected_pages=1, must_contain=[])[0].startswith(
        "Không tìm thấy tệp PDF"
    )


def test_convert_one_raises_for_a_corrupt_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "x.docx"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ConversionError, match="x.docx"):
        convert_one(corrupt, tmp_path / "x.pdf")


@pytest.mark.parametrize(("style", "mergeable"), [("List Number", False), ("List Bullet", True)])
def test_numbered_lists_keep_a_letter_out_of_merged_documents(
    tmp_path: Path, style: str, mergeable: bool
) -> None:
    # Merged, the second letter's list would continue counting from the first letter's.
    document = Document()
    document.add_paragraph("Kính gửi: Ủy ban nhân dân Phường Vĩnh Hòa")
    document.add_paragraph("Nộp hồ sơ", style=style)
    document.save(tmp_path / "list.docx")
    job = ConversionJob("k", tmp_path / "list.docx", tmp_path / "list.pdf")
    letter = docx_letter.read_letter(0, job, docx_letter.ReadCache())
    assert (letter.group is not None) == mergeable


def _pdf_with_destinations(destinations: dict[str, int], pages: int, name_tree: bool = False) -> pikepdf.Pdf:
    """A real PDF of blank pages with named destinations, kept in the catalog's /Dests as
    LibreOffice writes them, or in a /Names name tree."""
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page(page_size=(595, 842))
    targets = {name: pikepdf.Array([document.pages[page].obj, pikepdf.Name.XYZ, 0, 842, 0])
               for name, page in destinations.items()}
    if name_tree:
        tree = pikepdf.NameTree.new(document)
        for name, target in targets.items():
            tree[name] = target
        document.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
    else:
        document.Root.Dests = pikepdf.Dictionary({f"/{name}": t for name, t in targets.items()})
    return document


@pytest.mark.parametrize(
    ("destinations", "pages"),
    [
        ({"Ts0": 0, "Te0": 0, "Ts1": 2, "Te1": 2}, 3),  # a page between two letters
        ({"Ts0": 0, "Te0": 1, "Ts1": 2}, 3),  # an end bookmark lost
        ({"Ts0": 0, "Te0": 0, "Ts1": 1, "Te1": 1}, 3),  # a page after the last letter
        ({"Ts0": 0, "Te0": 1, "Ts1": 1, "Te1": 2}, 3),  # overlapping letters
    ],
)
def test_page_ranges_reject_doubtful_destinations(destinations: dict[str, int], pages: int) -> None:
    with pytest.raises(split._SplitMismatch):
        split.page_ranges(_pdf_with_destinations(destinations, pages), "T", 2)


@pytest.mark.parametrize("name_tree", [False, True])
def test_page_ranges_accepts_contiguous_letters(name_tree: bool) -> None:
    document = _pdf_with_destinations(
        {"Ts0": 0, "Te0": 1, "Ts1": 2, "Te1": 2, "Ts2": 3, "Te2": 5, "Other": 1}, 6, name_tree)
    assert split.page_ranges(document, "T", 3) == [range(0, 2), range(2, 3), range(3, 6)]


def _letter_with(*lines: str) -> SimpleNamespace:
    return SimpleNamespace(markers=frozenset(docx_letter.squash(line) for line in lines))


def test_segment_check_rejects_pages_of_a_neighbour_and_accepts_similar_names() -> None:
    letters = [_letter_with("Kính gửi: Công ty A", "Nơi nhận: Công ty A"),
               _letter_with("Kính gửi: Công ty AB", "Nơi nhận: Công ty AB")]
    pages = ["Kính gửi: Công ty A\nthân thư", "Nơi nhận: Công ty A\n2",
             "Kính gửi: Công ty AB\nthân thư", "Nơi nhận: Công ty AB"]
    split.check_segments(letters, [range(0, 2), range(2, 4)], pages)
    with pytest.raises(split._SplitMismatch):  # letter A's last page went to letter B
        split.check_segments(letters, [range(0, 1), range(1, 4)], pages)
    with pytest.raises(split._SplitMismatch):  # an empty segment
        split.check_segments(letters, [range(0, 4), range(4, 4)], pages)


def test_missing_libreoffice_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office.shutil, "which", lambda name: None)
    monkeypatch.setattr(office.os, "access", lambda path, mode: False)
    with pytest.raises(UserError) as raised:
        find_soffice()
    assert "sudo apt-get install -y libreoffice-writer-nogui python3-uno" in raised.value.message


def test_the_package_exports_its_public_names_sorted() -> None:
    # Other packages import only from outreach.convert: a name added there must be listed.
    public = {name for name, value in vars(convert).items()
              if not name.startswith("_") and not isinstance(value, ModuleType)}
    assert convert.__all__ == sorted(public)
