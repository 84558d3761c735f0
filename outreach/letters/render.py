"""The letters stage: what a template can say about one letter, and rendering it safely and fast.

- :func:`build_context` turns config + campaign + recipient + document number into a
  :class:`LetterContext` (Decree 30: number with a leading zero, ký hiệu, date wording).
- :class:`LetterTemplate` pre-processes a DOCX template once (docxtpl's tag repair, Jinja compile)
  and then renders letters in a few milliseconds each, in a sandbox bounded in time and size
  (:mod:`.sandbox`), with every value escaped for XML, and with a Vietnamese :class:`LetterError`
  naming the place in the template instead of an empty gap when a value is missing, a traceback
  when the template fails, or a hang when it runs away.
- :func:`check_template` reports syntax errors, unknown variables and tags Word has broken, each
  with where it is in the document, then what filling the template in for sample recipients
  meets; :func:`check_empty_values` notes values some listed recipients lack. Both are for
  ``outreach template check``.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime as dt
import functools
import io
import os
import re
import typing
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import Template, TemplateSyntaxError, meta, nodes
from lxml import etree

from ..config import COPIES, Agency, Campaign, Config, Department, Signer
from ..errors import UserError
from ..localtime import office_today
from ..recipients import Recipient, payment_account
from . import sandbox
from .fonts import font_problems, template_fonts
from .notice import PaymentNotice, payment_notice
from .pictures import placing
from .sandbox import (LETTER_LIMITS, MESSAGE_LIMITS, Budget, Sandbox, TemplateFailure, UnsupportedTag, environment,
                      hidden_from_templates)

BLANK = " " * 6  # where the number and the date are written by hand on an unsigned draft

TEMPLATE_VARIABLES: Mapping[str, str] = {
    "recipient.salutation": "Dòng sau «Kính gửi:» — đơn vị: «Tên (mã đơn vị …)»; xã: «Ủy ban nhân dân …»",
    "recipient.name": "Tên đơn vị, tổ chức hoặc xã/phường/thị trấn nhận thư",
    "recipient.code": "Mã đơn vị (mã xã với UBND xã)",
    "recipient.kind": "Nhóm nhận: employers (đơn vị SDLĐ), collection_agents (tổ chức dịch vụ thu), communes (UBND xã)",
    "recipient.address": "Địa chỉ (xuống dòng trong ô Excel được giữ nguyên)",
    "recipient.district": "Huyện/thị xã/thành phố",
    "recipient.emails": "Danh sách địa chỉ thư điện tử",
    "recipient.tax_code": "Mã số thuế",
    "recipient.phone": "Số điện thoại",
    "recipient.contact": "Người liên hệ",
    "recipient.extra": "Các cột khác của danh sách, theo tên cột, vd. {{ recipient.extra['Số lao động'] }}",
    "agency.parent_body": "Cơ quan chủ quản (chữ in hoa), vd. BẢO HIỂM XÃ HỘI VIỆT NAM",
    "agency.issuing_body": "Cơ quan ban hành (chữ in hoa), vd. BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
    "agency.abbreviation": "Chữ viết tắt tên cơ quan trong ký hiệu, vd. BHXH",
    "agency.place": "Địa danh ghi trước ngày tháng, vd. Khánh Hòa",
    "ten_co_quan": "Tên cơ quan ban hành viết thường để dùng trong câu, vd. Bảo hiểm xã hội tỉnh Khánh Hòa",
    "signer.authority": "Quyền hạn ký, vd. KT. GIÁM ĐỐC",
    "signer.title": "Chức vụ người ký, vd. PHÓ GIÁM ĐỐC",
    "signer.name": "Họ tên người ký",
    "department.code": "Mã phòng gửi thư cho nhóm nhận này, vd. QLT",
    "department.name": "Tên phòng gửi thư, vd. Phòng Quản lý thu",
    "department.reply_to": "Địa chỉ thư điện tử nhận trả lời",
    "campaign.name": "Mã chiến dịch trong config.toml",
    "campaign.title": "Tên chiến dịch",
    "campaign.subject": "Trích yếu nội dung (phần sau «V/v»)",
    "so": "Số văn bản, vd. 05 (để trống khi chưa cấp số)",
    "ky_hieu": "Ký hiệu văn bản, vd. BHXH-QLT",
    "so_ky_hieu": "Số và ký hiệu, vd. 05/BHXH-QLT (bản nháp: «      /BHXH-QLT»)",
    "ky_hieu_phong": "Chữ viết tắt đơn vị soạn thảo (dòng «Lưu: VT, QLT.»)",
    "ngay_thang": "Ngày ban hành, vd. ngày 05 tháng 01 năm 2023 (bản nháp: để trống ngày, tháng)",
    "dia_danh_ngay": "Địa danh và ngày, vd. Khánh Hòa, ngày 05 tháng 01 năm 2023",
    "noi_nhan": "Tên các nơi nhận của chiến dịch (config.toml [[campaigns.X.noi_nhan]]), để in mục «Nơi nhận:», vd. "
                "{%p for nhan in noi_nhan %} / - {{ nhan }}; / {%p endfor %}",
    "recipient.masked_code": "Mã đã che, để dùng ngoài thư (e-mail): người tham gia chỉ hiện 4 số cuối, vd. ********6789",
    "payment.paid_until": "Tháng cuối cùng đã đóng (người tham gia BHXH tự nguyện), vd. 12/2026",
    "payment.period_start": "Tháng đầu của kỳ đóng tới, vd. 01/2027",
    "payment.period_end": "Tháng cuối của kỳ đóng tới, vd. 12/2027",
    "payment.mode": "Phương thức đóng, vd. 12 tháng một lần",
    "payment.income": "Mức thu nhập làm căn cứ đóng (đồng/tháng), vd. 1.500.000",
    "payment.gross": "Số tiền của kỳ trước khi trừ Nhà nước hỗ trợ",
    "payment.support": "Số tiền Nhà nước hỗ trợ trong kỳ (trống khi không có; không bao giờ ghi lý do)",
    "payment.amount": "Số tiền phải nộp cho kỳ, vd. 3.168.000",
    "payment.deadline": "Hạn nộp tiền của kỳ, vd. 31/07/2027",
    "payment.memo": "Nội dung chuyển khoản đầy đủ: «Đóng BHXH tự nguyện của <họ tên>, <mã số BHXH>, <số điện thoại>»",
    "payment.qr_memo": "Nội dung ngắn trong mã VietQR, vd. BHXHTN 5601234567",
    "payment.qr": "Hình mã VietQR (đặt thẻ một mình trong một đoạn)",
    "payment.account.holder": "Tên tài khoản nhận tiền",
    "payment.account.number": "Số tài khoản nhận tiền",
    "payment.account.bank": "Ngân hàng, chi nhánh của tài khoản",
}


class LetterError(UserError):
    """A template that cannot make a correct letter; the message says where and how to fix it."""


class TemplateRunError(LetterError):
    """A template that failed while filling in one letter: the failure, and where it is in the template."""

    def __init__(self, who: str, template: str, failure: TemplateFailure, location: str, note: str = "") -> None:
        super().__init__(f"Không tạo được thư cho {who}: mẫu {template}, {location} — {failure.what}{note}. "
                         f"Cách sửa: {failure.fix}.")
        self.failure, self.location = failure, location


# --- Decree-30 wording ----------------------------------------------------------------------

def vn_date(day: dt.date) -> str:
    """``ngày 05 tháng 01 năm 2023``: days below 10 and months 1–2 take a leading zero, months 3–12 not."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def blank_date(year: int) -> str:
    """The date line of an unsigned draft, filled in by hand when the letter is signed."""
    return f"ngày{BLANK}tháng{BLANK}năm {year}"


