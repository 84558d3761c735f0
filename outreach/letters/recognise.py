"""The leadership's ordinary Decree-30 letter as a template: :func:`recognise_letter` finds its parts
(issuer, Số/ký hiệu, place and date, V/v, Kính gửi, signature block, Nơi nhận) in a python-docx
``Document`` and replaces each by the template's fields, editing the runs in place so the letter keeps
its fonts, sizes and layout; :func:`propose_template` does it on a file's bytes.

The parts are found by their Decree-30 wording (Mẫu 1.5), not by position: Word letters put the header
and the footer in tables, or not, and staff break lines with Enter or Shift+Enter. What is not found is
reported, with what to do, and left as the letter had it.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from docx import Document
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..text import to_nfc
from .skeleton import stable_bytes


@dataclass(frozen=True)
class RecognisedPart:
    """One part of the letter: its Vietnamese name, the letter's text and what the template has instead."""

    part: str
    label: str
    found: str
    becomes: str


@dataclass(frozen=True)
class Recognition:
    parts: tuple[RecognisedPart, ...]
    missing: tuple[tuple[str, str], ...]  # (the part's name, what to do)
    subject: str  # the V/v text, for the campaign's subject
    addressees: tuple[str, ...]  # the Kính gửi lines of the letter
    copies: tuple[str, ...]  # the Nơi nhận entries other than «Như trên» and «Lưu»
    place: str = ""  # the place before the date, «Khánh Hòa»
    ky_hieu: str = ""  # the ký hiệu after the number, «BHXH-QLT»
    signer: tuple[str, ...] = ()  # authority, title, name as the letter has them

    @property
    def complete(self) -> bool:
        return not self.missing

    def lines(self) -> list[str]:
        """The report, in Vietnamese: what each part became, what was not found, what staff still do."""
        lines = [f"{p.label}: «{p.found}» → «{p.becomes}»" for p in self.parts]
        lines += [f"Không tìm thấy {label}. {fix}" for label, fix in self.missing]
        return lines + self.notes()

    def differences(self, place: str, ky_hieu: str, signer: tuple[str, str, str]) -> list[str]:
        """Where the letters will print other words than the leadership's letter (they take them from
        config.toml and the campaign), so staff can correct one or the other before building."""
        found = []
        if self.place and self.place != place:
            found.append(f"Địa danh của thư gốc là «{self.place}», thư sẽ ghi «{place}» (config.toml, [agency] place).")
        if self.ky_hieu and self.ky_hieu != ky_hieu:
            found.append(f"Ký hiệu của thư gốc là «{self.ky_hieu}», thư sẽ ghi «{ky_hieu}» (chữ viết tắt cơ quan và "
                         "đơn vị soạn thảo của chiến dịch).")
        if self.signer and self.signer[-1] != signer[-1]:
            found.append(f"Thư gốc do «{self.signer[-1]}» ký, thư sẽ ghi «{signer[-1]}» (config.toml, [signer]).")
        elif self.signer and tuple(self.signer) != tuple(signer)[-len(self.signer):]:
            found.append(f"Quyền hạn, chức vụ của thư gốc là «{' / '.join(self.signer[:-1])}», thư sẽ ghi "
                         f"«{' / '.join(signer[:-1])}» (config.toml, [signer]).")
        return found

    def notes(self) -> list[str]:
        """What the letter said that now comes from the campaign: its subject, addressees and copies."""
        lines = []
        if self.subject:
            lines.append(f"Trích yếu của thư gốc (đặt làm «V/v» của chiến dịch): «{self.subject}».")
        if self.addressees:
            lines.append("Thư gốc gửi: " + " ".join(self.addressees) + " — mỗi thư nay ghi một người nhận của danh sách.")
        if self.copies:
            lines.append("Nơi nhận của thư gốc: " + "; ".join(self.copies) + ". Thêm các nơi này vào Nơi nhận của "
                         "chiến dịch để họ nhận bản gốc và tên họ được in trong thư.")
        return lines


