"""The Jinja environment templates run in: sandboxed, and bounded in time, steps and size.

Every letter and e-mail is rendered by :func:`render` under a :class:`Budget`: a wall-clock
deadline, a number of steps (loop iterations, calls, filters) and a number of characters. A
template that goes past one of them, or fails in any other way (a division by zero, a value of
the wrong type, a recursion without end, an operation the sandbox refuses), stops with a
:class:`TemplateFailure` that says in Vietnamese what happened, at which line of the template,
and how to fix it; the callers add which template and which recipient.

The limits are checked *inside* the render, in the hooks Jinja gives a sandbox: every loop
iteration (the code generator wraps each ``{% for %}`` iterable), every call, filter, attribute
lookup, intercepted operator, output buffer append and streamed chunk. A timer cannot stop a
render from outside: Python threads cannot be killed, the renders run in the converter's worker
threads where signals (SIGALRM) cannot reach them, and a process per letter would cost more
than the render itself. Operations that can build a huge value in one step (``'x' * 10**9``,
``center(10**9)``, ``10 ** 10 ** 9``, a format width) are measured before they run.
"""

from __future__ import annotations

import collections.abc
import contextvars
import copy
import datetime as dt
import functools
import math
import re
import string
import sys
import time
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Iterator, Literal, Mapping

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import FilterArgumentError, SecurityError
from jinja2.ext import Extension
from jinja2.lexer import TokenStream
from jinja2.runtime import LoopContext
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Namespace, missing

from ..config import Campaign, DistrictOffice, Sender
from ..recipients import Recipient
from ..text import format_day, format_money, format_number, read_day, read_number


@dataclass(frozen=True)
class Limits:
    """What one letter or one e-mail part may cost."""

    seconds: float
    characters: int
    steps: int = 1_000_000  # loop iterations + calls + filters; a real letter takes a few hundred
    depth: int = 100  # calls inside calls: only a macro that calls itself goes this deep


# The sample letter takes about 1 ms of Jinja time and its XML is about 41,000 characters: the
# limits leave room for letters two hundred times longer (a table of thousands of rows), and stop
# a runaway template within two seconds (one for an e-mail part).
LETTER_LIMITS = Limits(seconds=2.0, characters=10_000_000)
MESSAGE_LIMITS = Limits(seconds=1.0, characters=1_000_000)
# Python prints no integer longer than this (int_max_str_digits): a longer one can only fail.
MAX_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300

FailureKind = Literal["runtime", "limit", "undefined"]


class TemplateFailure(Exception):
    """A template that stopped: ``what`` went wrong and the ``fix``, in Vietnamese, at ``lineno``."""

    def __init__(self, kind: FailureKind, what: str, fix: str, lineno: int | None) -> None:
        super().__init__(what)
        self.kind, self.what, self.fix, self.lineno = kind, what, fix, lineno


class _Refusal(Exception):
    """The sandbox stopping a template, with what and the fix in Vietnamese."""

    # Not a TypeError/ValueError/LookupError: Jinja's filters and lookups swallow those.
    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what, self.fix = what, fix


class _LimitExceeded(_Refusal):
    """A letter over one of its limits (time, steps, depth, size)."""


class _BadValue(_Refusal):
    """A formatting filter given what it cannot format."""


def _shown(value: Any) -> str:
    return f"«{value}»" if value != "" else "ô trống"


def money(value: Any) -> str:
    """``{{ x|tien }}``: ``24.800.000 đồng``."""
    return format_money(_read_number(value, "tien"))


def number(value: Any, decimals: int | None = None) -> str:
    """``{{ x|con_so }}``: ``1.234.567``; ``{{ x|con_so(2) }}``: ``1.234.567,00``."""
    if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 10):
        raise _BadValue(f"bộ lọc «con_so» nhận số chữ số thập phân từ 0 đến 10, không nhận {_shown(decimals)}",
                        "viết «|con_so» hoặc «|con_so(2)»")
    return format_number(_read_number(value, "con_so"), decimals)


def day(value: Any) -> str:
    """``{{ x|ngay }}``: ``05/01/2023``."""
    try:
        return format_day(read_day(value))
    except ValueError:
        raise _BadValue(f"bộ lọc «ngay» cần một ngày nhưng giá trị là {_shown(value)}",
                        "trong danh sách ghi ngày dạng 05/01/2023 (hoặc định dạng ô là ngày), hoặc bỏ «|ngay»") from None