_ROMAN_NUMERAL = re.compile(r"[IVXLCDM]+")


def _sentence_case(caps: str, *proper_names: str) -> str:
    """``BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA`` → ``Bảo hiểm xã hội tỉnh Khánh Hòa`` for use inside a sentence."""
    text = " ".join(word if _ROMAN_NUMERAL.fullmatch(word) else word.lower() for word in caps.split())
    for name in (*proper_names, "Việt Nam"):
        text = re.sub(re.escape(name.lower()), name, text)
    return text[:1].upper() + text[1:]


# --- context --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LetterContext:
    """Everything a template can use; the field names are the template variable names."""

    recipient: Recipient | None
    agency: Agency
    ten_co_quan: str
    signer: Signer
    department: Department
    campaign: Campaign
    so: str
    ky_hieu: str
    so_ky_hieu: str
    ky_hieu_phong: str
    ngay_thang: str
    dia_danh_ngay: str
    payment: PaymentNotice | None = None  # voluntary-insurance participants only

    @property
    def noi_nhan(self) -> tuple[str, ...]:
        """The names of the campaign's copy recipients, for the letter's "Nơi nhận:" block."""
        return tuple(copy.name for copy in self.campaign.noi_nhan)

    def as_template_vars(self) -> dict[str, Any]:
        return {**{field.name: getattr(self, field.name) for field in fields(self)}, "noi_nhan": self.noi_nhan}

    def fingerprint(self) -> str:
        """Everything a template can read of this letter, as text: the same text, the same letter.
        What is hidden from templates (sandbox.NOT_IN_LETTERS) is left out, so changing it rebuilds nothing.
        The Nơi nhận names count only when there are some: letters of a campaign without them keep
        the fingerprint they had before campaigns could list them, and so their approvals."""
        names = self.noi_nhan
        return fingerprint(self) + (f" noi_nhan={names!r}" if names else "")