_LABELS = {
    "co_quan": "tên cơ quan chủ quản và cơ quan ban hành",
    "so_ky_hieu": "dòng «Số:» (số và ký hiệu)",
    "dia_danh_ngay": "dòng địa danh và ngày tháng",
    "trich_yeu": "dòng «V/v» (trích yếu)",
    "kinh_gui": "dòng «Kính gửi:»",
    "nguoi_ky": "khối chữ ký (quyền hạn, chức vụ, họ tên người ký)",
    "noi_nhan": "mục «Nơi nhận:»",
}
_FIXES = {
    "co_quan": "Mẫu giữ tên cơ quan như thư gốc; sửa trong Word nếu cần.",
    "so_ky_hieu": "Thêm dòng «Số: {{ so_ky_hieu }}» dưới tên cơ quan ban hành.",
    "dia_danh_ngay": "Thêm dòng «{{ dia_danh_ngay }}» bên phải, ngang dòng «Số:».",
    "trich_yeu": "Thêm dòng «V/v {{ campaign.subject }}» dưới dòng «Số:».",
    "kinh_gui": "Thêm dòng «Kính gửi: {{ recipient.salutation }}» trước nội dung thư.",
    "nguoi_ky": "Thay quyền hạn, chức vụ, họ tên người ký bằng {{ signer.authority }}, {{ signer.title }}, "
                "{{ signer.name }}.",
    "noi_nhan": "Thêm mục «Nơi nhận:» với «- Như trên;» và «- Lưu: VT, {{ ky_hieu_phong }}.».",
}

_NUMBER = re.compile(r"^\s*Số\s*:(?P<value>.*?)\s*$")  # the blanks of a draft's number are the value's
_DATE = re.compile(r"^\s*(?P<value>[^,\d]{2,}?,\s*ngày\b.*?\bnăm\s*\d{4})\s*\.?\s*$", re.IGNORECASE)
_SUBJECT = re.compile(r"^\s*V/v\b\s*:?\s*(?P<value>.*?)\s*$")
_KINH_GUI = re.compile(r"^\s*Kính\s+gửi\s*:?\s*(?P<value>.*?)\s*$", re.IGNORECASE)
_NOI_NHAN = re.compile(r"^\s*Nơi\s+nhận\s*:?\s*$", re.IGNORECASE)
_ENTRY = re.compile(r"^\s*[-–+•]\s*(?P<value>.*?)\s*$")
_KEEP_COPY = re.compile(r"^Như\s+trên\b", re.IGNORECASE)
_ARCHIVE = re.compile(r"^Lưu\s*:\s*(?P<value>.*?)\s*$", re.IGNORECASE)
_ARCHIVE_UNIT = re.compile(r",\s*(?P<unit>[A-ZĐ][A-ZĐ0-9]*)\s*\.?\s*$")  # «VT, QLT.»: the unit after VT
_NATIONAL = ("CỘNG HÒA", "CỘNG HOÀ", "ĐỘC LẬP")


def recognise_letter(document: DocxDocument) -> Recognition:
    """Turn ``document`` (the leadership's letter, changed in place) into the proposed template."""
    found = _Found()
    paragraphs = list(_all_paragraphs(document))
    number = _first(paragraphs, _NUMBER)
    if number is not None:
        _issuer(found, number, paragraphs)
        found.ky_hieu = to_nfc(_match(number, _NUMBER).group("value").rpartition("/")[2].strip())
        found.replace(number, "so_ky_hieu", _match(number, _NUMBER), " {{ so_ky_hieu }}")
    date = _first(paragraphs, _DATE)
    if date is not None:
        found.place = to_nfc(" ".join(_match(date, _DATE).group("value").split(",", 1)[0].split()))
        found.replace(date, "dia_danh_ngay", _match(date, _DATE), "{{ dia_danh_ngay }}")
    subject = _first(paragraphs, _SUBJECT)
    if subject is not None:
        found.subject = _subject(found, subject)
    kinh_gui = _first(paragraphs, _KINH_GUI)
    if kinh_gui is not None:
        _kinh_gui(found, kinh_gui)
    noi_nhan = _first(paragraphs, _NOI_NHAN)
    if noi_nhan is not None:
        _noi_nhan(found, noi_nhan)
    _signature(found, document, noi_nhan)
    return Recognition(
        parts=tuple(found.parts),
        missing=tuple((_LABELS[key], _FIXES[key]) for key in _LABELS if key not in found.keys),
        subject=found.subject, addressees=tuple(found.addressees), copies=tuple(found.copies),
        place=found.place, ky_hieu=found.ky_hieu, signer=tuple(found.signer))


