"""Rendering letters safely and fast: :class:`LetterTemplate` pre-processes a DOCX template once
(docxtpl's tag repair, Jinja compile) and then renders letters in a few milliseconds each, in a
sandbox bounded in time and size (:mod:`.sandbox`), with every value escaped for XML, and with a
Vietnamese :class:`LetterError` naming the place in the template instead of an empty gap when a
value is missing, a traceback when the template fails, or a hang when it runs away. The e-mail's
subject and bodies are text templates rendered in the same sandbox.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import Template, TemplateSyntaxError
from lxml import etree

from ..errors import UserError
from ..recipients import Recipient
from . import sandbox
from .context import LetterContext
from .pictures import placing
from .sandbox import (
    LETTER_LIMITS,
    MESSAGE_LIMITS,
    Budget,
    Sandbox,
    TemplateFailure,
    UnsupportedTag,
    environment,
)


class LetterError(UserError):
    """A template that cannot make a correct letter; the message says where and how to fix it."""


class TemplateRunError(LetterError):
    """A template that failed while filling in one letter: the failure, and where it is in the template."""

    def __init__(self, who: str, template: str, failure: TemplateFailure, location: str, note: str = "") -> None:
        super().__init__(f"Không tạo được thư cho {who}: mẫu {template}, {location} — {failure.what}{note}. "
                         f"Cách sửa: {failure.fix}.")
        self.failure, self.location = failure, location



# --- rendering ------------------------------------------------------------------------------

def template_variables(context: LetterContext | Mapping[str, Any]) -> Mapping[str, Any]:
    return context.as_template_vars() if isinstance(context, LetterContext) else context


def _render(template: Template, variables: Mapping[str, Any], budget: Budget, name: str, source: str,
            locate: Callable[[int | None], str]) -> str:
    """``template`` (compiled from the Jinja ``source``) filled in; ``name`` and ``locate`` say where it failed."""
    try:
        return sandbox.render(template, variables, source, budget)
    except TemplateFailure as failure:
        raise TemplateRunError(recipient_label(variables), name, failure, locate(failure.lineno)) from None


def recipient_label(variables: Mapping[str, Any]) -> str:
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


_JINJA_TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.S)
_HTML_SHELL = """<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>Công văn số {{{{ so_ky_hieu }}}}</title></head>
<body style="margin:0;padding:16px;background:#ffffff;">
<div style="max-width:680px;font-family:'Times New Roman',Times,serif;font-size:16px;line-height:1.5;color:#000000;">
{body}
</div>
</body>
</html>
"""


def html_email_template(text_source: str) -> str:
    """The HTML body template saying what the plain-text template ``text_source`` says: its paragraphs
    as ``<p>``, its lines as ``<br>``, its tags as they are (the HTML render escapes their values), so a
    staff member edits one text and the two parts of the message never disagree."""
    escaped = "".join(piece if _JINJA_TAG.fullmatch(piece) else html.escape(piece, quote=False)
                      for piece in _JINJA_TAG.split(text_source.replace("\r\n", "\n")))
    paragraphs = [p.strip("\n") for p in escaped.split("\n\n") if p.strip()]
    body = "\n".join('<p style="margin:0 0 12px 0;">' + p.replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return _HTML_SHELL.format(body=body)


def render_text_template(path_or_source: Path | str, context: LetterContext | Mapping[str, Any],
                         name: str = "tiêu đề thư") -> str:
    """An e-mail subject or body; a file whose name ends in ``.html.j2`` is HTML and its values are escaped.
    ``name``: what messages call a template given as text."""
    template, name, source = text_template(path_or_source, name)
    return _render(template, template_variables(context), Budget(MESSAGE_LIMITS), name, source,
                   functools.partial(_line_of, source))


def text_template(path_or_source: Path | str, name: str = "tiêu đề thư") -> tuple[Template, str, str]:
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
        source, html = path_or_source, False
    return _compile_text(source, html, name), name, source


def _line_of(source: str, lineno: int | None) -> str:
    lines = source.split("\n")
    if lineno is None or not 1 <= lineno <= len(lines):
        return "(không xác định được dòng)"
    return f"dòng {lineno}: «{snippet(lines[lineno - 1])}»"


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
        return f"{where}: «{snippet(re.sub(r'<[^>]+>', '', lines[index]))}»"


def _copy(element: Any) -> Any:
    return etree.fromstring(etree.tostring(element))


def _paragraph_text(paragraph: Any) -> str:
    return "".join(node.text or "" for node in paragraph.iter(_TEXT))


def first_lines(docx: bytes | Path, count: int) -> list[str]:
    """A document's first ``count`` non-empty paragraphs, spaces collapsed: an appendix's heading."""
    document = Document(io.BytesIO(docx) if isinstance(docx, bytes) else str(docx))
    return [" ".join(p.text.split()) for p in document.paragraphs if p.text.strip()][:count]


def snippet(text: str, at: int | None = None, width: int = 80) -> str:
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


class TemplateSource:
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
                            f"{where}: «{snippet(text, match.start())}»")
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
                                f"{where}: «{snippet(text, match.start())}»")
    if opened is not None:
        yield TemplateIssue("split_tag", f"Thẻ «{opened.group()}» mở nhưng không đóng trong cùng đoạn (có thể bị "
                            "xuống dòng giữa thẻ). Cách sửa: gõ lại cả thẻ trong một đoạn, có đủ «"
                            f"{_CLOSER[opened.group()]}».", f"{where}: «{snippet(text, opened.start())}»")


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
        self._source = TemplateSource(path)
        self._templates, issues = self._source.compile(environment(True))
        self._unchanged = self._zip_without({part.member for part in self._source.parts})
        if issues:
            details = "; ".join(f"{issue.location} — {issue.message}" for issue in issues[:5])
            more = f" (và {len(issues) - 5} lỗi khác)" if len(issues) > 5 else ""
            raise LetterError(f"Mẫu {path} có lỗi: {details}{more}. Chạy 'outreach template check {path}' "
                              "để xem đầy đủ.")

    def render(self, context: LetterContext | Mapping[str, Any]) -> bytes:
        variables = template_variables(context)
        if len(self._over_limit) >= self.RUNAWAY_LETTERS:
            first = self._over_limit[0]
            raise TemplateRunError(recipient_label(variables), str(self.path), first.failure, first.location,
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