def _read_number(value: Any, name: str) -> Decimal:
    try:
        return read_number(value)
    except ValueError:
        raise _BadValue(f"bộ lọc «{name}» cần một số nhưng giá trị là {_shown(value)}",
                        "trong danh sách ghi số dạng 24800000 hoặc 24.800.000 (dấu chấm ngăn hàng nghìn, dấu phẩy "
                        "trước phần thập phân), hoặc bỏ «|" + name + "»") from None


# The Vietnamese formatting filters, by the names templates use.
FORMAT_FILTERS = {"tien": money, "con_so": number, "ngay": day}


_RECURSION_FIX = ("thêm điều kiện dừng cho macro (hoặc cho «loop(…)» của vòng lặp recursive), hoặc bỏ lời gọi "
                  "đệ quy")
_LOOP_FIX = ("xem lại vòng lặp «{% for %}» lồng nhau, vòng lặp trên «range(…)» lớn và macro gọi chính nó "
             "(thêm điều kiện dừng)")


class Budget:
    """The limits of one letter (all its parts) or one e-mail template, counted as it renders."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.steps = 0
        self.written = 0
        self.depth = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _LimitExceeded(f"mẫu chạy quá {self.limits.seconds:g} giây cho một thư", _LOOP_FIX)

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.limits.steps:
            raise _LimitExceeded(f"mẫu thực hiện quá {format_number(self.limits.steps)} bước (vòng lặp, lời gọi macro, "
                                 "bộ lọc) cho một thư", _LOOP_FIX)
        self.tick()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.limits.depth:
            # Stopped well before Python's own recursion limit, whose error takes a traceback of
            # thousands of frames to unwind and rewrite (tens of milliseconds per letter).
            raise _LimitExceeded(f"macro gọi lồng nhau quá {self.limits.depth} tầng (macro hoặc vòng lặp đệ quy "
                                 "gọi chính nó mãi không dừng)", _RECURSION_FIX)

    def leave(self) -> None:
        self.depth -= 1

    def write(self, characters: int) -> None:
        self.written += characters
        if self.written > self.limits.characters:
            raise _LimitExceeded(f"thư dài quá {format_number(self.limits.characters)} ký tự",
                                 "bớt nội dung lặp lại (vòng lặp in cùng một đoạn nhiều lần); nội dung thật sự dài "
                                 "nên đưa vào tệp đính kèm")
        self.tick()

    def allow(self, size: int) -> None:
        """Refuse a value of ``size`` characters (or items, or digits) before or after it is made."""
        if size > self.limits.characters:
            raise _LimitExceeded(f"một giá trị trong mẫu dài quá {format_number(self.limits.characters)} ký tự",
                                 "xem lại phép nhân chuỗi, «center», «indent», «replace», «join» hoặc độ rộng định "
                                 "dạng ở chỗ này")


# Outside a render (Jinja folds constants while compiling) only the sizes are checked.
_UNBOUNDED = Budget(Limits(seconds=math.inf, characters=LETTER_LIMITS.characters, steps=sys.maxsize))
_BUDGET: contextvars.ContextVar[Budget] = contextvars.ContextVar("outreach_template_budget", default=_UNBOUNDED)


def _digits(value: int) -> int:
    return _allowed_digits(math.ceil(abs(value).bit_length() * math.log10(2)))


def _allowed_digits(digits: int) -> int:
    if digits > MAX_DIGITS:
        raise _LimitExceeded(f"số quá lớn (hơn {format_number(MAX_DIGITS)} chữ số)",
                             "xem lại phép lũy thừa hoặc phép nhân ở chỗ này")
    return digits


def _size(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return _digits(value)
    if isinstance(value, (str, bytes, collections.abc.Sized)):
        try:
            return len(value)
        except TypeError:
            return 0
    return 0


# --- what an operation would build, measured before it runs ------------------------------

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\d*)(?:\.(\d*))?")


def _format_widths(template: str, percent: bool) -> int:
    """The widest field a %-format or str.format string asks for."""
    if percent:
        return max((int(n or 0) for spec in _PERCENT_SPEC.findall(template) for n in spec), default=0)
    try:
        specs = [spec for _, _, spec, _ in string.Formatter().parse(template) if spec]
    except ValueError:
        return 0  # the format call itself will say what is wrong
    return max((int(n) for spec in specs for n in re.findall(r"\d+", spec)), default=0)


def _formatted_size(template: str, values: Iterable[Any], percent: bool) -> int:
    fields = template.count("%" if percent else "{")
    largest = max((_size(v) for v in values), default=0)
    return len(template) + _format_widths(template, percent) * max(fields, 1) + fields * largest


def _argument(args: tuple, kwargs: Mapping[str, Any], index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _replaced_size(text: str, old: Any, new: Any, count: Any) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return 0
    hits = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * len(new)


def _joined_size(separator: Any, items: Any) -> int:
    return _size(separator) * _size(items) if isinstance(separator, str) else 0


def _method_size(name: str, text: str, args: tuple, kwargs: Mapping[str, Any]) -> int:
    if name in ("center", "ljust", "rjust", "zfill"):
        width = _argument(args, kwargs, 0, "width", 0)
        return width if isinstance(width, int) else 0
    if name == "expandtabs":
        tabsize = _argument(args, kwargs, 0, "tabsize", 8)
        return len(text) + text.count("\t") * tabsize if isinstance(tabsize, int) else 0
    if name == "replace":
        return _replaced_size(text, _argument(args, kwargs, 0, "old"), _argument(args, kwargs, 1, "new"),
                              _argument(args, kwargs, 2, "count"))
    if name == "join":
        return _joined_size(text, _argument(args, kwargs, 0, "iterable"))
    if name in ("format", "format_map"):
        values = [*args, *kwargs.values(), *(v for a in args if isinstance(a, Mapping) for v in a.values())]
        return _formatted_size(text, values, percent=False)
    return 0


def _filter_size(name: str, value: Any, args: tuple, kwargs: Mapping[str, Any]) -> int:
    if name in ("batch", "slice"):
        count = _argument(args, kwargs, 0, "linecount" if name == "batch" else "slices", 0)
        if isinstance(count, int) and count > MAX_RANGE:
            raise _LimitExceeded(f"bộ lọc «{name}» chia thành quá {format_number(MAX_RANGE)} nhóm",
                                 "dùng số nhóm nhỏ hơn")
        return 0
    if not isinstance(value, str):
        return _joined_size(_argument(args, kwargs, 0, "d", ""), value) if name == "join" else 0
    if name == "center":
        width = _argument(args, kwargs, 0, "width", 80)
        return width if isinstance(width, int) else 0
    if name == "indent":
        width = _argument(args, kwargs, 0, "width", 4)
        return len(value) + (value.count("\n") + 1) * (width if isinstance(width, int) else _size(width))
    if name == "replace":
        return _replaced_size(value, _argument(args, kwargs, 0, "old"), _argument(args, kwargs, 1, "new"),
                              _argument(args, kwargs, 2, "count"))
    if name == "format":
        return _formatted_size(value, [*args, *kwargs.values()], percent=True)
    return 0


def _product_size(left: Any, right: Any) -> int:
    if isinstance(left, int) and isinstance(right, int):
        return _size(left) + _size(right)
    for sequence, times in ((left, right), (right, left)):
        if isinstance(times, int) and isinstance(sequence, (str, list, tuple)):
            return len(sequence) * max(times, 0)
    return 0


def _power_size(left: Any, right: Any) -> int:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        return _allowed_digits(math.ceil(right * abs(left).bit_length() * math.log10(2)))
    return 0


def _binop_size(operator: str, left: Any, right: Any) -> int:
    if operator == "*":
        return _product_size(left, right)
    if operator == "**":
        return _power_size(left, right)
    if operator == "%" and isinstance(left, str):
        values = right.values() if isinstance(right, Mapping) else right if isinstance(right, tuple) else (right,)
        return _formatted_size(left, values, percent=True)
    return 0


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


class _OutputBuffer(list):
    """Where Jinja collects the output of a macro, ``{% set %}…{% endset %}`` or ``{% filter %}``."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def append(self, value: Any) -> None:
        self._count(value)
        super().append(value)

    def extend(self, values: Iterable[Any]) -> None:
        values = tuple(values)
        for value in values:
            self._count(value)
        super().extend(values)

    def _count(self, value: Any) -> None:
        self.size += _size(value)
        budget = _BUDGET.get()
        budget.allow(self.size)
        budget.tick()