def propose_template(data: bytes) -> tuple[bytes, Recognition]:
    """The proposed template of a .docx file's bytes (the same letter, the same bytes), and what was recognised."""
    document = Document(io.BytesIO(data))
    recognition = recognise_letter(document)
    return stable_bytes(document), recognition


class _Found:
    def __init__(self) -> None:
        self.parts: list[RecognisedPart] = []
        self.keys: set[str] = set()
        self.subject = ""
        self.addressees: list[str] = []
        self.copies: list[str] = []
        self.place = self.ky_hieu = ""
        self.signer: list[str] = []

    def note(self, key: str, found: str, becomes: str, label: str = "") -> None:
        self.keys.add(key)
        self.parts.append(RecognisedPart(key, label or _LABELS[key], to_nfc(found.strip()), becomes))

    def replace(self, paragraph: Paragraph, key: str, match: re.Match, tag: str) -> None:
        before = _text(paragraph)
        start, end = match.span("value")
        _replace_span(paragraph, start, end, tag)
        self.note(key, before, _text(paragraph))


# --- the parts -----------------------------------------------------------------------------

def _issuer(found: _Found, number: Paragraph, paragraphs: list[Paragraph]) -> None:
    """The last two capitalised lines above «Số:» other than the national title: parent body, issuing body."""
    above = []
    for paragraph in paragraphs:
        if paragraph._p is number._p:
            break
        if _text(paragraph).strip():
            above.append(paragraph)
    names = [p for p in above if _is_caps(_text(p)) and not _text(p).strip().startswith(_NATIONAL)][-2:]
    tags = ["{{ agency.parent_body }}", "{{ agency.issuing_body }}"][-len(names):] if names else []
    for paragraph, tag in zip(names, tags, strict=True):
        text = _text(paragraph)
        before = text.strip()
        start = len(text) - len(text.lstrip())
        _replace_span(paragraph, start, start + len(before), tag)
        found.note("co_quan", before, tag, "Tên cơ quan" if tag.endswith("issuing_body }}") else "Cơ quan chủ quản")


def _subject(found: _Found, paragraph: Paragraph) -> str:
    """«V/v …»: the text after it, and the lines it wraps onto in its cell, become the campaign's subject."""
    match = _match(paragraph, _SUBJECT)
    pieces = [match.group("value")]
    if _in_cell(paragraph):
        for following in _following(paragraph):
            text = _text(following).strip()
            if not text or _NUMBER.match(text) or _DATE.match(text):
                break
            pieces.append(text)
            _remove(following)
    before = "V/v " + " ".join(pieces)
    _replace_span(paragraph, *match.span("value"), "{{ campaign.subject }}")
    found.note("trich_yeu", before, _text(paragraph).strip())
    return to_nfc(" ".join(piece for piece in pieces if piece))


def _kinh_gui(found: _Found, paragraph: Paragraph) -> None:
    """One addressee on the line, or a list of «- …;» lines under it: one recipient per letter."""
    match = _match(paragraph, _KINH_GUI)
    before = _text(paragraph).strip()
    addressees = [match.group("value")] if match.group("value") else []
    blanks: list[Paragraph] = []  # removed only between addressees: the space before the body stays
    for following in _following(paragraph):
        text = _text(following)
        if not text.strip():
            blanks.append(following)
            continue
        if _ENTRY.match(text) is None:
            break
        addressees.append(text.strip())
        before += " " + text.strip()
        for removed in (*blanks, following):
            _remove(removed)
        blanks = []
    start, end = match.span("value")
    _replace_span(paragraph, start, end, ("" if _text(paragraph)[:start].endswith(" ") else " ")
                  + "{{ recipient.salutation }}")
    if not _text(paragraph)[:start].rstrip().endswith(":"):
        colon = len(_text(paragraph)[:start].rstrip())
        _replace_span(paragraph, colon, colon, ":")
    found.addressees = [to_nfc(a) for a in addressees]
    found.note("kinh_gui", before, _text(paragraph).strip())


