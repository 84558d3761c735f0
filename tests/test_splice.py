"""Splicing (outreach/convert/splice.py) against the real LibreOffice: a letter that differs from
its group's stand-in only on page 1 gets its own page 1 and the stand-in's later pages, and the
PDF a recipient gets reads page for page as the letter converted whole on its own would."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest

from outreach.config import load_config
from outreach.convert import ConversionJob, PdfConverter, check_pdf, find_soffice, pdf_page_texts, read_pdf
from outreach.convert import splice
from outreach.convert.docx_letter import Letter
from outreach.convert.office import BridgedOffice, LaunchedOffice
from outreach.letters import LetterTemplate, build_context
from outreach.recipients import Recipient

REPO = Path(__file__).resolve().parent.parent
NAMES = [
    "Công ty TNHH Thủy sản Hải Vương",
    "Công ty Cổ phần Đầu tư Phát triển Nguyễn Hoàng",
    "Hợp tác xã Nông nghiệp Diên Phước",
    "Trường Mầm non Hoa Phượng Đỏ",
    "Công ty TNHH MTV Yến sào Khánh Hòa",
    "Doanh nghiệp tư nhân Ánh Dương",
    "Chi nhánh Công ty TNHH Điện lực Ninh Hòa",
]
# Long enough that "Kính gửi" takes more lines and page 1 breaks elsewhere: it cannot be spliced.
LONG_NAME = "Công ty Cổ phần " + " ".join(["Thương mại Dịch vụ Xuất nhập khẩu Thủy hải sản Nha Trang"] * 9)


class Calls:
    """The names of the files of every LibreOffice call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        for kind in (BridgedOffice, LaunchedOffice):
            monkeypatch.setattr(kind, "convert", self._recording(kind.convert))

    def _recording(self, convert):
        def recorded(office, inputs, outdir):
            self.calls.append([Path(p).name for p in inputs])
            return convert(office, inputs, outdir)

        return recorded

    def named(self, prefix: str) -> list[list[str]]:
        return [call for call in self.calls if any(name.startswith(prefix) for name in call)]


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    return Calls(monkeypatch)


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory):
    """Renders the shipped campaign's reference letter (5 pages) for an employer."""
    config = load_config(REPO)
    campaign = config.campaign("vssid-2022")
    template = LetterTemplate(campaign.template)
    folder = tmp_path_factory.mktemp("rendered")

    def rendered(name: str, number: int | None = 5, stem: str | None = None) -> Path:
        recipient = Recipient(kind="employers", code=f"TZH{abs(hash(name)) % 1000:03d}L", name=name,
                              emails=("ketoan@example.vn",), address="Nha Trang, Khánh Hòa")
        path = folder / f"{stem or abs(hash((name, number)))}.docx"
        template.render_to(build_context(config, campaign, recipient, number, dt.date(2023, 1, 5)), path)
        return path

    return rendered


def whole(docx_files: list[Path], outdir: Path) -> list[list[str]]:
    """Each file converted by plain LibreOffice on its own: the text of each page."""
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [find_soffice(), f"-env:UserInstallation={(outdir / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docx_files)],
        check=True, capture_output=True, timeout=600,
    )
    return [pages(outdir / f"{docx.stem}.pdf") for docx in docx_files]


def pages(pdf: Path) -> list[str]:
    return [" ".join(text.split()) for text in pdf_page_texts(pdf)]


def jobs_for(docx_files: list[Path], out: Path) -> list[ConversionJob]:
    return [ConversionJob(f"employers/{d.stem}", d, out / d.stem / "letter.pdf") for d in docx_files]


def assert_as_converted_whole(results, docx_files: list[Path], names: list[str], outdir: Path) -> None:
    reference = whole(docx_files, outdir)
    for result, expected, name in zip(results, reference, names):
        assert result.error is None, result.error
        assert pages(result.pdf) == expected, name  # same pages, same text on each
        assert result.content == read_pdf(result.pdf)  # what the gate reads is what was written
        assert check_pdf(result.pdf, expected_pages=len(expected), must_contain=[name]) == []
        assert name in " ".join(pdf_page_texts(result.pdf)[0].split())  # on page 1, spelled right