def fingerprint(value: Any) -> str:
    """``repr`` of a value without what templates cannot read (frozen dataclasses have a complete,
    deterministic repr): the part of it that can reach a letter or a message."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return repr(value)
    hidden = hidden_from_templates(type(value))
    shown = ", ".join(f"{f.name}={fingerprint(getattr(value, f.name))}" for f in fields(value) if f.name not in hidden)
    return f"{type(value).__name__}({shown})"


def build_context(config: Config, campaign: Campaign, recipient: Recipient | None, number: int | None,
                  issued_on: dt.date | None) -> LetterContext:
    """The context of one letter; ``number``/``issued_on`` None make an unsigned draft (blank number, date)."""
    if number is not None and number < 1:
        raise ValueError(f"document numbers start at 1, got {number}")
    ky_hieu = f"{config.agency.abbreviation}-{campaign.drafting_unit}"
    so = BLANK if number is None else f"{number:02d}"
    ngay_thang = blank_date(office_today().year) if issued_on is None else vn_date(issued_on)
    # The original letter (no recipient, or the Nơi nhận bodies') is the drafting department's.
    department = (config.department_for(recipient.kind) if recipient is not None and recipient.kind != COPIES
                  else config.departments[campaign.drafting_unit])
    payment = None
    if recipient is not None and recipient.participation is not None and config.voluntary is not None:
        payment = payment_notice(config.voluntary, recipient, payment_account(config, recipient), campaign.expires)
    return LetterContext(
        recipient=recipient,
        agency=config.agency,
        ten_co_quan=_sentence_case(config.agency.issuing_body, config.agency.place),
        signer=config.signer,
        department=department,
        campaign=campaign,
        so=so,
        ky_hieu=ky_hieu,
        so_ky_hieu=f"{so}/{ky_hieu}",
        ky_hieu_phong=campaign.drafting_unit,
        ngay_thang=ngay_thang,
        dia_danh_ngay=f"{config.agency.place}, {ngay_thang}",
        payment=payment,
    )


def original_recipient(config: Config, campaign: Campaign) -> Recipient:
    """Whom the one original letter, the one the Nơi nhận bodies get, is addressed to: the campaign's
    audiences, as the original's Kính gửi lists them (their labels), personalised for none of them."""
    return Recipient(kind=COPIES, code="", name="; ".join(config.audiences[a].label for a in campaign.audiences))


def sample_contexts(config: Config, campaign: Campaign, recipients: Iterable[Recipient | None]) -> Iterator[LetterContext]:
    """Each recipient's letter as a draft and as issued (number 01, today): templates may differ between them."""
    for recipient in recipients:
        for number, issued_on in ((None, None), (1, office_today())):
            yield build_context(config, campaign, recipient, number, issued_on)


# --- rendering ------------------------------------------------------------------------------

def _variables(context: LetterContext | Mapping[str, Any]) -> Mapping[str, Any]:
    return context.as_template_vars() if isinstance(context, LetterContext) else context


def _render(template: Template, variables: Mapping[str, Any], budget: Budget, name: str, source: str,
            locate: Callable[[int | None], str]) -> str:
    """``template`` (compiled from the Jinja ``source``) filled in; ``name`` and ``locate`` say where it failed."""
    try:
        return sandbox.render(template, variables, source, budget)
    except TemplateFailure as failure:
        raise TemplateRunError(_who(variables), name, failure, locate(failure.lineno)) from None


def _who(variables: Mapping[str, Any]) -> str:
    recipient = variables.get("recipient")
    if not isinstance(recipient, Recipient):
        return "bản chung (không theo người nhận)"
    where = f", {recipient.source_file} dòng {recipient.source_row}" if recipient.source_file else ""
    return f"«{recipient.name}» ({recipient.key}{where})"


# --- text templates (e-mail) -----------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _compile_text(source: str, html: bool, name: str) -> Template:
    try:
        return environment(html).from_string(source)
    except TemplateSyntaxError as error:
        raise LetterError(f"Mẫu {name}, dòng {error.lineno}: lỗi cú pháp — {_syntax_hint(error)}") from None


def render_text_template(path_or_source: Path | str, context: LetterContext | Mapping[str, Any]) -> str:
    """An e-mail subject or body; a file whose name ends in ``.html.j2`` is HTML and its values are escaped."""
    template, name, source = text_template(path_or_source)
    return _render(template, _variables(context), Budget(MESSAGE_LIMITS), name, source,
                   functools.partial(_line_of, source))


def text_template(path_or_source: Path | str) -> tuple[Template, str, str]:
    """The compiled e-mail subject or body, its name for messages and its source; raises LetterError if it
    cannot be read or does not parse, whoever the letter is for."""
    if isinstance(path_or_source, Path):
        try:
            source = path_or_source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise LetterError(f"Không đọc được mẫu thư điện tử {path_or_source}: {error}. "
                              "Cách sửa: kiểm tra đường dẫn trong config.toml và lưu tệp ở dạng UTF-8.") from None
        name, html = str(path_or_source), path_or_source.name.endswith(".html.j2")
    else:
        source, name, html = path_or_source, "tiêu đề thư", False
    return _compile_text(source, html, name), name, source


def _line_of(source: str, lineno: int | None) -> str:
    lines = source.split("\n")
    if lineno is None or not 1 <= lineno <= len(lines):
        return "(không xác định được dòng)"
    return f"dòng {lineno}: «{_snippet(lines[lineno - 1])}»"


# --- DOCX templates ------------------------------------------------------------------------

IssueKind = Literal["syntax", "undefined", "split_tag", "runtime", "limit", "empty", "no_recipient", "font"]


