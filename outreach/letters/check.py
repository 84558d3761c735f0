"""``outreach template check``: :func:`check_template` reports syntax errors, unknown variables and
tags Word has broken, each with where it is in the document, then what filling the template in for
sample recipients meets, the recipient fields a letter must name and the fonts it may use;
:func:`check_empty_values` notes values some listed recipients lack.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import re
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Iterator, Sequence

from jinja2 import TemplateSyntaxError, meta, nodes

from ..config import Campaign, Config
from ..recipients import Recipient
from .context import TEMPLATE_VARIABLES, LetterContext, original_recipient, sample_contexts
from .fonts import font_problems, template_fonts
from .render import (
    LetterTemplate,
    TemplateIssue,
    TemplateRunError,
    TemplateSource,
    recipient_label,
    snippet,
    template_variables,
)
from .sandbox import (
    TemplateFailure,
    environment,
    hidden_from_templates,
)

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
    source = TemplateSource(path)
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
                    (error.failure, recipient_label(template_variables(context))))
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


SAMPLE_ROWS = 100  # rows of each list a template check fills the template in for


def provided_variables(columns: Iterable[str] = ()) -> list[str]:
    """Names a template may use: the context, plus ``recipient.extra.<column>`` for each list column."""
    return sorted({*TEMPLATE_VARIABLES, *(f"recipient.extra.{column}" for column in columns)})


def list_columns(recipients: Iterable[Recipient]) -> list[str]:
    """The lists' own columns (those not read into a canonical field), as templates name them."""
    return sorted({key for recipient in recipients for key in recipient.extra})


def template_samples(config: Config, campaign: Campaign | None, recipients: Sequence[Recipient],
                     appendix: bool = False, rows: int = SAMPLE_ROWS) -> list[LetterContext]:
    """Whom a template check fills the template in for, as a draft and as issued: a made-up recipient
    of each of the campaign's audiences, the first ``rows`` of each list and, when it has Nơi nhận bodies,
    the original letter they get; an appendix has no recipient."""
    if campaign is None:
        return []
    if appendix:
        return list(sample_contexts(config, campaign, [None]))
    columns = list_columns(recipients)
    # A participant's letter needs a payment worked out from real rows: their list's rows are its samples.
    chosen: list[Recipient] = [sample_recipient(audience, columns) for audience in campaign.audiences
                               if audience in _SAMPLE_RECIPIENTS]
    per_file: dict[str, int] = {}
    for recipient in recipients:
        per_file[recipient.source_file] = per_file.get(recipient.source_file, 0) + 1
        if per_file[recipient.source_file] <= rows:
            chosen.append(recipient)
    chosen += [original_recipient(config, campaign)] if campaign.noi_nhan else []
    return list(sample_contexts(config, campaign, chosen))


@dataclass(frozen=True)
class TemplateField:
    """One field of the field picker: its name, what it holds in Vietnamese, the tag to copy."""

    name: str
    label: str
    description: str
    tag: str


def template_fields(columns: Iterable[str] = (), payments: bool = True) -> list[TemplateField]:
    """Every field a letter of the campaign can use, the lists' own columns last, in Vietnamese;
    ``payments``: with the fields of a participant's payment (a campaign writing to participants)."""
    found = [TemplateField(name, _label(text), text, _tag(name)) for name, text in TEMPLATE_VARIABLES.items()
             if name != "recipient.extra" and (payments or not name.startswith("payment."))]
    for column in sorted(set(columns)):
        name = f"recipient.extra.{column}"
        found.append(TemplateField(name, f"Cột «{column}» của danh sách", "Giá trị ô của cột này, như Excel hiển thị",
                                   _tag(name)))
    return found


def sample_recipient(kind: str, extra_columns: Iterable[str] = ()) -> Recipient:
    """A made-up recipient of ``kind`` with every field filled, as a list row would have it."""
    extra = MappingProxyType({column: f"(giá trị mẫu của cột «{column}»)" for column in extra_columns})
    return dataclasses.replace(_SAMPLE_RECIPIENTS[kind], extra=extra)


def check_empty_values(path: Path, recipients: Sequence[Recipient]) -> list[TemplateIssue]:
    """Recipient values the template prints that some recipients do not have: a gap in their letters.

    Values the template tests first (``{% if recipient.tax_code %}``, ``|default``) are left out.
    """
    source = TemplateSource(path)
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
            return f"{where}: «{snippet(text, found.start())}»"
    return "(không xác định được vị trí)"