def test_letters_differing_on_page_one_are_spliced_and_read_as_converted_whole(
    render, tmp_path: Path, calls: Calls, caplog: pytest.LogCaptureFixture,
) -> None:
    docx_files = [render(name) for name in NAMES]
    with caplog.at_level(logging.WARNING, logger="outreach.convert"):
        results = PdfConverter(workers=1, chunk_size=4).convert(jobs_for(docx_files, tmp_path / "out"))

    assert not caplog.records, caplog.text
    # One stand-in converted whole, then page 1 of the others, chunk by chunk, each with a canary.
    assert len(calls.named("stand-in")) == 1
    assert len(calls.named("spliced-")) == 2
    assert not calls.named("merged-")
    assert {r.pages for r in results} == {5}
    assert_as_converted_whole(results, docx_files, NAMES, tmp_path / "whole")
    with pikepdf.open(results[1].pdf) as spliced:  # each letter its own title, no stand-in's leftovers
        assert "/Dests" not in spliced.Root and "/Names" not in spliced.Root
        assert len(spliced.pages) == 5


def test_a_letter_whose_first_page_breaks_elsewhere_is_converted_whole(
    render, tmp_path: Path, calls: Calls,
) -> None:
    names = NAMES[:3] + [LONG_NAME] + NAMES[3:5]
    docx_files = [render(name) for name in names]
    results = PdfConverter(workers=1, chunk_size=8).convert(jobs_for(docx_files, tmp_path / "out"))

    assert calls.named("spliced-") and calls.named("stand-in")
    assert results[3].pages >= 5
    assert_as_converted_whole(results, docx_files, names, tmp_path / "whole")


def test_a_letter_differing_after_page_one_is_converted_whole(render, tmp_path: Path, calls: Calls) -> None:
    docx_files = [render(name) for name in NAMES[:5]]
    # The last page of one letter changes too: another signer.
    replace_text(docx_files[4], "Lê Hùng Chính", "Trần Thị Bích Ngọc")
    results = PdfConverter(workers=1, chunk_size=8).convert(jobs_for(docx_files, tmp_path / "out"))

    assert calls.named("spliced-")
    assert_as_converted_whole(results, docx_files, NAMES[:5], tmp_path / "whole")
    assert "Trần Thị Bích Ngọc" in pdf_page_texts(results[4].pdf)[-1]
    assert "Lê Hùng Chính" not in " ".join(pdf_page_texts(results[4].pdf))


def replace_text(docx: Path, old: str, new: str) -> None:
    with zipfile.ZipFile(docx) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    assert any(old.encode() in data for _, data in parts)
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            target.writestr(info, data.replace(old.encode(), new.encode()))


