"""The letters stage: what a template can say about one letter, and rendering it safely and fast.

- :func:`build_context` turns config + campaign + recipient + document number into a
  :class:`LetterContext` (Decree 30: number with a leading zero, ký hiệu, date wording).
- :class:`LetterTemplate` pre-processes a DOCX template once (docxtpl's tag repair, Jinja compile)
  and then renders letters in a few milliseconds each, in a sandbox, with every value escaped for
  XML, and with a Vietnamese :class:`LetterError` instead of an empty gap when a value is missing.
- :func:`check_template` reports syntax errors, unknown variables and tags Word has broken, each
  with where it is in the document, for ``outreach template check``.
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
import unicodedata
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Mapping

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing
from lxml import etree

from ..config import Agency, Campaign, Config, Department, Signer
from ..errors import UserError
from ..payment.notice import PaymentNotice, payment_notice
from ..recipients.model import Recipient
from ..recipients.routing import payment_account
from .pictures import placing

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
    "recipient.extra.TEN_COT": "Cột thêm trong danh sách, theo tên cột, vd. recipient.extra['Số lao động']",
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
    "recipient.masked_code": "Mã đã che, để dùng ngoài thư (e-mail): người tham gia chỉ hiện 4 số cuối, vd. ********6789",
    "payment.paid_until": "Người tham gia BHXH tự nguyện: tháng cuối cùng đã đóng, vd. 12/2026",
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

    def as_template_vars(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def build_context(config: Config, campaign: Campaign, recipient: Recipient | None, number: int | None,
                  issued_on: dt.date | None) -> LetterContext:
    """The context of one letter; ``number``/``issued_on`` None make an unsigned draft (blank number, date)."""
    if number is not None and number < 1:
        raise ValueError(f"document numbers start at 1, got {number}")
    ky_hieu = f"{config.agency.abbreviation}-{campaign.drafting_unit}"
    so = BLANK if number is None else f"{number:02d}"
    ngay_thang = blank_date(dt.date.today().year) if issued_on is None else vn_date(issued_on)
    department = (config.department_for(recipient.kind) if recipient is not None
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


# --- Jinja environment ----------------------------------------------------------------------

class _MissingValue(UndefinedError):
    """A StrictUndefined failure that remembers what was looked up, to name it in Vietnamese."""

    def __init__(self, message: str, obj: Any, name: Any) -> None:
        super().__init__(message)
        self.obj, self.name = obj, name


class _Strict(StrictUndefined):
    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                 exc: type[TemplateError] = UndefinedError) -> None:
        super().__init__(hint, obj, name, functools.partial(_MissingValue, obj=obj, name=name))


_PLAIN_VALUES = (str, int, float, dt.date, tuple, list, collections.abc.Mapping)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class _Sandbox(ImmutableSandboxedEnvironment):
    def is_safe_callable(self, obj: Any) -> bool:
        # Only methods of plain values (name.upper()): a Path in the context must not become a file reader.
        owner = getattr(obj, "__self__", None)
        return super().is_safe_callable(obj) and (owner is None or isinstance(owner, _PLAIN_VALUES))


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", value))
    return value


@functools.cache
def _environment(autoescape: bool) -> _Sandbox:
    return _Sandbox(undefined=_Strict, autoescape=autoescape, finalize=_finalize, keep_trailing_newline=True)


def _variables(context: LetterContext | Mapping[str, Any]) -> Mapping[str, Any]:
    return context.as_template_vars() if isinstance(context, LetterContext) else context


def _render(template: Template, variables: Mapping[str, Any], source: str) -> str:
    try:
        return template.render(variables)
    except _MissingValue as error:
        name = _lookup_path(error, variables)
        raise LetterError(
            f"Không tạo được thư cho {_who(variables)}: mẫu {source} dùng biến «{name}» nhưng biến này không có "
            "giá trị. Cách sửa: sửa tên biến trong mẫu (chạy 'outreach template check' để xem các biến dùng được) "
            "hoặc bổ sung dữ liệu còn thiếu trong danh sách nhận."
        ) from None
    except TemplateError as error:
        raise LetterError(f"Không tạo được thư cho {_who(variables)}: mẫu {source} bị lỗi khi điền dữ liệu "
                          f"({error}). Cách sửa: chạy 'outreach template check' và sửa mẫu.") from None


def _who(variables: Mapping[str, Any]) -> str:
    recipient = variables.get("recipient")
    if not isinstance(recipient, Recipient):
        return "bản chung (không theo người nhận)"
    where = f", {recipient.source_file} dòng {recipient.source_row}" if recipient.source_file else ""
    return f"«{recipient.name}» ({recipient.key}{where})"


def _lookup_path(error: _MissingValue, variables: Mapping[str, Any]) -> str:
    """``recipient.ten_sai`` from the object and the name Jinja failed on."""
    if error.obj is missing:
        return str(error.name)
    owner = next((path for path, value in _named_values(variables) if value is error.obj), None)
    suffix = f".{error.name}" if isinstance(error.name, str) else f"[{error.name!r}]"
    return f"{owner}{suffix}" if owner else str(error.name)


def _named_values(variables: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    yield from variables.items()
    for name, value in variables.items():
        if dataclasses.is_dataclass(value):
            for field in fields(value):
                yield f"{name}.{field.name}", getattr(value, field.name)


# --- text templates (e-mail) -----------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _compile_text(source: str, html: bool, name: str) -> Template:
    try:
        return _environment(html).from_string(source)
    except TemplateSyntaxError as error:
        raise LetterError(f"Mẫu {name}, dòng {error.lineno}: lỗi cú pháp — {_syntax_hint(error)}") from None


def render_text_template(path_or_source: Path | str, context: LetterContext | Mapping[str, Any]) -> str:
    """An e-mail subject or body; a file whose name ends in ``.html.j2`` is HTML and its values are escaped."""
    if isinstance(path_or_source, Path):
        try:
            source = path_or_source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise LetterError(f"Không đọc được mẫu thư điện tử {path_or_source}: {error}. "
                              "Cách sửa: kiểm tra đường dẫn trong config.toml và lưu tệp ở dạng UTF-8.") from None
        name, html = str(path_or_source), path_or_source.name.endswith(".html.j2")
    else:
        source, name, html = path_or_source, "tiêu đề thư", False
    return _render(_compile_text(source, html, name), _variables(context), name)


# --- DOCX templates ------------------------------------------------------------------------

IssueKind = Literal["syntax", "undefined", "split_tag"]


@dataclass(frozen=True)
class TemplateIssue:
    kind: IssueKind
    message: str  # Vietnamese: what is wrong and how to fix it
    location: str  # e.g. "đoạn 12: «…»", "bảng 1, ô 2: «…»", "đầu trang, đoạn 1: «…»"


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

    def compile(self, environment: _Sandbox) -> tuple[dict[str, Template], list[TemplateIssue]]:
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

    def __init__(self, path: Path) -> None:
        self.path = path
        self._source = _TemplateSource(path)
        self._templates, issues = self._source.compile(_environment(True))
        self._unchanged = self._zip_without({part.member for part in self._source.parts})
        if issues:
            details = "; ".join(f"{issue.location} — {issue.message}" for issue in issues[:5])
            more = f" (và {len(issues) - 5} lỗi khác)" if len(issues) > 5 else ""
            raise LetterError(f"Mẫu {path} có lỗi: {details}{more}. Chạy 'outreach template check {path}' "
                              "để xem đầy đủ.")

    def render(self, context: LetterContext | Mapping[str, Any]) -> bytes:
        variables = _variables(context)
        rendered = {}
        with placing() as pictures:
            for part in self._source.parts:
                pictures.part = part.member
                rendered[part.member] = self._render_part(part, variables)
        added = pictures.members(self._source.data)
        # Only a letter with pictures pays for its own copy of the template's other parts.
        unchanged = self._zip_without({*rendered, *added}) if added else self._unchanged
        buffer = io.BytesIO(unchanged)
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as target:
            for member, data in {**rendered, **added}.items():
                target.writestr(zipfile.ZipInfo(member, date_time=_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def _render_part(self, part: _Part, variables: Mapping[str, Any]) -> bytes:
        helper = self._source.helper
        xml = _render(self._templates[part.member], variables, str(self.path))
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

def check_template(path: Path, provided: Iterable[str]) -> list[TemplateIssue]:
    """Problems of a DOCX template, each with where it is; an empty list means it can be used.

    ``provided`` names the variables letters will have: top-level names (``so_ky_hieu``) or dotted
    ones (``recipient.name``); keys of mappings are checked only against dotted names, e.g.
    ``recipient.extra.Số lao động`` for a column of the recipient lists. Attributes of the context
    objects (``recipient.…``, ``agency.…``) are checked against the objects' real fields.
    """
    source = _TemplateSource(path)
    templates, issues = source.compile(_environment(True))
    if len(templates) < len(source.parts):
        return issues  # names cannot be read reliably from a template that does not parse
    provided = set(provided)
    top_level = {name.split(".", 1)[0] for name in provided}
    paragraphs = [item for part in source.parts for item in part.paragraphs]
    environment = _environment(True)
    reported = set()
    for part in source.parts:
        tree = environment.parse(part.source)
        used = meta.find_undeclared_variables(tree)
        for name in sorted(used - top_level - reported):
            reported.add(name)
            known = ", ".join(sorted(top_level))
            issues.append(TemplateIssue("undefined", f"Biến «{name}» không có trong dữ liệu thư. Cách sửa: sửa tên "
                                        f"biến; các biến dùng được: {known}.", _where_used(name, paragraphs)))
        for chain in _attribute_chains(tree):
            if chain[0] not in used or chain[0] not in top_level:
                continue
            problem = _attribute_problem(chain, provided)
            if problem and problem[0] not in reported:
                reported.add(problem[0])
                issues.append(TemplateIssue("undefined", problem[1], _where_used(problem[0], paragraphs)))
    return issues


def _attribute_chains(tree: nodes.Template) -> Iterator[list[str]]:
    """``recipient.extra['Số LĐ']`` → ["recipient", "extra", "Số LĐ"], for every attribute lookup."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
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
        return (f"{root}.{attribute}", f"«{root}.{attribute}»: {root} không có thuộc tính «{attribute}». Cách sửa: "
                f"dùng một trong: {', '.join(sorted(attributes))}.")
    if len(chain) >= 3 and attribute in _mapping_fields(kind):
        name = f"{root}.{attribute}.{chain[2]}"
        if name not in provided:
            columns = sorted(p.split(".", 2)[2] for p in provided if p.startswith(f"{root}.{attribute}.")) or ["(không có)"]
            return (name, f"«{name}»: không có cột «{chain[2]}» trong dữ liệu. Cách sửa: thêm cột này vào danh sách "
                    f"hoặc dùng một cột có sẵn: {', '.join(columns)}.")
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
    return {field.name for field in fields(kind)} | properties


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