@dataclass(frozen=True)
class TemplateIssue:
    kind: IssueKind
    message: str  # Vietnamese: what is wrong and how to fix it
    location: str  # e.g. "đoạn 12: «…»", "bảng 1, ô 2: «…»", "đầu trang, đoạn 1: «…»"

    @property
    def blocking(self) -> bool:
        """Whether letters cannot be made; an empty value only leaves a gap in some of them."""
        return self.kind != "empty"


_PARAGRAPH = qn("w:p")
_TEXT = qn("w:t")
_MARK = "outreach-p"  # numbers paragraphs so a Jinja line can be traced back to one
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same letter gives the same bytes, so its sha256 is stable
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass
class _Part:
    """One XML part that docxtpl renders: the body of document.xml, a header or a footer."""

    member: str  # zip member name
    label: str  # prefix of locations: "" (body), "đầu trang", "chân trang"
    root: Any  # the original XML element: the w:body, or the w:hdr/w:ftr root
    head: str = ""  # document.xml around the body (empty for headers and footers)
    tail: str = ""
    source: str = ""  # what Jinja compiles: docxtpl-patched XML, one line per paragraph
    paragraphs: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (location, text)

    def jinja_source(self, helper: DocxTemplate, marked: bool) -> str:
        root = self.root
        if marked:
            root = _copy(root)
            for index, paragraph in enumerate(root.iter(_PARAGRAPH)):
                paragraph.set(_MARK, str(index))
        patched = helper.patch_xml(etree.tostring(root, encoding="unicode"))
        return re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)  # as DocxTemplate.render_xml_part, for line numbers

    def locate(self, helper: DocxTemplate, lineno: int | None) -> str:
        """The paragraph a Jinja line number points at, with the template text of that line."""
        lines = self.jinja_source(helper, marked=True).split("\n")
        index = min(max((lineno or 1) - 1, 0), len(lines) - 1)
        mark = next((m for line in lines[index:] for m in re.findall(rf'{_MARK}="(\d+)"', line)[:1]), None)
        where = self.paragraphs[int(mark)][0] if mark is not None else (self.label or "cuối văn bản")
        return f"{where}: «{_snippet(re.sub(r'<[^>]+>', '', lines[index]))}»"


def _copy(element: Any) -> Any:
    return etree.fromstring(etree.tostring(element))


def _paragraph_text(paragraph: Any) -> str:
    return "".join(node.text or "" for node in paragraph.iter(_TEXT))


