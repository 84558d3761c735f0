"""Parse and check ``config.toml`` once, at the edge, into frozen dataclasses.

Every mistake is reported with its key path and what to write instead, e.g.
``departments.QLT.audiences: không có nhóm nhận 'employer' (các nhóm hợp lệ: employers, …)``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from collections.abc import Mapping
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError, UserError, redact
from ..localtime import OFFICE_TIMEZONE, WEEKDAYS
from ..payment import ContributionRules
from ..text import InvalidAddress, fold_diacritics, load_admin_units, mail_address
from ..workspace import REMINDER_SEPARATOR, Workspace
from .campaign_file import create_campaign_file, template_choices  # noqa: F401 (campaigns/*.toml)
from .mailbox import Mailbox, parse_mailbox  # noqa: F401 (a sender's mailbox is part of the config)
from .signing import (  # noqa: F401 (the signing section's types are part of the config)
    ROLE_LABELS, ROLES, KeySource, Pkcs11Key, Pkcs12Key, Role, SigningConfig, parse_signing)

AUDIENCES = ("employers", "collection_agents", "communes", "participants")
# A participants list holds personal data and exists only where an office keeps one: never assumed.
DEFAULT_AUDIENCES = ("employers", "collection_agents", "communes")
AUDIENCE_LABELS = {
    "employers": "Đơn vị sử dụng lao động",
    "collection_agents": "Tổ chức dịch vụ thu BHXH, BHYT",
    "communes": "UBND xã, phường, thị trấn",
    "participants": "Người tham gia BHXH tự nguyện",
    "noi_nhan": "Nơi nhận (bản gửi để biết, báo cáo)",
}
# The bodies of a campaign's "Nơi nhận" block: not a list audience; drafts and ledger keys use it as one.
COPIES = "noi_nhan"
SECURITY_MODES = ("none", "starttls", "ssl")
SMTP_URL_ENV = "OUTREACH_SMTP_URL"
RECEIPT_PATH = "/xac-nhan/"  # the recipients' confirmation page: <public_url>/xac-nhan/<token>


@dataclass(frozen=True)
class Agency:
    parent_body: str
    issuing_body: str
    abbreviation: str
    place: str


@dataclass(frozen=True)
class Signer:
    authority: str
    title: str
    name: str


@dataclass(frozen=True)
class SmtpProfile:
    name: str
    host: str
    port: int
    security: str
    username: str = ""
    password_env: str = ""
    timeout_s: float = 30.0
    allow_plaintext_auth: bool = False  # log in over an unencrypted connection: only if config.toml says so
    overridden_by: str = ""  # the OUTREACH_SMTP_URL (redacted) that replaced host, port and security
    url_password: str = field(default="", repr=False)  # from OUTREACH_SMTP_URL; never shown

    def password(self) -> str:
        """The password from OUTREACH_SMTP_URL, else from the environment variable the profile names
        (never from the file)."""
        if self.url_password or not self.password_env:
            return self.url_password
        return os.environ.get(self.password_env, "")


@dataclass(frozen=True)
class TimeWindow:
    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True)
class SendingSchedule:
    days: tuple[int, ...]  # 0 = Monday
    windows: tuple[TimeWindow, ...]
    timezone: str
    batch_size: int
    messages_per_minute: int
    daily_quota: int
    days_off: tuple[dt.date, ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Sender:
    """Anyone who sends letters: a department of the provincial office or a district office."""

    code: str
    name: str
    sender: str
    sender_name: str
    reply_to: str
    smtp: str
    schedule: SendingSchedule
    mailbox: Mailbox | None = None  # where its bounces and replies arrive (outreach collect)


@dataclass(frozen=True)
class Department(Sender):
    audiences: tuple[str, ...] = ()


@dataclass(frozen=True)
class BankAccount:
    """An office's account that voluntary-insurance contributions are paid into."""

    holder: str  # account name, as the bank shows it
    number: str
    bank: str  # bank and branch, as the letter prints them
    bank_bin: str  # the bank's 6-digit NAPAS BIN, for the VietQR code


@dataclass(frozen=True)
class DistrictOffice(Sender):
    district: str = ""
    sends_to_own_employers: bool = False  # as written; routing reads sends_to, which includes it
    cc_on_employer_letters: bool = False
    sends_to_own_participants: bool = False  # as written; routing reads sends_to, which includes it
    account: BankAccount | None = None  # None: its participants pay into the province's account
    # The audiences it sends to within its area (section 9): employers and participants it manages,
    # communes and collection organisations located in its district. The one source routing reads.
    sends_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Voluntary:
    """Voluntary social insurance (BHXH tự nguyện): dated parameters and the province's account."""

    rules: tuple[ContributionRules, ...]  # oldest first
    account: BankAccount
    qr_memo_prefix: str  # the QR code's purpose is "<prefix> <ID>"

    @property
    def support_groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(group for rules in self.rules for group in rules.support_percent))


@dataclass(frozen=True)
class Audience:
    name: str
    label: str
    files: tuple[Path, ...]


class SendingPeriod:
    """[not_before, expires): a campaign sends only inside it, and after its expiry nothing more,
    ever (not even what downtime kept back). For the dataclasses that carry both fields."""

    not_before: dt.datetime | None
    expires: dt.datetime | None

    def has_expired(self, moment: dt.datetime) -> bool:
        return self.expires is not None and moment >= self.expires

    def not_yet_open(self, moment: dt.datetime) -> bool:
        return self.not_before is not None and moment < self.not_before

    def is_open(self, moment: dt.datetime) -> bool:
        return not (self.has_expired(moment) or self.not_yet_open(moment))


@dataclass(frozen=True)
class Reminder:
    """``reminders = [{ after_working_days = 5, text = "templates/nhac.txt.j2" }]`` of a campaign: an
    e-mail to each recipient who has not answered (confirmed receipt, replied) N working days (of
    the sender's calendar) after the letter was delivered."""

    parent: str  # the campaign whose letter it follows
    number: int  # 1 for the first reminder
    after_working_days: int
    text: Path  # Jinja text template of the reminder's body

    @property
    def campaign(self) -> str:
        return f"{self.parent}{REMINDER_SEPARATOR}nhac-{self.number}"


