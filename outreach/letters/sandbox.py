"""The Jinja environment templates run in, and what a failing template means in Vietnamese.

Every letter and e-mail is rendered by :func:`render`. A template that fails while it fills in
a letter (a missing value, a division by zero, a value of the wrong type, a recursion without
end, an operation the sandbox refuses) stops with a :class:`TemplateFailure` that says what
happened, at which line of the template, and how to fix it; the callers add which template and
which recipient. Tags that would read other templates are refused when a template is compiled.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import functools
import re
import unicodedata
from typing import Any, Iterator, Literal, Mapping

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import FilterArgumentError, SecurityError
from jinja2.ext import Extension
from jinja2.lexer import TokenStream
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

FailureKind = Literal["runtime", "undefined"]


class TemplateFailure(Exception):
    """A template that stopped: ``what`` went wrong and the ``fix``, in Vietnamese, at ``lineno``."""

    def __init__(self, kind: FailureKind, what: str, fix: str, lineno: int | None) -> None:
        super().__init__(what)
        self.kind, self.what, self.fix, self.lineno = kind, what, fix, lineno


# --- the environment -----------------------------------------------------------------------

class _MissingValue(UndefinedError):
    """A StrictUndefined failure that remembers what was looked up, to name it in Vietnamese."""

    def __init__(self, message: str, obj: Any, name: Any, unsafe: bool) -> None:
        super().__init__(message)
        self.obj, self.name, self.unsafe = obj, name, unsafe


class _Strict(StrictUndefined):
    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                 exc: type[TemplateError] = UndefinedError) -> None:
        super().__init__(hint, obj, name, functools.partial(_MissingValue, obj=obj, name=name,
                                                            unsafe=exc is SecurityError))


class _SingleFile(Extension):
    """``include``/``import``/``extends`` would read other templates: a letter is one file."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Any]:
        after_block_begin = False
        for token in stream:
            if after_block_begin and token.type == "name" and token.value in ("include", "import", "from", "extends"):
                raise UnsupportedTag(token.value, token.lineno)
            after_block_begin = token.type == "block_begin"
            yield token


class UnsupportedTag(TemplateSyntaxError):
    def __init__(self, tag: str, lineno: int) -> None:
        super().__init__(f"thẻ «{{% {tag} %}}» không dùng được trong mẫu thư", lineno)
        self.tag = tag

    @property
    def hint(self) -> str:
        return (f"Mẫu không được chèn hay kế thừa mẫu khác («{{% {self.tag} … %}}»). Cách sửa: chép nội dung cần "
                "dùng vào chính mẫu này, hoặc dùng «{% macro %}» viết ngay trong mẫu.")


_PLAIN_VALUES = (str, int, float, dt.date, tuple, list, collections.abc.Mapping)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Sandbox(ImmutableSandboxedEnvironment):
    def __init__(self, **options: Any) -> None:
        super().__init__(extensions=[_SingleFile], **options)

    def is_safe_callable(self, obj: Any) -> bool:
        # Only methods of plain values (name.upper()): a Path in the context must not become a file reader.
        owner = getattr(obj, "__self__", None)
        return super().is_safe_callable(obj) and (owner is None or isinstance(owner, _PLAIN_VALUES))


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", value))
    return value


@functools.cache
def environment(autoescape: bool) -> Sandbox:
    return Sandbox(undefined=_Strict, autoescape=autoescape, finalize=_finalize, keep_trailing_newline=True)


# --- rendering -----------------------------------------------------------------------------

def render(template: Template, variables: Mapping[str, Any], source: str) -> str:
    """``template`` (compiled from ``source``) filled with ``variables``."""
    try:
        return template.render(variables)
    except Exception as error:  # any failure inside a template is that template's: say which and where
        raise _failure(error, source) from None


def _template_line(error: BaseException) -> int | None:
    """The template line the failure happened on: Jinja rewrites template frames to point at it."""
    line, trace = None, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