def _noi_nhan(found: _Found, label: Paragraph) -> None:
    """«- Như trên;» stays; the other bodies become the campaign's Nơi nhận; «Lưu: VT, QLT.» its unit."""
    entries = []
    for following in _following(label):
        text = _text(following)
        if not text.strip():
            continue
        if _ENTRY.match(text) is None:
            break
        entries.append(following)
    copies = [p for p in entries if not _KEEP_COPY.match(_entry(p)) and not _ARCHIVE.match(_entry(p))]
    found.copies = [to_nfc(_entry(p).rstrip(";.")) for p in copies]
    before = "; ".join(_entry(p).rstrip(";.") for p in entries)
    changes = []
    for paragraph in entries:
        archive = _ARCHIVE.match(_entry(paragraph))
        unit = _ARCHIVE_UNIT.search(_text(paragraph)) if archive else None
        if unit is not None:
            _replace_span(paragraph, *unit.span("unit"), "{{ ky_hieu_phong }}")
            changes.append(_text(paragraph).strip())
    loop_at = copies[0] if copies else next((p for p in entries if _KEEP_COPY.match(_entry(p))), None)
    if loop_at is not None:
        line = _clone(loop_at, "- {{ nhan }};", after=loop_at) if not copies else loop_at
        if copies:
            text = _text(line)
            entry = _ENTRY.match(text)
            _replace_span(line, entry.start("value"), len(text), "{{ nhan }};")
        _clone(line, "{%p for nhan in noi_nhan %}", after=None, before=line)
        _clone(line, "{%p endfor %}", after=line)
        for paragraph in copies[1:]:
            _remove(paragraph)
        changes.insert(0, "- {{ nhan }}; (mỗi nơi nhận của chiến dịch)")
    if entries:
        found.note("noi_nhan", before, " / ".join(changes))


def _signature(found: _Found, document: DocxDocument, noi_nhan: Paragraph | None) -> None:
    """The authority and title (capitals, one or two lines) and the signer's name under them."""
    block = _signature_block(document, noi_nhan)
    lines = [(p, _text(p)) for p in block if _text(p).strip()]
    name_at = max((i for i, (_, text) in enumerate(lines) if not _is_caps(text)), default=None)
    if name_at is None:
        return
    capitals = [(p, text) for p, text in lines[:name_at] if _is_caps(text)][-2:]
    if not capitals:
        return
    signed = []
    if len(capitals) == 1 and "\n" in capitals[0][1].strip():
        paragraph, text = capitals[0]  # «KT. GIÁM ĐỐC» Shift+Enter «PHÓ GIÁM ĐỐC»
        first, _, second = text.strip().partition("\n")
        start = text.index(first)
        _replace_span(paragraph, start + len(first) + 1, start + len(text.strip()), "{{ signer.title }}")
        _replace_span(paragraph, start, start + len(first), "{{ signer.authority }}")
        signed += [first, second]
    else:
        if len(capitals) == 1:  # the head signs himself, no «KT.» line: the authority line goes above
            paragraph = capitals[0][0]
            _clone(paragraph, "{{ signer.authority }}", after=None, before=paragraph)
            capitals = [(paragraph, capitals[0][1])]
            tags = ("{{ signer.title }}",)
        else:
            tags = ("{{ signer.authority }}", "{{ signer.title }}")
        for (paragraph, text), tag in zip(capitals, tags, strict=True):
            stripped = text.strip()
            start = text.index(stripped) if stripped else 0
            _replace_span(paragraph, start, start + len(stripped), tag)
            signed.append(stripped)
    paragraph, text = lines[name_at]
    stripped = text.strip()
    _replace_span(paragraph, text.index(stripped), text.index(stripped) + len(stripped), "{{ signer.name }}")
    signed.append(stripped)
    found.signer = [to_nfc(" ".join(line.split())) for line in signed if line]
    found.note("nguoi_ky", " / ".join(s for s in signed if s),
               "{{ signer.authority }} / {{ signer.title }} / {{ signer.name }}")