@dataclass(frozen=True)
class WebConfig:
    """``[web]``: where recipients reach the page that confirms receipt ("" = no link in messages),
    and how the approvals staff record are governed."""

    public_url: str = ""
    # Nobody approves drafts they built, or whose lists and templates they brought in (a build reads them).
    four_eyes: bool = True

    def receipt_url(self, token: str) -> str:
        return f"{self.public_url}{RECEIPT_PATH}{token}"


@dataclass(frozen=True)
class CopyRecipient:
    """A body of the letter's "Nơi nhận" block: it gets the one original letter (by e-mail, or on
    paper when it has no address) and its name is printed in the block."""

    code: str  # its draft and ledger key under noi_nhan/: given, or made from the name
    name: str  # as the block prints it, e.g. "UBND tỉnh (để báo cáo)"
    emails: tuple[str, ...]
    address: str = ""  # postal, for paper


@dataclass(frozen=True)
class Campaign(SendingPeriod):
    name: str
    title: str
    subject: str  # trích yếu, the text after "V/v"
    drafting_unit: str  # department code in the ký hiệu, e.g. QLT
    template: Path
    audiences: tuple[str, ...]
    guidance: tuple[Path, ...]  # DOCX templates converted once per build and attached
    static_attachments: tuple[Path, ...]
    email_subject: str
    email_text: Path
    email_html: Path
    not_before: dt.datetime | None
    expires: dt.datetime | None
    extra: dict[str, str] = field(default_factory=dict)
    reminders: tuple[Reminder, ...] = ()
    reminder: Reminder | None = None  # set on the campaign a reminder is: it sends no letter of its own
    noi_nhan: tuple[CopyRecipient, ...] = ()  # templates read the names only, as the variable noi_nhan


@dataclass(frozen=True)
class Config:
    root: Path
    agency: Agency
    signer: Signer
    smtp: dict[str, SmtpProfile]
    departments: dict[str, Department]
    district_offices: dict[str, DistrictOffice]
    audiences: dict[str, Audience]
    campaigns: dict[str, Campaign]
    signing: SigningConfig = SigningConfig()
    voluntary: Voluntary | None = None
    web: WebConfig = WebConfig()
    # Campaigns left out because their table is wrong (only when parsed with lenient_campaigns), with why.
    broken_campaigns: dict[str, str] = field(default_factory=dict)

    @property
    def workspace(self) -> Workspace:
        return Workspace(self.root)

    def campaign(self, name: str) -> Campaign:
        if name in self.broken_campaigns:
            raise ConfigError(self.broken_campaigns[name])
        try:
            return self.campaigns[name]
        except KeyError:
            known = ", ".join(self.campaigns) or "(chưa có)"
            raise UserError(
                f"Không có chiến dịch '{name}' trong config.toml hay thư mục campaigns/. Các chiến dịch: {known}."
            ) from None

    def department_for(self, audience: str) -> Department:
        for department in self.departments.values():
            if audience in department.audiences:
                return department
        raise UserError(
            f"config.toml: không phòng nào gửi cho nhóm '{audience}'. "
            f"Thêm '{audience}' vào audiences của một phòng trong [departments]."
        )

    def senders(self) -> dict[str, Sender]:
        return {**self.departments, **self.district_offices}

    def sender_names(self) -> dict[str, str]:
        """Code → name of every sender, departments first: the order reports list offices in."""
        return {code: sender.name for code, sender in self.senders().items()}

    def mailboxes(self) -> list[Mailbox]:
        """The senders' mailboxes, each once: two senders may share one (the same login and folder)."""
        unique: dict[tuple[str, str], Mailbox] = {}
        for sender in self.senders().values():
            if sender.mailbox is not None:
                unique.setdefault((sender.mailbox.name, sender.mailbox.folder), sender.mailbox)
        return list(unique.values())