def _snippet(text: str, at: int | None = None, width: int = 80) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    if at is None:
        found = re.search(r"\{[{%#]", text)
        at = found.start() if found else 0
    start = max(0, min(at - width // 3, len(text) - width))
    return ("…" if start else "") + text[start:start + width] + ("…" if start + width < len(text) else "")


def _locations(root: Any, label: str) -> list[tuple[str, str]]:
    """(location, text) of every paragraph, in document order: "đoạn N" or "bảng T, ô C"."""
    cells = {}  # keyed by element: the dict keeps lxml's proxy objects, and so their identity, alive
    for table_number, table in enumerate(root.iter(qn("w:tbl")), start=1):
        for number, cell in enumerate(table.iter(qn("w:tc")), start=1):
            cells.setdefault(cell, f"bảng {table_number}, ô {number}")
    result = []
    for number, paragraph in enumerate(root.iter(_PARAGRAPH), start=1):
        cell = next(paragraph.iterancestors(qn("w:tc")), None)
        where = cells[cell] if cell is not None else f"đoạn {number}"
        result.append((f"{label}, {where}" if label else where, _paragraph_text(paragraph)))
    return result


class _TemplateSource:
    """A DOCX template read and pre-processed once: its parts as docxtpl would feed them to Jinja."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            data = path.read_bytes()
            document = Document(io.BytesIO(data))
        except OSError as error:
            raise LetterError(f"Không đọc được mẫu {path}: {error.strerror}. Cách sửa: kiểm tra đường dẫn "
                              "trong config.toml.") from None
        except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError):
            raise LetterError(f"{path} không phải tệp Word (.docx) hợp lệ. Cách sửa: mở bằng Word và lưu lại "
                              "dạng «Word Document (*.docx)».") from None
        self.data = data
        self.helper = DocxTemplate(io.BytesIO(data))
        body_part = document.part
        whole = etree.tostring(document.element, encoding="unicode")
        start, end = whole.index("<w:body"), whole.rindex("</w:body>") + len("</w:body>")
        self.parts = [_Part(body_part.partname.lstrip("/"), "", document.element.body,
                            head=_DECLARATION + whole[:start], tail=whole[end:])]
        labels = {RELATIONSHIP_TYPE.HEADER: "đầu trang", RELATIONSHIP_TYPE.FOOTER: "chân trang"}
        for relationship in body_part.rels.values():
            if relationship.reltype in labels and not relationship.is_external:
                part = relationship.target_part
                self.parts.append(_Part(part.partname.lstrip("/"), labels[relationship.reltype],
                                        etree.fromstring(part.blob)))
        for part in self.parts:
            part.paragraphs = _locations(part.root, part.label)
            part.source = part.jinja_source(self.helper, marked=False)

    def compile(self, environment: Sandbox) -> tuple[dict[str, Template], list[TemplateIssue]]:
        """The compiled parts, and the problems: broken tags first, then syntax errors not caused by them."""
        issues = [issue for part in self.parts for where, text in part.paragraphs for issue in _split_tags(where, text)]
        broken = {issue.location for issue in issues}
        templates = {}
        for part in self.parts:
            try:
                templates[part.member] = environment.from_string(part.source)
            except TemplateSyntaxError as error:
                issue = TemplateIssue("syntax", _syntax_hint(error), part.locate(self.helper, error.lineno))
                if issue.location not in broken:
                    issues.append(issue)
        return templates, issues


_SPACED_BRACE = re.compile(r"\{\s+[{%#]|[}%#]\s+\}")
_DELIMITER = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")
_CLOSER = {"{{": "}}", "{%": "%}", "{#": "#}"}
_QUOTE_LIKE = "«»„‟‚‛‹›′″＂＇"


def _split_tags(where: str, text: str) -> Iterator[TemplateIssue]:
    """Tags Word has broken beyond docxtpl's repair (docxtpl rejoins runs and straightens “ ” ‘ ’ itself)."""
    for match in _SPACED_BRACE.finditer(text):
        yield TemplateIssue("split_tag", f"Thẻ bị tách bởi dấu cách «{match.group()}»: Jinja không nhận ra thẻ và "
                            "sẽ in nguyên văn. Cách sửa: xóa dấu cách, viết liền «{{», «{%», «}}», «%}».",
                            f"{where}: «{_snippet(text, match.start())}»")
    opened: re.Match[str] | None = None
    for match in _DELIMITER.finditer(text):
        token = match.group()
        if token in _CLOSER:
            if opened is not None:
                break  # reported below as never closed
            opened = match
        elif opened is not None and token == _CLOSER[opened.group()]:
            opened = None
        elif opened is None:
            yield TemplateIssue("split_tag", f"Có «{token}» nhưng không có thẻ mở tương ứng trong cùng đoạn. "
                                "Cách sửa: gõ lại cả thẻ trên một dòng, vd. «{{ recipient.name }}».",
                                f"{where}: «{_snippet(text, match.start())}»")
    if opened is not None:
        yield TemplateIssue("split_tag", f"Thẻ «{opened.group()}» mở nhưng không đóng trong cùng đoạn (có thể bị "
                            "xuống dòng giữa thẻ). Cách sửa: gõ lại cả thẻ trong một đoạn, có đủ «"
                            f"{_CLOSER[opened.group()]}».", f"{where}: «{_snippet(text, opened.start())}»")


def _syntax_hint(error: TemplateSyntaxError) -> str:
    if isinstance(error, UnsupportedTag):
        return error.hint
    message = error.message or str(error)
    quote = re.match(r"unexpected char '(.)'", message)
    if quote and quote.group(1) in _QUOTE_LIKE:
        return (f"Lỗi cú pháp: dấu «{quote.group(1)}» trong thẻ. Cách sửa: dùng dấu nháy thẳng \" hoặc ' "
                "(tắt tự động đổi dấu nháy trong Word hoặc gõ lại).")
    if "unexpected end of template" in message.lower():
        return (f"Lỗi cú pháp: thiếu thẻ đóng ({message}). Cách sửa: thêm thẻ đóng tương ứng, "
                "vd. «{%p endif %}» sau «{%p if … %}», «{%p endfor %}» sau «{%p for … %}».")
    if "unknown tag" in message.lower():
        return (f"Lỗi cú pháp: thẻ không hợp lệ hoặc thẻ đóng không có thẻ mở ({message}). Cách sửa: kiểm tra "
                "chính tả và cặp thẻ mở/đóng.")
    return f"Lỗi cú pháp: {message}. Cách sửa: kiểm tra thẻ ở vị trí này (dấu ngoặc, dấu nháy, tên biến)."


class LetterTemplate:
    """A DOCX template loaded and compiled once, then rendered for each recipient."""

    # Letters over a limit, with none made yet, before the template itself is taken as the cause:
    # the next letters then fail at once instead of each spending the limit (10,000 × 2 s).
    RUNAWAY_LETTERS = 3

    def __init__(self, path: Path) -> None:
        self.path = path
        self._made = False
        self._over_limit: list[TemplateRunError] = []
        self._source = _TemplateSource(path)
        self._templates, issues = self._source.compile(environment(True))
        self._unchanged = self._zip_without({part.member for part in self._source.parts})
        if issues:
            details = "; ".join(f"{issue.location} — {issue.message}" for issue in issues[:5])
            more = f" (và {len(issues) - 5} lỗi khác)" if len(issues) > 5 else ""
            raise LetterError(f"Mẫu {path} có lỗi: {details}{more}. Chạy 'outreach template check {path}' "
                              "để xem đầy đủ.")

    def render(self, context: LetterContext | Mapping[str, Any]) -> bytes:
        variables = _variables(context)
        if len(self._over_limit) >= self.RUNAWAY_LETTERS:
            first = self._over_limit[0]
            raise TemplateRunError(_who(variables), str(self.path), first.failure, first.location,
                                   f" ở {len(self._over_limit)} thư đầu tiên, nên thư này không được thử")
        try:
            data = self._render(variables)
        except TemplateRunError as error:
            if error.failure.kind == "limit" and not self._made:
                self._over_limit.append(error)
            raise
        self._made = True
        return data

    def _render(self, variables: Mapping[str, Any]) -> bytes:
        budget = Budget(LETTER_LIMITS)  # one for all the parts: the limits are the letter's
        rendered = {}
        with placing() as pictures:
            for part in self._source.parts:
                pictures.part = part.member
                rendered[part.member] = self._render_part(part, variables, budget)
        added = pictures.members(self._source.data)
        # Only a letter with pictures pays for its own copy of the template's other parts.
        unchanged = self._zip_without({*rendered, *added}) if added else self._unchanged
        buffer = io.BytesIO(unchanged)
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as target:
            for member, data in {**rendered, **added}.items():
                target.writestr(zipfile.ZipInfo(member, date_time=_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def _render_part(self, part: _Part, variables: Mapping[str, Any], budget: Budget) -> bytes:
        helper = self._source.helper
        xml = _render(self._templates[part.member], variables, budget, str(self.path), part.source,
                      functools.partial(part.locate, helper))
        # The same clean-up DocxTemplate.render_xml_part and render() apply after Jinja.
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if any(char in xml for char in "\n\t\a\f"):  # only values bring these: skip the costly pass
            xml = helper.resolve_listing(xml)
        if part.head:
            tree = helper.fix_tables(xml)
            helper.docx_ids_index = 1000
            helper.fix_docpr_ids(tree)
            xml = part.head + etree.tostring(tree, encoding="unicode") + part.tail
        else:
            xml = _DECLARATION + xml
        return xml.encode("utf-8")

    def _zip_without(self, members: set[str]) -> bytes:
        """The template's zip minus the rendered parts, compressed once; each letter only appends its parts."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(self._source.data)) as source, \
                zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename not in members:
                    target.writestr(zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME), source.read(info.filename),
                                    zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def render_to(self, context: LetterContext | Mapping[str, Any], path: Path) -> None:
        data = self.render(context)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)


# --- template check ------------------------------------------------------------------------

def check_template(path: Path, provided: Iterable[str], samples: Iterable[LetterContext] = (),
                   letter: bool = True) -> list[TemplateIssue]:
    """Problems of a DOCX template, each with where it is; an empty list means it can be used.

    ``provided`` names the variables letters will have: top-level names (``so_ky_hieu``) or dotted
    ones (``recipient.name``); keys of mappings are checked only against dotted names, e.g.
    ``recipient.extra.Số lao động`` for a column of the recipient lists. Attributes of the context
    objects (``recipient.…``, ``agency.…``) are checked against the objects' real fields.
    The template is then filled in for each of ``samples``, as ``build`` would: what fails there
    (a runtime error, a limit, a value some recipient lacks) is reported with where it is.
    A ``letter`` (not an appendix) must name its recipient somewhere, and every template is set only
    in fonts a letter can be made with (:mod:`.fonts`).
    """
    jinja = environment(True)
    source = _TemplateSource(path)
    templates, issues = source.compile(jinja)
    used_fonts = template_fonts(source.data, [(part.root, part.paragraphs) for part in source.parts])
    fonts = [TemplateIssue("font", f"{what}. Cách sửa: {fix}.", where) for what, fix, where in font_problems(used_fonts)]
    if len(templates) < len(source.parts):
        return issues + fonts  # names cannot be read reliably from a template that does not parse
    compiles = not issues
    provided = set(provided)
    top_level = {name.split(".", 1)[0] for name in provided}
    paragraphs = [item for part in source.parts for item in part.paragraphs]
    reported = set()
    names_recipient = False
    for part in source.parts:
        tree = jinja.parse(part.source)
        used = meta.find_undeclared_variables(tree)
        names_recipient = names_recipient or "recipient" in used
        for name in sorted(used - top_level - reported):
            reported.add(name)
            issues.append(TemplateIssue("undefined", f"Biến «{name}» không có trong dữ liệu thư. Cách sửa: sửa tên "
                                        f"biến; các biến dùng được: {_field_list(provided, top=True)}.",
                                        _where_used(name, paragraphs)))
        for chain in _attribute_chains(tree):
            if chain[0] not in used or chain[0] not in top_level:
                continue
            problem = _attribute_problem(chain, provided)
            if problem and problem[0] not in reported:
                reported.add(problem[0])
                issues.append(TemplateIssue("undefined", problem[1], _where_used(problem[0], paragraphs)))
    if letter and not names_recipient:
        issues.append(TemplateIssue(
            "no_recipient", "Mẫu không có trường nào của người nhận: mọi thư sẽ giống hệt nhau, không ghi tên người "
            "nhận, và bước kiểm tra PDF sẽ dừng mọi thư vì không thấy tên người nhận. Cách sửa: thêm ít nhất dòng "
            "«Kính gửi: {{ recipient.salutation }}»; các trường của người nhận: "
            f"{_field_list(provided, root='recipient')}.", "cả văn bản"))
    if compiles:
        issues += _sample_issues(LetterTemplate(path), samples, known_undefined=bool(reported))
    return issues + fonts


# What each context object is, in the words of a message about its fields.
_ROOT_LABELS = {"recipient": "người nhận", "agency": "cơ quan", "signer": "người ký", "department": "phòng gửi thư",
                "campaign": "chiến dịch", "payment": "khoản đóng BHXH tự nguyện"}


def _label(description: str) -> str:
    """The field's name from its documentation: "Địa chỉ (xuống dòng …)" → "Địa chỉ"."""
    cuts = [at for at in (description.find(mark) for mark in (" (", ", vd.", " vd.", " — ", ": ")) if at > 0]
    return description[:min(cuts)] if cuts else description


def _tag(name: str) -> str:
    root, _, rest = name.partition(".")
    if rest.startswith("extra."):
        return f"{{{{ {root}.extra['{rest[6:]}'] }}}}"
    return f"{{{{ {name} }}}}"


def _field_list(provided: Iterable[str], root: str | None = None, top: bool = False) -> str:
    """The fields a template can use, in Vietnamese, each with the tag to copy: «Địa chỉ {{ recipient.address }}».

    ``root``: the fields of one object; ``top``: one entry per top-level name."""
    entries: dict[str, str] = {}
    for name in sorted(provided):
        head = name.split(".", 1)[0]
        if top and "." in name:
            if head in _ROOT_LABELS:
                entries.setdefault(head, f"{head} ({_ROOT_LABELS[head]}: {{{{ {head}.… }}}})")
            continue
        if root is not None and head != root:
            continue
        if name == "recipient.extra":
            continue  # its columns are listed one by one
        if name.startswith("recipient.extra."):
            entries[name] = f"cột «{name[16:]}» của danh sách {_tag(name)}"
        elif name in TEMPLATE_VARIABLES:
            entries[name] = f"{_label(TEMPLATE_VARIABLES[name])} {_tag(name)}"
    return "; ".join(entries.values()) or "(không có)"


def _sample_issues(template: LetterTemplate, samples: Iterable[LetterContext],
                   known_undefined: bool) -> list[TemplateIssue]:
    """What filling in ``template`` for each sample finds: one issue per place and reason."""
    failures: dict[tuple[str, str], list[tuple[TemplateFailure, str]]] = {}
    tried = 0
    for context in samples:
        tried += 1
        try:
            template.render(context)
        except TemplateRunError as error:
            if not (known_undefined and error.failure.kind == "undefined"):  # already reported by name
                failures.setdefault((error.location, error.failure.what), []).append(
                    (error.failure, _who(_variables(context))))
    issues = []
    for (location, what), found in failures.items():
        failure, who = found[0]
        issues.append(TemplateIssue(failure.kind, f"{what} — gặp ở {len(found)}/{tried} thư thử, vd. thư cho {who}. "
                                    f"Cách sửa: {failure.fix}.", location))
    return issues


_SAMPLE_RECIPIENTS = {
    "employers": Recipient(
        kind="employers", code="BW03196", name="Công ty TNHH Thương mại Ví Dụ",
        emails=("ketoan@vidu.example.vn", "nhansu@vidu.example.vn"),
        address="12 Trần Phú, Phường Lộc Thọ\nThành phố Nha Trang, tỉnh Khánh Hòa", district="Thành phố Nha Trang",
        tax_code="4201234566", phone="+842583822123", contact="Nguyễn Thị Lan"),
    "collection_agents": Recipient(
        kind="collection_agents", code="DL56001", name="Đại lý thu BHXH, BHYT xã Ví Dụ",
        emails=("dailythu.vidu@vidu.example.vn",), address="Thôn Phú Bình, Xã Diên Phú\nHuyện Diên Khánh, tỉnh Khánh Hòa",
        district="Huyện Diên Khánh", phone="+84905123456", contact="Trần Văn Bình"),
    "communes": Recipient(
        kind="communes", code="22327", name="Phường Vĩnh Hòa", emails=("ubnd.vidu@khanhhoa.example.vn",),
        address="Trụ sở UBND Phường Vĩnh Hòa\nThành phố Nha Trang, tỉnh Khánh Hòa", district="Thành phố Nha Trang",
        commune_code="22327"),
}


def sample_recipient(kind: str, extra_columns: Iterable[str] = ()) -> Recipient:
    """A made-up recipient of ``kind`` with every field filled, as a list row would have it."""
    extra = MappingProxyType({column: f"(giá trị mẫu của cột «{column}»)" for column in extra_columns})
    return dataclasses.replace(_SAMPLE_RECIPIENTS[kind], extra=extra)


def check_empty_values(path: Path, recipients: Sequence[Recipient]) -> list[TemplateIssue]:
    """Recipient values the template prints that some recipients do not have: a gap in their letters.

    Values the template tests first (``{% if recipient.tax_code %}``, ``|default``) are left out.
    """
    source = _TemplateSource(path)
    try:
        trees = [environment(True).parse(part.source) for part in source.parts]
    except TemplateSyntaxError:
        return []  # check_template reports it
    paragraphs = [item for part in source.parts for item in part.paragraphs]
    used: dict[str, list[str]] = {}
    guarded = set()
    for tree in trees:
        used.update((".".join(chain), chain) for chain in map(_recipient_value, _attribute_chains(tree)) if chain)
        for test in _tests(tree):
            guarded.update(".".join(chain) for chain in map(_recipient_value, _attribute_chains(test)) if chain)
    notes = []
    for name, chain in sorted(used.items()):
        lacking = [r for r in recipients if not _recipient_has(r, chain)]
        if name in guarded or not lacking or (len(chain) == 3 and not any(chain[2] in r.extra for r in recipients)):
            continue  # a column no list has is reported by check_template
        example = lacking[0]
        notes.append(TemplateIssue(
            "empty", f"«{name}» trống ở {len(lacking)}/{len(recipients)} người nhận (vd. «{example.name}», "
            f"{example.source_file} dòng {example.source_row}): thư của họ để trống chỗ này. Cách sửa: bổ sung dữ liệu "
            f"trong danh sách, hoặc chỉ in khi có giá trị: «{{% if {name} %}}…{{% endif %}}».",
            _where_used(name, paragraphs)))
    return notes


def _recipient_value(chain: list[str]) -> list[str]:
    """``recipient.name.upper`` → [recipient, name]; ``recipient.extra.Cột`` → [recipient, extra, Cột]."""
    if chain[0] != "recipient" or len(chain) < 2 or chain[1] not in _attributes(Recipient):
        return []
    if chain[1] in _mapping_fields(Recipient):
        return chain[:3] if len(chain) >= 3 else []
    return chain[:2]


def _recipient_has(recipient: Recipient, chain: list[str]) -> bool:
    value = getattr(recipient, chain[1])
    return bool(value.get(chain[2]) if len(chain) == 3 else value)


def _tests(tree: nodes.Template) -> Iterator[nodes.Node]:
    """What a template tests before printing: if/elif conditions, ``… if … else …``, ``|default``."""
    for node in tree.find_all((nodes.If, nodes.CondExpr)):
        yield node.test
    for node in tree.find_all(nodes.Filter):
        if node.name in ("default", "d") and node.node is not None:
            yield node.node


def _attribute_chains(tree: nodes.Node) -> Iterator[list[str]]:
    """``recipient.extra['Số LĐ']`` → ["recipient", "extra", "Số LĐ"], for every attribute lookup."""
    for node in [tree, *tree.find_all((nodes.Getattr, nodes.Getitem))]:
        chain = []
        while isinstance(node, (nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Getattr):
                chain.append(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                chain.append(node.arg.value)
            else:
                break
            node = node.node
        else:
            if isinstance(node, nodes.Name):
                yield [node.name, *reversed(chain)]


def _attribute_problem(chain: list[str], provided: set[str]) -> tuple[str, str] | None:
    kind = _CONTEXT_TYPES.get(chain[0])
    if kind is None or len(chain) < 2:
        return None
    root, attribute = chain[0], chain[1]
    attributes = _attributes(kind)
    if attribute not in attributes:
        return (f"{root}.{attribute}", f"«{root}.{attribute}»: {_ROOT_LABELS.get(root, root)} không có thuộc tính "
                f"«{attribute}». Cách sửa: dùng một trong: {_field_list(provided, root=root)}.")
    if len(chain) >= 3 and attribute in _mapping_fields(kind):
        name = f"{root}.{attribute}.{chain[2]}"
        if name not in provided:
            columns = [f"«{p.split('.', 2)[2]}»" for p in sorted(provided) if p.startswith(f"{root}.{attribute}.")]
            return (name, f"«{name}»: không có cột «{chain[2]}» trong danh sách. Cách sửa: thêm cột này vào danh sách "
                    f"hoặc dùng một cột có sẵn: {', '.join(columns) or '(danh sách không có cột thêm nào)'}.")
    return None


def _context_types() -> dict[str, type]:
    types = {}
    for name, hint in typing.get_type_hints(LetterContext).items():
        for candidate in (hint, *typing.get_args(hint)):
            if dataclasses.is_dataclass(candidate):
                types[name] = candidate
    return types


_CONTEXT_TYPES = _context_types()


def _attributes(kind: type) -> set[str]:
    properties = {name for klass in kind.__mro__ for name, value in vars(klass).items() if isinstance(value, property)}
    return ({field.name for field in fields(kind)} | properties) - hidden_from_templates(kind)


def _mapping_fields(kind: type) -> set[str]:
    return {name for name, hint in typing.get_type_hints(kind).items()
            if typing.get_origin(hint) in (dict, collections.abc.Mapping)}


def _where_used(name: str, paragraphs: list[tuple[str, str]]) -> str:
    pieces = [re.escape(piece) for piece in name.split(".")]
    pattern = re.compile(r"\b" + r"""\s*(?:\.|\[\s*['"])\s*""".join(pieces))
    for where, text in paragraphs:
        found = pattern.search(text)
        if found:
            return f"{where}: «{_snippet(text, found.start())}»"
    return "(không xác định được vị trí)"