class _BoundedCodeGenerator(CodeGenerator):
    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # Each loop iterates through environment.iterate(…), which counts every step (Jinja allows
        # no node types of our own, so the wrapper is an ordinary call).
        guarded = copy.copy(node)
        guarded.iter = nodes.Call(nodes.EnvironmentAttribute("iterate"), [node.iter], [], None, None,
                                  lineno=node.iter.lineno)
        super().visit_For(guarded, frame)

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.output_buffer()")


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


class _BoundedNamespace(Namespace):
    def __setitem__(self, name: str, value: Any) -> None:
        budget = _BUDGET.get()
        budget.allow(_size(value))
        budget.step()
        super().__setitem__(name, value)


def _bounded_filter(name: str, function: Any) -> Any:
    # Jinja passes the context/environment first when the filter asks for it (functools.wraps
    # copies that mark), so the filter's own value comes after it.
    first = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        budget.step()
        if len(args) > first:
            budget.allow(_filter_size(name, args[first], args[first + 1:], kwargs))
        result = function(*args, **kwargs)
        budget.allow(_size(result))
        return result

    return bounded


# Whose methods a template may call: plain values, and Jinja's own loop helpers (loop.cycle, cycler().next()).
_PLAIN_VALUES = (str, int, float, dt.date, tuple, list, collections.abc.Mapping, LoopContext, Cycler)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# What no template can read, though its object is in the context: how and when letters are sent,
# and where a row sits in its list. Changing these (the sending pace, a row inserted above, the
# working folder moved) changes no letter, so it must keep every draft and its approval.
# The first entry whose type matches is the one: a subclass goes before its base.
NOT_IN_LETTERS: Mapping[type, frozenset[str]] = {
    DistrictOffice: frozenset({"smtp", "schedule", "sends_to"}),  # who it sends to is routing, not letter text
    Sender: frozenset({"smtp", "schedule"}),
    Campaign: frozenset({"template", "audiences", "guidance", "static_attachments", "email_text", "email_html",
                         "not_before", "expires", "noi_nhan"}),  # Nơi nhận: the names only, as noi_nhan
    Recipient: frozenset({"source_file", "source_row"}),
}