class _Section:
    """A table of the TOML file with its key path, so every error can name where it is.

    The keys a table allows are the ones its parser asks for: every accessor (``text``, ``integer``,
    ``get``, ``has``, ``section``, …) records the name it is asked, present or not, and
    :meth:`reject_unknown` refuses whatever the file holds beyond them. A new key is therefore added
    by reading it through an accessor, and nowhere else; reading ``data`` directly would leave it
    "unknown". Tables whose keys are names the office chooses (departments' codes, support groups, a
    campaign's ``extra``) are read with :meth:`sections` or :meth:`entries`, which allow any key.
    """

    def __init__(self, data: Any, path: str, *, parent: "_Section | None" = None,
                 known: set[str] | None = None) -> None:
        if not isinstance(data, dict):
            raise _error(path, "phải là một bảng (table)", f"viết [{path}]")
        self.data = data
        self.path = path
        self.known: set[str] = set() if known is None else known
        self.free = False  # any key allowed: the keys are names, not fields
        self.ignored = False  # left out of the config (a broken campaign, see parse_config): not checked again
        self.children: list[_Section] = []
        self.root: _Section = parent.root if parent is not None else self
        if parent is not None:
            parent.children.append(self)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        self.known.add(name)
        return name in self.data

    def get(self, name: str, default: Any = None) -> Any:
        self.known.add(name)
        return self.data.get(name, default)

    def section(self, name: str, required: bool = True) -> "_Section":
        if not self.has(name):
            if required:
                raise _error(self.key(name), "thiếu mục bắt buộc", f"thêm bảng [{self.key(name)}]" + self._typo(name))
            return _Section({}, self.key(name), parent=self)
        return _Section(self.data[name], self.key(name), parent=self)

    def sections(self, name: str) -> dict[str, "_Section"]:
        table = self.section(name, required=False)
        table.free = True
        return {sub: table.section(sub) for sub in table.data}

    def section_list(self, name: str) -> list["_Section"]:
        """``[[name]]``: an array of tables, each checked like a table."""
        items = self.get(name)
        if not isinstance(items, list):
            return []
        return [_Section(item, f"{self.key(name)}[{index}]", parent=self) for index, item in enumerate(items)]

    def entries(self) -> dict[str, Any]:
        """This table's keys and values when the keys are names the office chooses."""
        self.free = True
        return dict(self.data)

    def with_defaults(self, defaults: dict[str, Any]) -> "_Section":
        """The same table with ``defaults`` under it; what its parser reads counts for this table."""
        return _Section({**defaults, **self.data}, self.path, known=self.known)

    def text(self, name: str, default: str | None = None) -> str:
        value = self.get(name, default)
        if value is None:
            raise _error(self.key(name), "thiếu giá trị bắt buộc", f'thêm {name} = "…"' + self._typo(name))
        if not isinstance(value, str):
            raise _error(self.key(name), f"phải là chuỗi chữ, đang là {value!r}", f'viết {name} = "…"')
        return unicodedata.normalize("NFC", value.strip())

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _error(self.key(name), f"phải là số nguyên ≥ {minimum}, đang là {value!r}", f"viết {name} = {default}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise _error(self.key(name), f"phải là true hoặc false, đang là {value!r}", f"viết {name} = false")
        return value

    def text_list(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _error(self.key(name), f"phải là danh sách chuỗi, đang là {value!r}", f'viết {name} = ["…", "…"]')
        return tuple(unicodedata.normalize("NFC", item.strip()) for item in value)

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise _error(self.key(name), f"giá trị '{value}' không hợp lệ", f"dùng một trong: {', '.join(allowed)}")
        return value

    def datetime(self, name: str, tz: str) -> dt.datetime | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time(), tzinfo=ZoneInfo(tz))
        raise _error(self.key(name), f"phải là ngày giờ, đang là {value!r}", f"viết {name} = 2023-01-05T08:00:00")

    def _typo(self, name: str) -> str:
        """A required key missing while the table holds a look-alike nobody asked for: say so."""
        strangers = [key for key in self.data if key not in self.known]
        close = difflib.get_close_matches(name, strangers, n=1, cutoff=0.6)
        return f" (trong bảng có mục '{close[0]}': có phải viết nhầm tên?)" if close else ""

    def reject_unknown(self) -> None:
        """Refuse every key of this table and the tables under it that no parser asked for."""
        problems = [self._unknown_key(table, key) for table in self._walk() if not table.free
                    for key in table.data if key not in table.known]
        if problems:
            raise ConfigError("\n".join(problems))

    def _walk(self) -> Iterator["_Section"]:
        if self.ignored:
            return
        yield self
        for child in self.children:
            yield from child._walk()

    def _unknown_key(self, table: "_Section", key: str) -> str:
        where = f"bảng [{table.path}]" if table.path else "cấp ngoài cùng (ngoài mọi bảng)"
        what = f"bảng [{table.key(key)}]" if isinstance(table.data[key], dict) else f"mục '{key}'"
        allowed = ", ".join(sorted(table.known)) or "(không có mục nào)"
        hints = []
        close = difflib.get_close_matches(key, sorted(table.known), n=1, cutoff=0.6)
        if close:
            hints.append(f"có phải ý là '{close[0]}'?")
        elsewhere = sorted({other.path for other in self.root._walk()
                            if key in other.known and other.path != table.path and not other.free})
        if elsewhere:
            hints.append(f"mục '{key}' chỉ dùng được trong " + ", ".join(f"[{path}]" for path in elsewhere[:3]))
        hint = f" ({'; '.join(hints)})" if hints else ""
        return (f"config.toml: {table.key(key)}: {what} không có trong {where}, chương trình không dùng nó{hint}. "
                f"Các mục dùng được ở đó: {allowed}. Cách sửa: sửa tên cho đúng một trong các mục trên, "
                "hoặc xóa dòng đó.")


def _error(key: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"config.toml: {key}: {problem}. Cách sửa: {fix}.")


_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")

DEFAULT_SCHEDULE = {
    "days": ["T2", "T3", "T4", "T5", "T6"],
    "windows": ["08:00-11:00", "13:30-16:30"],
    "timezone": OFFICE_TIMEZONE,
    "batch_size": 20,
    "messages_per_minute": 30,
    "daily_quota": 500,
    "days_off": [],
}


def _parse_schedule(table: _Section) -> SendingSchedule:
    merged = table.with_defaults(DEFAULT_SCHEDULE)

    def positive(name: str) -> int:  # the default is merged in already; here it shows in the fix
        return merged.integer(name, DEFAULT_SCHEDULE[name], minimum=1)

    days = []
    for day in merged.text_list("days"):
        if day.upper() not in WEEKDAYS:
            raise _error(merged.key("days"), f"ngày '{day}' không hợp lệ", f"dùng: {', '.join(WEEKDAYS)}")
        days.append(WEEKDAYS.index(day.upper()))
    windows = []
    for text in merged.text_list("windows"):
        match = _WINDOW.match(text)
        if not match:
            raise _error(merged.key("windows"), f"khung giờ '{text}' không hợp lệ", 'viết dạng "08:00-11:00"')
        h1, m1, h2, m2 = map(int, match.groups())
        try:
            window = TimeWindow(dt.time(h1, m1), dt.time(h2, m2))
        except ValueError:
            raise _error(merged.key("windows"), f"giờ trong '{text}' không tồn tại", 'viết dạng "08:00-11:00"') from None
        if window.end <= window.start:
            raise _error(merged.key("windows"), f"khung giờ '{text}' kết thúc trước khi bắt đầu", "đặt giờ kết thúc sau giờ bắt đầu")
        windows.append(window)
    timezone = merged.text("timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _error(merged.key("timezone"), f"múi giờ '{timezone}' không tồn tại", f'viết timezone = "{OFFICE_TIMEZONE}"') from None
    days_off = []
    raw_days_off = merged.get("days_off", [])
    if not isinstance(raw_days_off, list) or not all(isinstance(d, dt.date) and not isinstance(d, dt.datetime) for d in raw_days_off):
        raise _error(merged.key("days_off"), "phải là danh sách ngày", "viết days_off = [2023-01-20, 2023-04-28]")
    days_off.extend(raw_days_off)
    return SendingSchedule(
        days=tuple(sorted(set(days))),
        windows=tuple(sorted(windows, key=lambda w: w.start)),
        timezone=timezone,
        batch_size=positive("batch_size"),
        messages_per_minute=positive("messages_per_minute"),
        daily_quota=positive("daily_quota"),
        days_off=tuple(sorted(days_off)),
    )


def _parse_sender_fields(code: str, table: _Section, smtp_names: dict[str, SmtpProfile]) -> dict[str, Any]:
    smtp = table.text("smtp", next(iter(smtp_names), ""))
    if smtp not in smtp_names:
        raise _error(table.key("smtp"), f"không có hồ sơ SMTP '{smtp}'", f"dùng một trong: {', '.join(smtp_names) or '(thêm [smtp.ten])'}")
    sender = table.text("sender")
    if "@" not in sender:
        raise _error(table.key("sender"), f"'{sender}' không phải địa chỉ e-mail", 'viết sender = "phong@coquan.gov.vn"')
    return {
        "code": code,
        "name": table.text("name"),
        "sender": sender.lower(),
        "sender_name": table.text("sender_name", table.text("name")),
        "reply_to": table.text("reply_to", sender).lower(),
        "smtp": smtp,
        "schedule": _parse_schedule(table.section("schedule", required=False)),
        "mailbox": parse_mailbox(code, table),
    }


def _parse_smtp(name: str, table: _Section) -> SmtpProfile:
    port = table.integer("port", 25, minimum=1)
    if port > 65535:
        raise _error(table.key("port"), f"cổng {port} không tồn tại", "dùng cổng 1–65535, ví dụ 587")
    password_env = table.text("password_env", "")
    if "password" in table.data:  # read directly: a refused key must not be listed among the allowed ones
        raise _error(table.key("password"), "không được ghi mật khẩu trong tệp cấu hình",
                     "xóa dòng password, đặt password_env = \"TEN_BIEN_MOI_TRUONG\" và đặt mật khẩu vào biến môi trường đó")
    return SmtpProfile(
        name=name,
        host=table.text("host"),
        port=port,
        security=table.choice("security", SECURITY_MODES, "none"),
        username=table.text("username", ""),
        password_env=password_env,
        timeout_s=float(table.integer("timeout_s", 30, minimum=1)),
        allow_plaintext_auth=table.boolean("allow_plaintext_auth", False),
    )


def apply_smtp_url(profiles: dict[str, SmtpProfile], url: str) -> dict[str, SmtpProfile]:
    """``OUTREACH_SMTP_URL`` (smtp://host:port, smtps://…, smtp+starttls://…, optionally with
    ``user:password@``) overrides every profile; its user and password, if any, are the login."""
    if any(c.isspace() for c in url):  # a word break would end what redact() can hide
        raise UserError(f"Biến môi trường {SMTP_URL_ENV} có khoảng trắng nên không phải một địa chỉ hợp lệ. "
                        "Cách sửa: viết liền, dạng smtp+starttls://host:587; ký tự đặc biệt trong mật khẩu "
                        "viết dạng %XX (khoảng trắng là %20).")
    # redact() hides what lies between "//" and "@": a value with "@" but not after "//" is not shown at all
    shown = f"'{redact(url)}'" if "@" not in url.partition("//")[0] else "(giá trị không in ra vì có thể chứa mật khẩu)"
    parts = urlsplit(url)
    security = {"smtp": "none", "smtps": "ssl", "smtp+starttls": "starttls"}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        port, security = None, None
    if security is None or not parts.hostname:
        raise UserError(
            f"Biến môi trường {SMTP_URL_ENV}={shown} không hợp lệ. "
            "Cách sửa: viết dạng smtp://127.0.0.1:8025, smtp+starttls://host:587 hoặc smtps://host:465 "
            "(muốn đăng nhập: thêm «tên:mật-khẩu@» ngay trước tên máy chủ)."
        )
    if parts.password and not parts.username:
        raise UserError(f"Biến môi trường {SMTP_URL_ENV}={shown} có mật khẩu nhưng thiếu tên đăng nhập. "
                        "Cách sửa: thêm tên đăng nhập trước dấu hai chấm, dạng «tên:mật-khẩu@» ngay trước tên máy chủ.")
    login = {"username": unquote(parts.username), "url_password": unquote(parts.password or "")} if parts.username else {}
    default_port = {"none": 25, "ssl": 465, "starttls": 587}[security]
    return {
        name: replace(profile, host=parts.hostname, port=port or default_port, security=security,
                      overridden_by=redact(url), **login)
        for name, profile in profiles.items()
    }


_ACCOUNT_NUMBER = re.compile(r"^[0-9A-Za-z]{1,19}$")
_QR_MEMO_PREFIX = re.compile(r"^[A-Za-z0-9]{1,10}$")  # "<prefix> <12-digit ID>" stays within VietQR's 25 characters


def _parse_account(table: _Section) -> BankAccount:
    number = table.text("number").replace(" ", "")
    if not _ACCOUNT_NUMBER.match(number):
        raise _error(table.key("number"), f"số tài khoản '{number}' không hợp lệ", "ghi 1–19 chữ số (hoặc chữ cái) như trên sổ tài khoản")
    bank_bin = table.text("bank_bin")
    if not re.fullmatch(r"\d{6}", bank_bin):
        raise _error(table.key("bank_bin"), f"mã BIN '{bank_bin}' không hợp lệ",
                     'ghi mã BIN 6 chữ số của ngân hàng theo NAPAS, vd. bank_bin = "970418" (BIDV)')
    return BankAccount(holder=table.text("holder"), number=number, bank=table.text("bank"), bank_bin=bank_bin)


def _percent(table: _Section, name: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise _error(table.key(name), f"phải là số phần trăm từ 0 đến 100, đang là {value!r}", f"viết {name} = 20")
    return Decimal(str(value))


def _count(table: _Section, name: str, example: int) -> int:
    """A required whole number: a missing one is an error, never a default, since the law sets it."""
    if not table.has(name):
        raise _error(table.key(name), "thiếu giá trị bắt buộc", f"viết {name} = {example}")
    return table.integer(name, example)


def _parse_rules(table: _Section) -> ContributionRules:
    effective_from = table.get("from")
    if not isinstance(effective_from, dt.date) or isinstance(effective_from, dt.datetime):
        raise _error(table.key("from"), f"phải là ngày bắt đầu áp dụng, đang là {effective_from!r}", "viết from = 2025-07-01")
    groups = table.section("support_percent")
    support = {name: _percent(groups, name, value) for name, value in groups.entries().items()}
    default_group = table.text("default_group")
    if default_group not in support:
        raise _error(table.key("default_group"), f"nhóm '{default_group}' không có trong support_percent",
                     f"dùng một trong: {', '.join(support) or '(thêm nhóm vào support_percent)'}")
    deadlines = table.section("deadline_months")
    deadline_months = {}
    for mode, months in deadlines.entries().items():
        if not mode.isdigit() or int(mode) < 1 or isinstance(months, bool) or not isinstance(months, int) \
                or not 1 <= months <= int(mode):
            raise _error(deadlines.key(mode), f"'{mode} = {months!r}' không hợp lệ",
                         "ghi <số tháng mỗi lần đóng> = <số tháng đầu kỳ được nộp tiền>, vd. 12 = 7")
        deadline_months[int(mode)] = months
    if not deadline_months:
        raise _error(deadlines.path, "chưa có phương thức đóng nào", "viết deadline_months = { 1 = 1, 3 = 3, 6 = 4, 12 = 7 }")
    floor = _count(table, "poverty_line", 1_500_000)
    ceiling = _count(table, "income_ceiling", 46_800_000)
    if ceiling < floor:
        raise _error(table.key("income_ceiling"), "thấp hơn poverty_line", "kiểm tra lại hai mức thu nhập")
    return ContributionRules(
        effective_from=effective_from,
        rate_percent=_percent(table, "rate_percent", table.get("rate_percent")),
        poverty_line=floor,
        income_ceiling=ceiling,
        support_percent=MappingProxyType(support),
        default_group=default_group,
        support_months_cap=_count(table, "support_months_cap", 120),
        deadline_months=MappingProxyType(deadline_months),
    )


def _parse_voluntary(top: _Section) -> Voluntary | None:
    if not top.has("voluntary"):
        return None
    table = top.section("voluntary")
    tables = table.section_list("rules")
    if not tables:
        raise _error(table.key("rules"), "chưa có bộ tham số nào",
                     "thêm [[voluntary.rules]] với from, rate_percent, poverty_line, income_ceiling, support_percent, …")
    rules = sorted(map(_parse_rules, tables), key=lambda r: r.effective_from)
    dates = [r.effective_from for r in rules]
    if len(set(dates)) != len(dates):
        raise _error(table.key("rules"), "hai bộ tham số cùng ngày bắt đầu áp dụng", "mỗi bộ một ngày from khác nhau")
    prefix = table.text("qr_memo_prefix", "BHXHTN")
    if not _QR_MEMO_PREFIX.match(prefix):
        raise _error(table.key("qr_memo_prefix"), f"'{prefix}' không dùng được trong mã VietQR",
                     'ghi 1–10 chữ cái không dấu hoặc chữ số, không dấu cách, vd. qr_memo_prefix = "BHXHTN"')
    return Voluntary(rules=tuple(rules), account=_parse_account(table.section("account")), qr_memo_prefix=prefix)


def _parse_campaign(name: str, table: _Section, root: Path, audiences: dict[str, Audience], departments: dict[str, Department]) -> Campaign:
    campaign_audiences = table.text_list("audiences", tuple(audiences))
    for audience in campaign_audiences:
        if audience not in audiences:
            raise _error(table.key("audiences"), f"không có nhóm nhận '{audience}'", f"dùng: {', '.join(audiences)}")
    if "participants" in campaign_audiences and not table.has("expires"):
        # The engine never sends past a campaign's expiry; the build keeps it before every payment deadline.
        raise _error(table.key("expires"), "chiến dịch gửi người tham gia BHXH tự nguyện phải có hạn gửi, để không thư "
                     "nhắc nào đến sau hạn nộp tiền", "viết expires = 2027-01-15T17:00:00 (không muộn hơn hạn nộp sớm nhất "
                     "của những người trong danh sách)")
    drafting_unit = table.text("drafting_unit")
    if drafting_unit not in departments:
        raise _error(table.key("drafting_unit"), f"không có phòng '{drafting_unit}'", f"dùng: {', '.join(departments)}")
    extra_table = table.section("extra", required=False)
    if "participants" in campaign_audiences and table.has("noi_nhan"):
        raise _error(table.key("noi_nhan"), "thư nhắc gửi riêng từng người tham gia BHXH tự nguyện không có bản gốc chung "
                     "để gửi các nơi nhận", "bỏ các mục noi_nhan của chiến dịch này")
    reminders = _parse_reminders(name, table, root)
    campaign = Campaign(
        name=name,
        title=table.text("title", name),
        subject=table.text("subject"),
        drafting_unit=drafting_unit,
        template=root / table.text("template"),
        audiences=campaign_audiences,
        guidance=tuple(root / p for p in table.text_list("guidance")),
        static_attachments=tuple(root / p for p in table.text_list("attachments")),
        **_email(name, table, root),
        not_before=table.datetime("not_before", OFFICE_TIMEZONE),
        expires=table.datetime("expires", OFFICE_TIMEZONE),
        extra={key: extra_table.text(key) for key in extra_table.entries()},
        reminders=reminders,
        noi_nhan=_parse_copies(table),
    )
    table.reject_unknown()  # here, not only at the end: a campaign is refused wherever its table comes from
    return campaign


def _email(name: str, table: _Section, root: Path) -> dict[str, Any]:
    """The campaign's e-mail: its own files where the templates page wrote them (``templates/<campaign>/``),
    else config.toml's keys (read either way, so they stay allowed keys)."""
    chosen = {
        "email_subject": table.text("email_subject", "{{ so_ky_hieu }} V/v {{ campaign.subject }}"),
        "email_text": root / table.text("email_text", "templates/email.txt.j2"),
        "email_html": root / table.text("email_html", "templates/email.html.j2"),
    }
    own = Workspace(root).campaign_email(name)
    if own.subject.is_file():
        chosen["email_subject"] = " ".join(own.subject.read_text(encoding="utf-8").split())
    if own.text.is_file():
        chosen["email_text"] = own.text
    if own.html.is_file():
        chosen["email_html"] = own.html
    return chosen


def _parse_copies(table: _Section) -> tuple[CopyRecipient, ...]:
    """``[[campaigns.X.noi_nhan]]`` entries: name, email (one or more, separated by ;), address, code."""
    items = table.get("noi_nhan", [])
    key = table.key("noi_nhan")
    if not isinstance(items, list):
        raise _error(key, "phải là danh sách các bảng", f'viết [[{key}]] rồi name = "…", email = "…" cho từng nơi nhận')
    copies: dict[str, CopyRecipient] = {}
    for index, item in enumerate(items, start=1):
        entry = _Section(item, f"{key}[{index}]", parent=table)
        name = " ".join(entry.text("name").split()).rstrip(";").strip()  # the block adds the ";"
        if not name:
            raise _error(entry.key("name"), "tên nơi nhận đang trống", 'ghi tên như in ở mục Nơi nhận, vd. "Sở Y tế"')
        emails = []
        for part in (p.strip() for p in entry.text("email", "").split(";")):
            if not part:
                continue
            try:
                emails.append(mail_address(part).normalized)
            except InvalidAddress as reason:
                raise _error(entry.key("email"), f"'{part}' {reason}", "sửa địa chỉ, hoặc bỏ trống để gửi bản giấy") from None
        code = entry.text("code", "") or re.sub(r"[^a-z0-9]+", "-", fold_diacritics(name))[:40].strip("-")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", code):
            raise _error(entry.key("code"), f"mã '{code}' chỉ được có chữ không dấu, số và dấu -", 'vd. code = "so-y-te"')
        if code in copies:
            raise _error(entry.key("code"), f"trùng mã '{code}' với nơi nhận «{copies[code].name}»",
                         'đặt code = "…" khác nhau cho hai nơi nhận')
        copies[code] = CopyRecipient(code, name, tuple(dict.fromkeys(emails)), entry.text("address", ""))
    return tuple(copies.values())


# Who a district office's sends_to reaches: employers and participants by their managing office's
# column, communes and collection organisations by the district they are in.
LOCATED_AUDIENCES = ("communes", "collection_agents")
MANAGED_AUDIENCES = ("employers", "participants")


def _parse_district_office(code: str, table: _Section, smtp: dict[str, SmtpProfile]) -> DistrictOffice:
    own_employers = table.boolean("sends_to_own_employers", False)
    own_participants = table.boolean("sends_to_own_participants", False)
    written = table.text_list("sends_to")
    for audience in written:
        if audience not in AUDIENCES:
            raise _error(table.key("sends_to"), f"không có nhóm nhận '{audience}'",
                         f"dùng các nhóm: {', '.join(f'{a!r}' for a in AUDIENCES)}, ví dụ sends_to = "
                         '["communes", "collection_agents", "employers"]')
    sends_to = tuple(a for a in AUDIENCES if a in written or (a == "employers" and own_employers)
                     or (a == "participants" and own_participants))
    district = table.text("district", "")
    if any(a in LOCATED_AUDIENCES for a in sends_to):
        official = load_admin_units().find_district(district) if district else None
        if official is None:
            known = ", ".join(load_admin_units().districts)
            raise _error(table.key("district"), f"BHXH huyện gửi cho xã và tổ chức dịch vụ thu trên địa bàn nên cần "
                         f"huyện của mình, đang là {district!r}", f'ghi district = "…" theo danh mục: {known}')
    return DistrictOffice(
        **_parse_sender_fields(code, table, smtp),
        district=district,
        sends_to_own_employers=own_employers,
        cc_on_employer_letters=table.boolean("cc_on_employer_letters", False),
        sends_to_own_participants=own_participants,
        account=_parse_account(table.section("account")) if table.has("account") else None,
        sends_to=sends_to,
    )


def _parse_reminders(name: str, table: _Section, root: Path) -> tuple[Reminder, ...]:
    if REMINDER_SEPARATOR in name:
        raise _error(table.path, f"tên chiến dịch không được chứa '{REMINDER_SEPARATOR}' (dành cho thư nhắc)",
                     f"đổi tên, vd. [campaigns.{name.replace(REMINDER_SEPARATOR, '-')}]")
    value = table.get("reminders", [])
    example = 'reminders = [{ after_working_days = 5, text = "templates/nhac.txt.j2" }]'
    if not isinstance(value, list):
        raise _error(table.key("reminders"), f"phải là danh sách, đang là {value!r}", f"viết {example}")
    reminders = []
    for number, entry in enumerate(value, start=1):
        item = _Section(entry, f"{table.key('reminders')}[{number}]", parent=table)
        days = item.integer("after_working_days", 5, minimum=1)
        if reminders and days <= reminders[-1].after_working_days:
            raise _error(item.key("after_working_days"), f"thư nhắc thứ {number} phải đến sau thư nhắc thứ {number - 1} "
                         f"({reminders[-1].after_working_days} ngày làm việc)", f"ghi một số lớn hơn {reminders[-1].after_working_days}")
        reminders.append(Reminder(name, number, days, root / item.text("text")))
    return tuple(reminders)


def _reminder_campaign(parent: Campaign, reminder: Reminder) -> Campaign:
    """The campaign a reminder is sent as: the parent's letter, number and expiry (never sent after
    it), open from the moment it is built (its due day is the reminder's own)."""
    return replace(parent, name=reminder.campaign, title=f"{parent.title} — thư nhắc lần {reminder.number}",
                   not_before=None, reminders=(), reminder=reminder)


def _parse_web(top: _Section) -> WebConfig:
    table = top.section("web", required=False)
    if "password" in table.data:
        raise _error(table.key("password"), "mật khẩu chung của trang web không còn được dùng: mỗi cán bộ đăng nhập "
                     "bằng tài khoản riêng", "xóa dòng password; tạo tài khoản quản trị bằng 'outreach user add TÊN "
                     "--name \"Họ và tên\" --role admin' và tài khoản cho từng người (drafter, approver, sender)")
    url = table.text("public_url", "").rstrip("/")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise _error(table.key("public_url"), f"'{url}' không phải địa chỉ trang web",
                         'viết địa chỉ mà người nhận mở được từ Internet, vd. public_url = "https://congvan.bhxh-khanhhoa.example.vn"')
    return WebConfig(public_url=url, four_eyes=table.boolean("four_eyes", True))


def parse_config(data: dict[str, Any], root: Path, smtp_url: str | None = None, *,
                 lenient_campaigns: bool = False, campaign_sources: Mapping[str, str] | None = None,
                 broken_files: Mapping[str, str] | None = None) -> Config:
    """Turn the TOML document into a checked :class:`Config` (pure; no file access).

    ``lenient_campaigns``: a campaign whose table is wrong is left out and its error kept in
    ``broken_campaigns`` instead of refusing the whole file, so that the web's pages that do not
    need it keep working; the CLI and the scheduler refuse the file. ``campaign_sources``: the file
    each campaign's table came from when not config.toml (``campaigns/<name>.toml``), which its
    errors name; ``broken_files``: campaign files that could not be read at all, by campaign name
    (only ever given with ``lenient_campaigns``)."""
    sources = campaign_sources or {}
    top = _Section(data, "")
    agency = top.section("agency")
    signer = top.section("signer")
    smtp = {name: _parse_smtp(name, table) for name, table in top.sections("smtp").items()}
    if not smtp:
        raise _error("smtp", "chưa có hồ sơ SMTP nào", 'thêm [smtp.noi-bo] với host = "127.0.0.1", port = 8025')
    if smtp_url:
        smtp = apply_smtp_url(smtp, smtp_url)

    audiences: dict[str, Audience] = {}
    for name, table in top.sections("audiences").items():
        if name not in AUDIENCES:
            raise _error(f"audiences.{name}", f"không có nhóm nhận '{name}'", f"dùng: {', '.join(AUDIENCES)}")
        audiences[name] = Audience(
            name=name,
            label=table.text("label", AUDIENCE_LABELS[name]),
            files=tuple(root / p for p in table.text_list("files", (f"recipients/{name}.xlsx",))),
        )
    for name in DEFAULT_AUDIENCES:
        audiences.setdefault(name, Audience(name, AUDIENCE_LABELS[name], (root / f"recipients/{name}.xlsx",)))

    departments: dict[str, Department] = {}
    for code, table in top.sections("departments").items():
        served = table.text_list("audiences")
        for audience in served:
            if audience not in AUDIENCES:
                raise _error(table.key("audiences"), f"không có nhóm nhận '{audience}'", f"các nhóm hợp lệ: {', '.join(AUDIENCES)}")
        departments[code] = Department(**_parse_sender_fields(code, table, smtp), audiences=served)
    if not departments:
        raise _error("departments", "chưa có phòng gửi nào", "thêm [departments.QLT] với name, sender, audiences")
    for audience in AUDIENCES:
        owners = [code for code, d in departments.items() if audience in d.audiences]
        if len(owners) > 1:
            raise _error("departments", f"nhóm '{audience}' được giao cho nhiều phòng ({', '.join(owners)})",
                         "mỗi nhóm nhận chỉ do một phòng gửi")

    district_offices = {code: _parse_district_office(code, table, smtp)
                        for code, table in top.sections("district_offices").items()}
    voluntary = _parse_voluntary(top)
    if "participants" in audiences and voluntary is None:
        raise _error("voluntary", "có nhóm nhận participants nhưng thiếu tham số BHXH tự nguyện",
                     "thêm [voluntary] với account và [[voluntary.rules]] (xem config.toml mẫu)")
    campaigns, broken = {}, dict(broken_files or {})
    for name, table in top.sections("campaigns").items():
        try:
            try:
                campaigns[name] = _parse_campaign(name, table, root, audiences, departments)
            except ConfigError as error:
                raise _in_file(error, sources[name]) if name in sources else error from None
        except ConfigError as error:
            if not lenient_campaigns:
                raise
            broken[name] = error.message
            table.ignored = True
    campaigns |= {r.campaign: _reminder_campaign(c, r) for c in list(campaigns.values()) for r in c.reminders}
    config = Config(
        root=root,
        agency=Agency(
            parent_body=agency.text("parent_body"),
            issuing_body=agency.text("issuing_body"),
            abbreviation=agency.text("abbreviation"),
            place=agency.text("place"),
        ),
        signer=Signer(authority=signer.text("authority"), title=signer.text("title"), name=signer.text("name")),
        smtp=smtp,
        departments=departments,
        district_offices=district_offices,
        audiences=audiences,
        campaigns=campaigns,
        signing=parse_signing(top, root),
        voluntary=voluntary,
        web=_parse_web(top),
        broken_campaigns=broken,
    )
    top.reject_unknown()
    return config


def load_config(root: Path, *, lenient_campaigns: bool = False) -> Config:
    """Read ``root/config.toml`` and the campaign files ``root/campaigns/*.toml`` (each one
    ``[campaigns.<its name>]`` table, read exactly like config.toml's); ``OUTREACH_SMTP_URL`` in the
    environment overrides SMTP targets. ``lenient_campaigns``: see :func:`parse_config` (a campaign
    file that cannot be read leaves out that campaign only)."""
    root = root.resolve()
    data, sources, broken = read_config_files(root, lenient_campaigns=lenient_campaigns)
    return parse_config(data, root, os.environ.get(SMTP_URL_ENV) or None, lenient_campaigns=lenient_campaigns,
                        campaign_sources=sources, broken_files=broken)


def read_config_files(root: Path, *, lenient_campaigns: bool = False
                      ) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """config.toml's document with every campaign file's table merged into its ``campaigns``; the
    file of each merged campaign; and (lenient only) the campaign files that could not be read."""
    workspace = Workspace(root)
    data = _read_toml(workspace.config_file, workspace.relative(workspace.config_file))
    if not data and not workspace.config_file.is_file():
        raise ConfigError(f"Không tìm thấy {workspace.config_file}. Cách sửa: chạy 'outreach init THƯ_MỤC' để tạo "
                          "thư mục làm việc mới.")
    tables = dict(data.get("campaigns", {})) if isinstance(data.get("campaigns"), dict) else None
    sources: dict[str, str] = {}
    broken: dict[str, str] = {}
    for path in sorted(workspace.campaign_files.glob("*.toml")) if tables is not None else []:
        name, shown = path.stem, workspace.relative(path)
        try:
            table = _campaign_table(name, shown, _read_toml(path, shown))
            if name in tables:
                raise ConfigError(f"{shown}: chiến dịch '{name}' đã có trong config.toml ([campaigns.{name}]). "
                                  f"Cách sửa: giữ một trong hai — xóa bảng [campaigns.{name}] khỏi config.toml, "
                                  f"hoặc xóa (đổi tên) tệp {shown}.")
        except ConfigError as error:
            if not lenient_campaigns:
                raise
            broken[name] = error.message
            continue
        tables[name] = table
        sources[name] = shown
    if sources:
        data = {**data, "campaigns": tables}
    return data, sources, broken


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"{shown} không phải văn bản UTF-8. Cách sửa: lưu lại tệp với mã hóa UTF-8.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_syntax_error(path, text, exc) from None


def _campaign_table(name: str, shown: str, data: dict[str, Any]) -> dict[str, Any]:
    """A campaign file holds one table, ``[campaigns.<the file's name>]``, and nothing else."""
    campaigns = data.get("campaigns")
    if set(data) != {"campaigns"} or not isinstance(campaigns, dict) or set(campaigns) != {name} \
            or not isinstance(campaigns[name], dict):
        tables = [f"[campaigns.{key}]" for key in campaigns] if isinstance(campaigns, dict) else []
        found = ", ".join([*tables, *(f"[{key}]" for key in data if key != "campaigns")]) or "(trống)"
        raise ConfigError(f"{shown}: tệp chiến dịch chỉ chứa đúng một bảng [campaigns.{name}] (cùng tên với tệp), "
                          f"đang có: {found}. Cách sửa: đặt các mục của chiến dịch dưới dòng [campaigns.{name}], "
                          "bỏ mọi bảng khác (chúng thuộc config.toml); hoặc đổi tên tệp cho trùng tên chiến dịch.")
    return campaigns[name]


def _in_file(error: ConfigError, shown: str) -> ConfigError:
    """A campaign's error as the campaign file it came from names it (the parsers say config.toml)."""
    return ConfigError(re.sub(r"^config\.toml: ", f"{shown}: ", error.message, flags=re.M))


# tomllib's messages (Python 3.11: "<what> (at line L, column C)"), each as the problem and its fix.
_TOML_PROBLEMS = (
    (r"Illegal character '\\n'|Unterminated string",
     "một chuỗi chữ thiếu dấu ngoặc kép đóng", 'thêm dấu " ở cuối giá trị, trên cùng dòng: ten = "giá trị"'),
    (r"Unescaped '\\'|Found invalid character|Invalid hex value|Escaped character",
     "dấu \\ trong chuỗi ngoặc kép bắt đầu một ký tự đặc biệt",
     "viết đường dẫn bằng dấu /, hoặc đặt trong ngoặc đơn: 'templates\\cong-van.docx'"),
    (r"Illegal character", "chuỗi chữ có ký tự điều khiển không được phép", "xóa ký tự đó hoặc gõ lại giá trị"),
    (r"Expected '=' after a key", "thiếu dấu = giữa tên mục và giá trị", 'viết dạng ten_muc = "giá trị"'),
    (r"Expected '\]' at the end of a table", "tên bảng thiếu dấu ] đóng", "viết tên bảng dạng [ten_bang]"),
    (r"Expected '\]\]'", "tên bảng lặp thiếu ]] đóng", "viết dạng [[ten_bang]]"),
    (r"Expected newline or end of document", "sau giá trị còn chữ thừa trên cùng dòng",
     "mỗi dòng một mục; ghi chú bắt đầu bằng #; chữ phải nằm trọn trong ngoặc kép"),
    (r"Cannot declare|Cannot overwrite|Cannot redefine|Cannot mutate|Duplicate inline table key",
     "mục hoặc bảng này đã được khai báo ở chỗ khác trong tệp", "giữ một chỗ khai báo, xóa chỗ trùng"),
    (r"Unclosed array", "danh sách thiếu dấu ] đóng", 'viết dạng ten = ["a", "b"] và đóng ] trước dòng mới'),
    (r"Unclosed inline table", "bảng viết trên một dòng thiếu dấu } đóng", "viết dạng ten = { a = 1, b = 2 }"),
    (r"Invalid date or datetime", "ngày giờ không hợp lệ", "viết dạng 2023-01-05 hoặc 2023-01-05T08:00:00"),
    (r"Invalid value", "giá trị không hợp lệ",
     'chữ đặt trong ngoặc kép ("…"), số viết liền, ngày dạng 2023-01-05, true/false viết thường'),
    (r"Invalid initial character for a key part|Invalid statement|Expected",
     "dòng này không phải một mục (ten = giá trị) hay một bảng ([ten]) hợp lệ",
     "viết dạng ten_muc = \"giá trị\"; ghi chú bắt đầu bằng #"),
)
_TOML_WHERE = re.compile(r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$", re.S)


def _toml_syntax_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    """A TOML syntax error in Vietnamese: where (line, column, the line itself), what, how to fix."""
    match = _TOML_WHERE.match(str(exc))
    what = match["what"] if match else str(exc)
    problem, fix = next(((problem, fix) for pattern, problem, fix in _TOML_PROBLEMS if re.match(pattern, what)),
                        (f"lỗi cú pháp TOML ({what})", "so với config.toml mẫu xem dòng này viết khác ở đâu"))
    if match and match["line"]:
        number = int(match["line"])
        lines = text.splitlines()
        shown = lines[number - 1].strip() if number <= len(lines) else ""
        where = f"dòng {number}, cột {match['column']}" + (f" («{shown}»)" if shown else "")
    else:
        where = f"cuối tệp (dòng {len(text.splitlines())})"
    return ConfigError(f"{path}: lỗi cú pháp ở {where}: {problem}. Cách sửa: {fix}; lưu tệp rồi chạy lại lệnh "
                     "(hoặc tải lại trang). Chưa sửa xong thì chương trình không đọc được cấu hình.")
