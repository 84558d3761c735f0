"""``campaigns/<name>.toml``: a campaign made in the browser, written as the one
``[campaigns.<name>]`` table config.toml would hold, so a person can read and diff it and every
command reads it exactly like config.toml's campaigns (``load_config`` merges the folder in)."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..accounts import Actor
from ..errors import ConfigError, UserError
from ..localtime import local_time
from ..workspace import Workspace

CAMPAIGN_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
# The keys a campaign made in the browser sets, in the order its file lists them.
FORM_KEYS = ("title", "subject", "drafting_unit", "template", "audiences", "guidance", "email_subject",
             "email_text", "email_html", "not_before", "expires")


def _value(item: Any) -> str:
    if isinstance(item, dt.datetime):
        return item.replace(tzinfo=None).isoformat(timespec="seconds")  # office time, as config.toml writes it
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in item) + "]"
    return json.dumps(item, ensure_ascii=False)  # a JSON string is a TOML basic string


def campaign_file_text(name: str, table: Mapping[str, Any], by: Actor, at: dt.datetime) -> str:
    """The file's text: who made it and when (a comment), then the table; keys left empty are left out."""
    who = by.name + (f" ({by.login})" if by.login else "")
    lines = [f"# Chiến dịch tạo trên trang web bởi {who} lúc {local_time(at)}.",
             "# Sửa được như config.toml: mỗi dòng một mục, xem config.toml mẫu để biết ý nghĩa.",
             f"[campaigns.{name}]"]
    lines += [f"{key} = {_value(table[key])}" for key in FORM_KEYS if table.get(key) not in (None, "")]
    return "\n".join(lines) + "\n"


def create_campaign_file(root: Path, name: str, table: Mapping[str, Any], by: Actor) -> Path:
    """Write ``campaigns/<name>.toml`` once it reads as a valid campaign beside the others; an
    existing campaign or file is never replaced."""
    from . import (  # the package's parser: this module is part of it
        parse_config,
        read_config_files,
    )

    workspace = Workspace(root)
    if not CAMPAIGN_NAME.match(name):
        raise UserError(f"Mã chiến dịch '{name}' không dùng được. Cách sửa: dùng chữ thường không dấu, số và "
                        "dấu -, bắt đầu và kết thúc bằng chữ hoặc số, tối đa 50 ký tự (vd. don-doc-2023).")
    path = workspace.campaign_files / f"{name}.toml"
    shown = workspace.relative(path)
    data, sources, broken = read_config_files(root, lenient_campaigns=True)
    if name in data.get("campaigns", {}) or name in broken or path.exists():
        where = sources.get(name) or (shown if path.exists() else "config.toml")
        raise UserError(f"Đã có chiến dịch '{name}' ({where}). Cách sửa: đặt mã khác cho chiến dịch mới.")
    if workspace.campaign_lists(name).exists():
        raise UserError(f"Mã '{name}' trùng tên thư mục {workspace.relative(workspace.campaign_lists(name))} "
                        "(danh sách của chiến dịch để ở đó). Cách sửa: đặt mã khác cho chiến dịch mới.")
    text = campaign_file_text(name, table, by, dt.datetime.now(dt.UTC))
    merged = {**data, "campaigns": {**data.get("campaigns", {}), name: tomllib.loads(text)["campaigns"][name]}}
    config = parse_config(merged, root.resolve(), lenient_campaigns=True,
                          campaign_sources={**sources, name: shown}, broken_files=broken)
    if name in config.broken_campaigns:
        raise ConfigError(config.broken_campaigns[name])
    path.parent.mkdir(exist_ok=True)
    with open(path, "x", encoding="utf-8") as out:
        out.write(text)
    return path


def template_choices(root: Path, patterns: Sequence[str]) -> list[str]:
    """Files under templates/ a campaign may name, relative to the working folder, for a form's choices."""
    folder = root / "templates"
    return sorted({path.relative_to(root).as_posix() for pattern in patterns for path in folder.glob(pattern)
                   if path.is_file()})