def _signature_block(document: DocxDocument, noi_nhan: Paragraph | None) -> list[Paragraph]:
    """The other cell of Nơi nhận's table row (Mẫu 1.5), else what follows a Nơi nhận in the body,
    else the document's last paragraphs (tables included)."""
    if noi_nhan is not None and _in_cell(noi_nhan):
        row = noi_nhan._p.getparent().getparent()
        for table in _tables(document):
            for table_row in table.rows:
                if table_row._tr is row:
                    return [p for cell in table_row.cells if not any(q._p is noi_nhan._p for q in cell.paragraphs)
                            for p in cell.paragraphs]
    paragraphs = list(_all_paragraphs(document))
    if noi_nhan is not None:
        at = next(i for i, p in enumerate(paragraphs) if p._p is noi_nhan._p)
        after = [p for p in paragraphs[at + 1:] if not _ENTRY.match(_text(p))]
        return after if any(_text(p).strip() for p in after) else paragraphs[max(at - 6, 0):at]
    return paragraphs[-6:]


# --- paragraphs and runs -------------------------------------------------------------------

def _tables(document: DocxDocument) -> Iterator[Table]:
    def walk(tables):
        for table in tables:
            yield table
            for row in table.rows:
                for cell in row.cells:
                    yield from walk(cell.tables)
    yield from walk(document.tables)


def _all_paragraphs(document: DocxDocument) -> Iterator[Paragraph]:
    """The body's paragraphs and those of its tables, in document order (a merged cell once)."""
    seen = set()

    def walk(container):
        for child in container.iter_inner_content():
            if isinstance(child, Paragraph):
                yield child
            else:
                for row in child.rows:
                    for cell in row.cells:
                        if id(cell._tc) not in seen:
                            seen.add(id(cell._tc))
                            yield from walk(cell)
    yield from walk(document)


def _first(paragraphs: list[Paragraph], pattern: re.Pattern) -> Paragraph | None:
    return next((p for p in paragraphs if pattern.match(_text(p))), None)


def _match(paragraph: Paragraph, pattern: re.Pattern) -> re.Match:
    match = pattern.match(_text(paragraph))
    assert match is not None
    return match


def _text(paragraph: Paragraph) -> str:
    """The text of the paragraph's own runs (a line break is ``\\n``), the text :func:`_replace_span` edits."""
    return "".join(run.text for run in paragraph.runs)


def _entry(paragraph: Paragraph) -> str:
    match = _ENTRY.match(_text(paragraph))
    return match.group("value") if match else ""


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _in_cell(paragraph: Paragraph) -> bool:
    return paragraph._p.getparent().tag.endswith("}tc")


def _following(paragraph: Paragraph) -> Iterator[Paragraph]:
    """The paragraphs after this one in the same container (cell or body), stopping at a table."""
    element = paragraph._p.getnext()
    while element is not None and element.tag == paragraph._p.tag:
        following = Paragraph(element, paragraph._parent)
        element = element.getnext()  # before the caller removes it
        yield following


def _remove(paragraph: Paragraph) -> None:
    paragraph._p.getparent().remove(paragraph._p)


def _clone(paragraph: Paragraph, text: str, *, after: Paragraph | None, before: Paragraph | None = None) -> Paragraph:
    """A copy of ``paragraph`` (its paragraph and first run's formatting) holding ``text``."""
    element = copy.deepcopy(paragraph._p)
    (after._p.addnext if after is not None else before._p.addprevious)(element)
    clone = Paragraph(element, paragraph._parent)
    _replace_span(clone, 0, len(_text(clone)), text)
    return clone


def _replace_span(paragraph: Paragraph, start: int, end: int, text: str) -> None:
    """Replace characters ``start:end`` of the runs' text by ``text``, in the run where the span starts,
    so the new text has that run's font, size and emphasis; runs the span empties are removed."""
    runs = paragraph.runs
    if not runs:
        paragraph.add_run(text)
        return
    position = 0
    placed = False
    for run in runs:
        run_text = run.text
        run_start, run_end = position, position + len(run_text)
        position = run_end
        if run_end < start or (run_start >= end and placed):
            continue
        if not placed and (start < run_end or (start == run_end and run is runs[-1]) or start == run_start):
            cut_end = min(end, run_end) - run_start
            run.text = run_text[:start - run_start] + text + run_text[cut_end:]
            placed = True
            continue
        if placed and run_start < end:
            run.text = run_text[min(end, run_end) - run_start:]
            if not run.text:
                run._r.getparent().remove(run._r)
