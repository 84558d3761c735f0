"""Small builders shared by the tests that fake a built campaign, and a fake channel for the engine."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from outreach.config import Config, Sender
from outreach.delivery import Handover, Ledger, Result, SmtpMessenger
from outreach.outbox import BuildReport, build_campaign
from outreach.outbox.manifest import Draft, DraftFile, Manifest, sha256_file, write_manifest
from outreach.outbox.messages import Attachment, Envelope, build_message, message_bytes

OFFICE = {
    "agency": {"parent_body": "BẢO HIỂM XÃ HỘI VIỆT NAM", "issuing_body": "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
               "abbreviation": "BHXH", "place": "Khánh Hòa"},
    "signer": {"authority": "KT. GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC", "name": "Lê Hùng Chính"},
}
REPO = Path(__file__).resolve().parent.parent
CAMPAIGN = "vssid-2022"
SUBJECT = "Công văn số 05/BHXH-QLT V/v đôn đốc tham gia BHXH tự nguyện, BHYT hộ gia đình; sử dụng VssID"
START = dt.datetime(2023, 1, 9, 2, 0, tzinfo=dt.timezone.utc)  # Monday 09:00 in Khánh Hòa
SENDERS = {
    "QLT": ("phongqlt@bhxh-khanhhoa.example.vn", "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu"),
    "TTPT": ("phongttpt@bhxh-khanhhoa.example.vn", "BHXH tỉnh Khánh Hòa - Phòng Truyền thông"),
    "NT": ("bhxhnhatrang@bhxh-khanhhoa.example.vn", "BHXH thành phố Nha Trang"),
}


def tiny_pdf(title: str, pages: int = 1, width: int = 595) -> bytes:
    """A blank PDF (one A4 page by default) whose bytes differ per title; ``width`` tells its pages apart."""
    buffer = io.BytesIO()
    with pikepdf.new() as document:
        for _ in range(pages):
            document.add_blank_page(page_size=(width, 842))
        document.docinfo["/Title"] = title
        document.save(buffer, deterministic_id=True)
    return buffer.getvalue()


@dataclass
class Recipient:
    audience: str
    code: str
    name: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    sender: str = "QLT"
    district: str = "Thành phố Nha Trang"
    pages: int = 1  # of its letter, each page ``width`` points wide
    width: int = 595

    @property
    def key(self) -> str:
        return f"{self.audience}/{self.code}"


@dataclass
class Clock:
    now: dt.datetime = START
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=seconds)

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def config_data(port: int, **schedule: int) -> dict:
    schedule = {"messages_per_minute": 6000, "daily_quota": 1000, **schedule}
    return {
        **OFFICE,
        "smtp": {"sink": {"host": "127.0.0.1", "port": port, "security": "none", "timeout_s": 5}},
        "departments": {
            "QLT": {"name": "Phòng Quản lý thu", "sender": SENDERS["QLT"][0], "sender_name": SENDERS["QLT"][1],
                    "audiences": ["employers"], "smtp": "sink", "schedule": schedule},
            "TTPT": {"name": "Phòng Truyền thông", "sender": SENDERS["TTPT"][0], "sender_name": SENDERS["TTPT"][1],
                     "audiences": ["collection_agents", "communes"], "smtp": "sink", "schedule": schedule},
        },
    }


def write_drafts(root: Path, campaign: str, recipients: Sequence[Recipient], *, subject: str = SUBJECT,
                 with_letter: bool = True, issued_at: str = START.isoformat()) -> Manifest:
    """A built campaign as `outreach build` leaves it: a folder per draft with its message.eml (and,
    ``with_letter``, its letter.pdf, attached to the message), and the manifest naming them."""
    drafts = []
    for r in recipients:
        folder = root / "outbox" / campaign / r.audience / r.code
        folder.mkdir(parents=True)
        files, attachments = [], []
        if with_letter:
            pdf = tiny_pdf(r.name, r.pages, r.width)
            (folder / "letter.pdf").write_bytes(pdf)
            files.append(DraftFile("letter.pdf", sha256_file(folder / "letter.pdf"), r.pages))
            attachments.append(Attachment(f"Công văn số 05 – {r.name}.pdf", pdf))
        message_sha = ""
        if r.to:
            address, sender_name = SENDERS[r.sender]
            message = build_message(sender_name=sender_name, sender=address, reply_to=address, to=r.to, cc=r.cc,
                                    subject=subject, text=f"Kính gửi: {r.name}\n", html=f"<p>Kính gửi: {r.name}</p>",
                                    attachments=attachments)
            (folder / "message.eml").write_bytes(message_bytes(message))
            message_sha = sha256_file(folder / "message.eml")
            files.append(DraftFile("message.eml", message_sha))
        drafts.append(Draft(campaign=campaign, audience=r.audience, code=r.code, name=r.name, to=r.to, cc=r.cc,
                            sender=r.sender, district=r.district, folder=str(folder.relative_to(root)),
                            files=tuple(files), message_sha256=message_sha))
    manifest = Manifest(campaign, "05/BHXH-QLT", issued_at, tuple(drafts))
    write_manifest(root, manifest)
    return manifest


def make_outbox(root: Path, recipients: list[Recipient], config: dict) -> tuple[Manifest, dict[str, bytes]]:
    """The sample campaign built (letter.pdf + message.eml per draft), and its config written beside it."""
    manifest = write_drafts(root, CAMPAIGN, recipients)
    pdfs = {d.key: d.path(root, "letter.pdf").read_bytes() for d in manifest.drafts}
    (root / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    (root / "config.toml").write_text(toml_text(config), encoding="utf-8")  # for the `outreach` command
    return manifest, pdfs


def toml_text(data: dict, table: str = "") -> str:
    """A config dict (strings, numbers, booleans, lists of them, nested tables) written as TOML."""
    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        return json.dumps(item, ensure_ascii=False)  # a JSON string or number is a TOML one

    lines = [f"[{table}]"] if table else []
    lines += [f"{key} = {value(item)}" for key, item in data.items() if not isinstance(item, dict)]
    for key, item in data.items():
        if isinstance(item, dict):
            lines.append(toml_text(item, f"{table}.{key}" if table else key))
    return "\n".join(lines) + "\n"


def employers(count: int) -> list[Recipient]:
    return [Recipient("employers", f"TA{index:05d}", f"Công ty TNHH Hải Sản Số {index}", (f"dv{index}@example.vn",))
            for index in range(1, count + 1)]


class FakeMessenger:
    """A channel that is only a function, as httpx's ``MockTransport``: each handover -> its Result.
    Records what it was given, so a test can say what reached the channel, and how often. It fakes
    the wire, not the addressing: by default that of e-mail (SmtpMessenger's, which sends nothing)."""

    def __init__(self, handler: Callable[[Handover], Result], name: str = "email", paced: bool = True,
                 address: Callable[[Draft, bytes], Envelope | str] = SmtpMessenger({}).envelope) -> None:
        self.handler = handler
        self.name = name
        self.paced = paced
        self.address = address
        self.handed: list[Handover] = []
        self.checked: list[str] = []  # sender codes
        self.opened: list[str] = []
        self.closed = 0

    def envelope(self, draft: Draft, data: bytes) -> Envelope | str:
        return self.address(draft, data)

    def check(self, sender: Sender) -> None:
        self.checked.append(sender.code)

    def open(self, sender: Sender) -> FakeMessenger:
        self.opened.append(sender.code)
        return self

    def deliver(self, handover: Handover) -> Result:
        self.handed.append(handover)
        return self.handler(handover)

    def close(self) -> None:
        self.closed += 1

    def handed_keys(self) -> list[str]:
        return [handover.key for handover in self.handed]


def accepted(handover: Handover) -> Result:
    return Result("accepted", 250, f"2.0.0 Ok: queued as {handover.key}", "DATA")


def copy_sample_office(target: Path) -> Path:
    """A copy of the repository's sample working folder: config.toml, templates/ and recipients/."""
    for item in ("config.toml", "templates", "recipients"):
        source = REPO / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target / item)
    return target


def build(config: Config, campaign: str, **options: object) -> BuildReport:
    """`outreach build` as the CLI runs it: against the workspace's own delivery ledger."""
    with Ledger.open(config.root) as ledger:
        return build_campaign(config, campaign, ledger, progress=False, **options)