def test_a_canary_that_disagrees_stops_splicing_the_group(
    render, tmp_path: Path, calls: Calls, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    # A stand-in that wrongly believes every page break falls where its own does: the canary (the
    # longest letter, converted whole alone) shows the difference, and nobody gets a wrong letter.
    monkeypatch.setattr(splice.StandIn, "holds", lambda self, letter, run, converted: True)
    names = [NAMES[0], LONG_NAME, *NAMES[1:3]]  # the first is the stand-in
    docx_files = [render(name) for name in names]
    converter = PdfConverter(workers=1, chunk_size=8)
    with caplog.at_level(logging.WARNING, logger="outreach.convert"):
        results = converter.convert(jobs_for(docx_files, tmp_path / "out"))

    assert "spliced conversion of 3 letters not used" in caplog.text
    assert_as_converted_whole(results, docx_files, names, tmp_path / "whole")
    calls.calls.clear()
    converter.convert(jobs_for(docx_files[1:], tmp_path / "again"))
    assert not calls.named("spliced-") and not calls.named("stand-in")  # the group is converted whole


def test_a_later_build_splices_on_the_stand_in_of_an_earlier_one(render, tmp_path: Path, calls: Calls) -> None:
    # Issuing the number changes page 1 of every letter ("Số: 05/…" instead of "Số: /…"): a
    # long-lived converter (outreach serve, outreach run) converts only page 1 again.
    converter = PdfConverter(workers=1, chunk_size=8)
    unnumbered = [render(name, number=None) for name in NAMES[:4]]
    converter.convert(jobs_for(unnumbered, tmp_path / "first"))
    assert len(calls.named("stand-in")) == 1
    calls.calls.clear()

    numbered = [render(name, number=5) for name in NAMES[:4]]
    results = converter.convert(jobs_for(numbered, tmp_path / "second"))
    assert not calls.named("stand-in") and not calls.named("merged-")
    assert len(calls.named("spliced-")) == 1
    assert_as_converted_whole(results, numbered, NAMES[:4], tmp_path / "whole")
    assert all("05/BHXH" in pdf_page_texts(r.pdf)[0].replace(" ", "") for r in results)


def test_splicing_can_be_turned_off(render, tmp_path: Path, calls: Calls) -> None:
    docx_files = [render(name) for name in NAMES[:3]]
    PdfConverter(workers=1, chunk_size=8, splice=False).convert(jobs_for(docx_files, tmp_path / "out"))
    assert not calls.named("spliced-") and not calls.named("stand-in") and calls.named("merged-")


def test_documents_that_are_not_copies_are_not_spliced_and_make_no_stand_in(
        render, tmp_path: Path, calls: Calls) -> None:
    # Appendices and address labels: each its own document, converted side by side, not one at a time.
    docx_files = [render(name) for name in NAMES[:3]]
    converter = PdfConverter(workers=1, chunk_size=8)
    converter.convert(jobs_for(docx_files, tmp_path / "out"), copies=False)
    assert not calls.named("spliced-") and not calls.named("stand-in") and calls.named("merged-")
    converter.convert(jobs_for(docx_files, tmp_path / "again"))
    assert calls.named("stand-in")  # the converter's other calls still splice


# The rules, without LibreOffice.

def letter(digests: list[bytes], markers: list[set[str]], section: bytes = b"s", sizes: list[int] | None = None) -> Letter:
    return Letter(slot=0, job=ConversionJob("k", Path("x.docx"), Path("x.pdf")), block_digests=tuple(digests),
                  block_markers=tuple(frozenset(m) for m in markers), section_digest=section,
                  block_sizes=tuple(sizes or [10] * len(digests)))


PAGE_1 = "BẢO HIỂM XÃ HỘI\nKính gửi: Công ty A\nĐoạn một\nĐoạn hai dài\nđược ngắt dòng ở đây\n"
PAGE_2 = "2\ntiếp đoạn hai\nĐoạn ba\nĐoạn bốn\nĐoạn năm\n"
PAGE_3 = "3\nĐoạn sáu của Công ty A\nmột\nhai\nĐoạn bảy\nba\nbốn\nKý tên\n"
SAME = [bytes([i]) for i in range(8)]
# Blocks 0-3 start on page 1 (block 3 goes on over page 2), 4-5 on page 2, 6-7 on page 3.
STARTS = [0, 0, 0, 0, 1, 1, 2, 2]


def stand_in(sizes: list[int] | None = None) -> splice.StandIn:
    made = splice.measure(letter(SAME, [set()] * 8, sizes=sizes), STARTS, b"%PDF", [PAGE_1, PAGE_2, PAGE_3],
                          [(), (), ()])
    assert made is not None
    return made


def test_a_letter_differing_on_page_one_is_converted_up_to_a_little_past_it() -> None:
    made = stand_in()
    own = letter([b"x", b"y", *SAME[2:]], [set()] * 8)
    (run,) = made.runs_for(own)
    assert run == splice.Run(0, made.page_start(1) + splice.SPILL_BLOCKS - 1, 0) == splice.Run(0, 5, 0)
    assert made.pages_of(run) == 1


def test_a_letter_differing_on_a_later_page_too_gets_a_run_for_it() -> None:
    made = stand_in()
    own = letter([SAME[0], b"greeting", *SAME[2:6], SAME[6], b"another signer"], [set()] * 8)
    assert made.runs_for(own) == (splice.Run(0, 5, 0), splice.Run(6, 8, 2))


@pytest.mark.parametrize("digests, why", [
    ([*SAME[:3], b"x", *SAME[4:]], "block 3 goes on over page 2"),
    ([*SAME[:4], b"x", *SAME[5:]], "block 4 starts page 2: where page 2 starts cannot be checked"),
    (SAME[:7], "a block less"),
])
def test_a_letter_that_cannot_be_spliced(digests, why) -> None:
    assert stand_in().runs_for(letter(digests, [set()] * len(digests))) is None, why


def test_another_section_or_headers_cannot_be_spliced() -> None:
    assert stand_in().runs_for(letter([b"x", *SAME[1:]], [set()] * 8, section=b"other headers")) is None


def test_no_stand_in_from_a_one_page_letter() -> None:
    assert splice.measure(letter(SAME, [set()] * 8), [0] * 8, b"", [PAGE_1], [()]) is None


def test_a_page_must_break_where_the_stand_in_s_does() -> None:
    made = stand_in()
    markers = [set(), {"kínhgửi:côngtyb"}, *[set()] * 6]
    own = letter([b"x", b"y", *SAME[2:]], markers)
    (run,) = made.runs_for(own)
    first = PAGE_1.replace("Công ty A", "Công ty B")
    assert made.holds(own, run, [first, PAGE_2])
    assert not made.holds(own, run, [first.replace("được ngắt dòng ở đây", "được ngắt"), PAGE_2])  # ends elsewhere
    assert not made.holds(own, run, [first, "2\nĐoạn ba\nĐoạn bốn\n"])  # page 2 starts elsewhere
    assert not made.holds(own, run, [PAGE_1, PAGE_2])  # its own Kính gửi is not on its page 1
    assert not made.holds(own, run, [first])  # no overflow: page 1 did not fill
    assert made.spliced({0: first}, ()).page_texts == (first, PAGE_2, PAGE_3)


def test_a_later_page_must_start_and_end_as_the_stand_in_s() -> None:
    made = stand_in()
    own = letter([SAME[0], b"greeting", *SAME[2:7], b"another signer"], [set()] * 8)
    later = made.runs_for(own)[1]
    assert made.holds(own, later, [PAGE_3.replace("Đoạn bảy", "Đoạn bảy khác")])
    assert not made.holds(own, later, [PAGE_3.replace("Ký tên", "Người khác ký")])  # ends otherwise: it may have broken elsewhere
    assert not made.holds(own, later, [PAGE_3.replace("Đoạn sáu", "Đoạn năm")])  # starts elsewhere
    assert not made.holds(own, later, [PAGE_3, "4\nthêm một trang\n"])  # the last page overflowed


def test_the_stand_in_nearest_in_length_is_tried_first() -> None:
    made = splice.StandIns()
    short, long = stand_in(sizes=[10, 20, *[10] * 6]), stand_in(sizes=[10, 90, *[10] * 6])
    own = letter([SAME[0], b"x", *SAME[2:]], [set()] * 8, sizes=[10, 85, *[10] * 6])
    own.group = "template"
    made.add("template", short)
    made.add("template", long)
    assert made.find(own) == (long, short)


def test_a_group_keeps_its_stand_ins_and_none_after_a_doubt() -> None:
    made = splice.StandIns()
    own = letter([b"x", *SAME[1:]], [set()] * 8)
    own.group = "template"
    assert made.find(own) == () and made.may_add("template")
    made.add("template", stand_in())
    assert len(made.find(own)) == 1
    for _ in range(splice.STAND_INS_PER_GROUP - 1):
        made.add("template", None)  # letters that could not be stand-ins count too
    assert not made.may_add("template")
    made.drop("template")
    assert made.find(own) == () and not made.may_add("template")


def test_a_group_s_first_spliced_chunks_bring_a_canary_then_one_in_so_many() -> None:
    made = splice.StandIns()
    due = [made.canary_due("template") for _ in range(4 * splice.CANARY_EVERY)]
    assert due[: splice.FIRST_CANARIES] == [True] * splice.FIRST_CANARIES
    later = due[splice.FIRST_CANARIES :]
    assert later.count(True) == len(due) // splice.CANARY_EVERY  # then one chunk in CANARY_EVERY
    assert made.canary_due("another")  # counted per group