def hidden_from_templates(kind: type) -> frozenset[str]:
    return next((names for owner, names in NOT_IN_LETTERS.items() if issubclass(kind, owner)), frozenset())


class Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(extensions=[_SingleFile], **options)
        self.filters.update(FORMAT_FILTERS)
        self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}
        del self.globals["lipsum"]  # placeholder text has no place in a letter, and costs what it is asked
        self.globals["namespace"] = _BoundedNamespace

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return super().is_safe_attribute(obj, attr, value) and attr not in hidden_from_templates(type(obj))

    def is_safe_callable(self, obj: Any) -> bool:
        # Only methods of plain values (name.upper()): a Path in the context must not become a file reader.
        owner = getattr(obj, "__self__", None)
        return super().is_safe_callable(obj) and (owner is None or isinstance(owner, _PLAIN_VALUES))

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        budget.step()
        method = getattr(obj, "__wrapped__", obj)  # str.format comes wrapped by the sandbox
        owner = getattr(method, "__self__", None)
        if isinstance(owner, str):
            budget.allow(_method_size(getattr(method, "__name__", ""), owner, args, kwargs))
        budget.enter()
        try:
            result = super().call(context, obj, *args, **kwargs)
        finally:
            budget.leave()
        budget.allow(_size(result))
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _BUDGET.get()
        budget.allow(_binop_size(operator, left, right))
        result = super().call_binop(context, operator, left, right)
        budget.allow(_size(result))
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        _BUDGET.get().tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _BUDGET.get().tick()
        return super().getitem(obj, argument)

    @staticmethod
    def iterate(iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _BUDGET.get()
        for item in iterable:
            budget.step()
            yield item

    @staticmethod
    def output_buffer() -> _OutputBuffer:
        return _OutputBuffer()


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", value))
    return value


@functools.cache
def environment(autoescape: bool) -> Sandbox:
    return Sandbox(undefined=_Strict, autoescape=autoescape, finalize=_finalize, keep_trailing_newline=True)


# --- rendering -----------------------------------------------------------------------------

def render(template: Template, variables: Mapping[str, Any], source: str, budget: Budget) -> str:
    """``template`` (compiled from ``source``) filled with ``variables``, within ``budget``."""
    token = _BUDGET.set(budget)
    chunks = []
    try:
        stream = template.generate(variables)
        for chunk in stream:
            try:
                budget.write(len(chunk))
            except _LimitExceeded as error:
                stream.throw(error)  # raised at the template's current line, so the failure says where
            chunks.append(chunk)
    except Exception as error:  # any failure inside a template is that template's: say which and where
        raise _failure(error, source) from None
    finally:
        _BUDGET.reset(token)
    return "".join(chunks)


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
    if isinstance(error, _Refusal):
        return TemplateFailure("limit" if isinstance(error, _LimitExceeded) else "runtime", error.what, error.fix, line)
    if isinstance(error, MemoryError):
        return TemplateFailure("limit", "mẫu dùng hết bộ nhớ khi tạo thư", _LOOP_FIX, line)
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
        return "phép chia cho 0", ("kiểm tra số chia; đặt phép chia trong «{% if số_chia %}…{% endif %}» để bỏ "
                                   "qua khi số chia bằng 0")
    if isinstance(error, RecursionError):
        return "macro hoặc vòng lặp đệ quy gọi chính nó mãi không dừng", _RECURSION_FIX
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
