"""Shared test kit: a working folder with built campaigns (manifest + message.eml per draft, as
`outreach build` leaves them), config.toml data with campaigns and senders, and a real aiosmtpd
sink on loopback. Used by the scheduler tests; test_delivery.py keeps its own fixtures.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from outreach.config import Config, parse_config
from outreach.delivery import Ledger, MaildirHandler, SmtpSink, approve
from outreach.outbox.manifest import Draft, DraftFile, Manifest, sha256_file, write_manifest
from outreach.outbox.messages import build_message, message_bytes, parse_message
from factories import OFFICE

KIT_SENDERS = {
    "QLT": ("phongqlt@bhxh-khanhhoa.example.vn", "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu"),
    "TTPT": ("phongttpt@bhxh-khanhhoa.example.vn", "BHXH tỉnh Khánh Hòa - Phòng Truyền thông"),
    "NT": ("bhxhnhatrang@bhxh-khanhhoa.example.vn", "BHXH thành phố Nha Trang"),
}


class HookedHandler(MaildirHandler):
    """The sink's Maildir handler with an optional hook run while a message's DATA is handled."""

    def __init__(self, maildir: Path) -> None:
        super().__init__(maildir)
        self.on_data: Callable[[int], None] | None = None  # called with the message's number (1, 2, …)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.on_data is not None:
            self.on_data(self.count)
        return await super().handle_DATA(server, session, envelope)


@dataclass(frozen=True)
class Letter:
    audience: str
    code: str
    name: str
    sender: str = "QLT"

    @property
    def key(self) -> str:
        return f"{self.audience}/{self.code}"


def letters(audience: str, count: int, sender: str, prefix: str = "") -> list[Letter]:
    """``count`` recipients of one audience sent by ``sender``; codes are unique per prefix."""
    kind = {"employers": "TA", "communes": "", "collection_agents": "DL"}[audience]
    return [Letter(audience, f"{prefix}{kind}{index:05d}", f"Người nhận {prefix}{index}", sender)
            for index in range(1, count + 1)]


def base_config(port: int) -> dict:
    fast = {"windows": ["08:00-11:00"], "batch_size": 3, "messages_per_minute": 6000, "daily_quota": 1000}
    return {
        **OFFICE,
        "smtp": {"sink": {"host": "127.0.0.1", "port": port, "security": "none", "timeout_s": 5}},
        "departments": {
            "QLT": {"name": "Phòng Quản lý thu", "sender": KIT_SENDERS["QLT"][0], "sender_name": KIT_SENDERS["QLT"][1],
                    "audiences": ["employers"], "smtp": "sink", "schedule": dict(fast)},
            "TTPT": {"name": "Phòng Truyền thông", "sender": KIT_SENDERS["TTPT"][0],
                     "sender_name": KIT_SENDERS["TTPT"][1], "audiences": ["collection_agents", "communes"],
                     "smtp": "sink", "schedule": {**fast, "windows": ["13:30-16:30"]}},
        },
        "district_offices": {
            "NT": {"name": "BHXH thành phố Nha Trang", "sender": KIT_SENDERS["NT"][0],
                   "sender_name": KIT_SENDERS["NT"][1], "district": "Thành phố Nha Trang",
                   "sends_to_own_employers": True, "smtp": "sink", "schedule": dict(fast)},
        },
        "campaigns": {},
    }


class MailKit:
    """A working folder with campaigns built and a sink receiving what is sent."""

    def __init__(self, root: Path, handler: HookedHandler, sink: SmtpSink) -> None:
        self.root = root
        self.handler = handler
        self.sink = sink
        self.data = base_config(sink.port)
        self.manifests: dict[str, Manifest] = {}
        self.message_ids: dict[str, tuple[str, str]] = {}  # Message-ID -> (campaign, key)
        self._ledgers: list[Ledger] = []

    @property
    def config(self) -> Config:
        return parse_config(copy.deepcopy(self.data), self.root)

    def schedule(self, sender: str, **options: object) -> None:
        table = self.data["departments"].get(sender) or self.data["district_offices"][sender]
        table["schedule"].update(options)

    def add_campaign(self, name: str, recipients: list[Letter], *, not_before: dt.datetime | None = None,
                     expires: dt.datetime | None = None) -> Manifest:
        entry: dict = {"title": f"Chiến dịch {name}", "subject": "đôn đốc tham gia BHXH tự nguyện",
                       "drafting_unit": "QLT", "template": "templates/cong-van.docx"}
        if not_before is not None:
            entry["not_before"] = not_before
        if expires is not None:
            entry["expires"] = expires
        self.data["campaigns"][name] = entry
        drafts = []
        for r in recipients:
            folder = self.root / "outbox" / name / r.audience / r.code
            folder.mkdir(parents=True)
            address, sender_name = KIT_SENDERS[r.sender]
            to = (f"{r.code.lower()}@example.vn",)
            message = build_message(sender_name=sender_name, sender=address, reply_to=address, to=to, cc=(),
                                    subject=f"V/v {name}", text=f"Kính gửi: {r.name}\n",
                                    html=f"<p>Kính gửi: {r.name}</p>", attachments=[])
            (folder / "message.eml").write_bytes(message_bytes(message))
            self.message_ids[str(message["Message-ID"])] = (name, r.key)
            sha = sha256_file(folder / "message.eml")
            drafts.append(Draft(campaign=name, audience=r.audience, code=r.code, name=r.name, to=to, cc=(),
                                sender=r.sender, district="Thành phố Nha Trang",
                                folder=str(folder.relative_to(self.root)),
                                files=(DraftFile("message.eml", sha),), message_sha256=sha))
        manifest = Manifest(name, "05/BHXH-QLT", "2023-01-02T08:00:00+07:00", tuple(drafts))
        write_manifest(self.root, manifest)
        self.manifests[name] = manifest
        return manifest

    def ledger(self) -> Ledger:
        ledger = Ledger.open(self.root)
        self._ledgers.append(ledger)
        return ledger

    def approve(self, campaign: str, keys: list[str] | None = None) -> None:
        with Ledger.open(self.root) as ledger:
            approve(self.root, ledger, self.manifests[campaign], "Nguyễn Thị Duyệt", keys,
                    clock=lambda: dt.datetime(2023, 1, 2, 1, 0, tzinfo=dt.timezone.utc))

    def states(self, campaign: str) -> Counter[str]:
        with Ledger.open(self.root) as ledger:
            return Counter(d.state for d in ledger.deliveries(campaign).values())

    def received(self) -> Counter[tuple[str, str]]:
        """(campaign, key) -> how many times the sink received that draft's message."""
        new = self.handler.maildir / "new"
        counts: Counter[tuple[str, str]] = Counter()
        for path in sorted(new.iterdir()) if new.exists() else []:
            counts[self.message_ids[str(parse_message(path.read_bytes())["Message-ID"])]] += 1
        return counts

    def close(self) -> None:
        for ledger in self._ledgers:
            ledger.close()


@pytest.fixture
def kit(tmp_path: Path):
    handler = HookedHandler(tmp_path / "maildir")
    sink = SmtpSink(None, port=0, handler=handler).start()
    box = MailKit(tmp_path / "work", handler, sink)
    try:
        yield box
    finally:
        box.close()
        sink.stop()


MailKit.letters = staticmethod(letters)  # tests reach the helpers through the fixture, not by importing conftest
MailKit.Letter = Letter