_UNSAFE_FIX = ("chỉ dùng các biến có trong danh sách của 'outreach template check' và các bộ lọc thông thường; "
               "không dùng thuộc tính bắt đầu bằng «_» hay phương thức của tệp, đường dẫn, đối tượng hệ thống")


def _failure(error: Exception, source: str) -> TemplateFailure:
    line = _template_line(error)
    if isinstance(error, _MissingValue):
        name = _missing_name(error, source, line)
        if error.unsafe:
            return TemplateFailure("runtime", f"«{name}» là thao tác không được phép trong mẫu", _UNSAFE_FIX, line)
        return TemplateFailure("undefined", f"dùng biến «{name}» nhưng biến này không có giá trị",
                               "sửa tên biến trong mẫu (chạy 'outreach template check' để xem các biến dùng được) "
                               "hoặc bổ sung dữ liệu còn thiếu trong danh sách nhận", line)
    what, fix = _explanation(error)
    return TemplateFailure("runtime", what, fix, line)


def _explanation(error: Exception) -> tuple[str, str]:
    if isinstance(error, SecurityError):
        return "mẫu gọi một thao tác không được phép", _UNSAFE_FIX
    if isinstance(error, ZeroDivisionError):
        return ("phép chia cho 0", "kiểm tra số chia; đặt phép chia trong «{% if số_chia %}…{% endif %}» để bỏ qua "
                "khi số chia bằng 0")
    if isinstance(error, RecursionError):
        return ("macro hoặc vòng lặp đệ quy gọi chính nó mãi không dừng",
                "thêm điều kiện dừng cho macro (hoặc cho «loop(…)» của vòng lặp recursive), hoặc bỏ lời gọi đệ quy")
    if isinstance(error, UnicodeError):
        return ("giá trị có ký tự không chuyển mã được (thư luôn dùng Unicode)",
                "bỏ «.encode(…)», «.decode(…)» và ký tự lạ trong mẫu")
    if isinstance(error, FilterArgumentError):
        return "bộ lọc được dùng với tham số không hợp lệ", "sửa tham số của bộ lọc theo hướng dẫn của Jinja"
    if isinstance(error, TypeError):
        return ("phép tính hoặc bộ lọc gặp giá trị sai kiểu (vd. cộng chữ với số, tham số bộ lọc không đúng kiểu)",
                "đổi kiểu trước khi tính (vd. «giá_trị|int», «giá_trị|string») và kiểm tra tham số của bộ lọc")
    if isinstance(error, (ValueError, ArithmeticError, LookupError)):
        return ("giá trị không hợp lệ cho phép tính, chỉ số hoặc định dạng",
                "kiểm tra phép tính, chỉ số («[…]») và chuỗi định dạng ở chỗ này")
    return (f"mẫu bị lỗi khi điền dữ liệu ({type(error).__name__}: {error})",
            "sửa thẻ ở chỗ này rồi chạy lại 'outreach template check'")


def _missing_name(error: _MissingValue, source: str, line: int | None) -> str:
    """``recipient.ten_sai`` as the template wrote it, found among the template's own expressions.

    Not found by the failing value: equal values are often the same object (every empty string
    is), so a value cannot tell which variable it came from.
    """
    if error.obj is missing:
        return str(error.name)
    tree = environment(False).parse(source)  # it compiled, so it parses
    lookups = [node for node in tree.find_all((nodes.Getattr, nodes.Getitem)) if _key(node) == error.name]
    lookups.sort(key=lambda node: node.lineno != line)  # stable: the first one on the failing line
    if lookups:
        return _expression(lookups[0])
    return f"….{error.name}" if isinstance(error.name, str) else f"…[{error.name!r}]"


def _key(node: nodes.Getattr | nodes.Getitem) -> Any:
    if isinstance(node, nodes.Getattr):
        return node.attr
    return node.arg.value if isinstance(node.arg, nodes.Const) else missing


def _expression(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, (nodes.Getattr, nodes.Getitem)):
        key = _key(node)
        return _expression(node.node) + (f".{key}" if isinstance(key, str) else f"[{key!r}]")
    return "(…)"
