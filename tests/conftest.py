"""The scheduler's test kit (fixture ``kit``): a working folder with several campaigns built by
``factories.write_drafts`` (the one way the tests fake a build), config.toml data with campaigns and
senders, and a real aiosmtpd sink on loopback.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from outreach.config import Config, parse_config
from outreach.delivery import Ledger, MaildirHandler, SmtpSink, approve
from outreach.outbox.manifest import Manifest
from outreach.outbox.messages import parse_message
from factories import OFFICE, SENDERS, Recipient, write_drafts

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


def letters(audience: str, count: int, sender: str, prefix: str = "") -> list[Recipient]:
    """``count`` recipients of one audience sent by ``sender``; codes are unique per prefix."""
    kind = {"employers": "TA", "communes": "", "collection_agents": "DL"}[audience]
    codes = [f"{prefix}{kind}{index:05d}" for index in range(1, count + 1)]
    return [Recipient(audience, code, f"Người nhận {prefix}{index}", (f"{code.lower()}@example.vn",), sender=sender)
            for index, code in enumerate(codes, 1)]


def base_config(port: int) -> dict:
    fast = {"windows": ["08:00-11:00"], "batch_size": 3, "messages_per_minute": 6000, "daily_quota": 1000}
    return {
        **OFFICE,
        "smtp": {"sink": {"host": "127.0.0.1", "port": port, "security": "none", "timeout_s": 5}},
        "departments": {
            "QLT": {"name": "Phòng Quản lý thu", "sender": SENDERS["QLT"][0], "sender_name": SENDERS["QLT"][1],
                    "audiences": ["employers"], "smtp": "sink", "schedule": dict(fast)},
            "TTPT": {"name": "Phòng Truyền thông", "sender": SENDERS["TTPT"][0],
                     "sender_name": SENDERS["TTPT"][1], "audiences": ["collection_agents", "communes"],
                     "smtp": "sink", "schedule": {**fast, "windows": ["13:30-16:30"]}},
        },
        "district_offices": {
            "NT": {"name": "BHXH thành phố Nha Trang", "sender": SENDERS["NT"][0],
                   "sender_name": SENDERS["NT"][1], "district": "Thành phố Nha Trang",
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

    def add_campaign(self, name: str, recipients: list[Recipient], *, not_before: dt.datetime | None = None,
                     expires: dt.datetime | None = None) -> Manifest:
        entry: dict = {"title": f"Chiến dịch {name}", "subject": "đôn đốc tham gia BHXH tự nguyện",
                       "drafting_unit": "QLT", "template": "templates/cong-van.docx"}
        if not_before is not None:
            entry["not_before"] = not_before
        if expires is not None:
            entry["expires"] = expires
        self.data["campaigns"][name] = entry
        manifest = write_drafts(self.root, name, recipients, subject=f"V/v {name}", with_letter=False,
                                issued_at="2023-01-02T08:00:00+07:00")
        for draft in manifest.drafts:
            self.message_ids[str(parse_message(draft.eml_path(self.root).read_bytes())["Message-ID"])] = (name, draft.key)
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
