"""The outbox manifest: what `build` produced for one campaign, read by approval and delivery.

``outbox/<campaign>/manifest.json`` lists every draft with the sha256 of each file, so that
approval can bind to exact bytes and delivery can refuse anything changed since.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import Counter
from functools import cached_property
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import UserError
from ..workspace import Workspace


class Skip(StrEnum):
    """Why a send run left a message as it was: what code decides on; the sentence is for people."""

    NO_SENDER = "no_sender"  # its sender is not in config.toml
    NO_CHANNEL = "no_channel"  # no messenger for its channel in this run
    RETRY_LATER = "retry_later"  # its next attempt is not due yet
    QUOTA = "quota"  # the sender's daily quota is used up
    UNREACHABLE = "unreachable"  # the sender's mail server could not be reached
    STOPPED = "stopped"  # the run stopped before it (SendReport.stop says why)
    MISSING = "missing"  # its payload (message.eml, letter.pdf) is gone
    CHANGED = "changed"  # its payload is not the approved bytes
    RECIPIENTS = "recipients"  # its channel cannot address the approved payload (recipients differ from the manifest's)


# A later run sends these without anyone's help; any other skip waits for a person.
SENT_LATER = frozenset({Skip.RETRY_LATER, Skip.QUOTA, Skip.UNREACHABLE, Skip.STOPPED})


class Stop(StrEnum):
    """Why a send run stopped before its last message."""

    REQUESTED = "requested"  # someone asked (SIGTERM, Ctrl-C)
    WINDOW_CLOSED = "window_closed"  # the sender's sending window closed
    EXPIRED = "expired"  # the campaign expired: what is left is never sent
    NOT_YET_OPEN = "not_yet_open"  # before the campaign's not_before


class Channel(StrEnum):
    """How a draft reaches its recipient; each has its own payload, the file approval binds to."""

    EMAIL = "email"  # message.eml, handed to the sender's SMTP server
    PAPER = "paper"  # letter.pdf, printed in a bundle and posted by a person


PAYLOADS: dict[str, str] = {Channel.EMAIL: "message.eml", Channel.PAPER: "letter.pdf"}
CHANNEL_LABELS: dict[str, str] = {Channel.EMAIL: "E-mail", Channel.PAPER: "Bản giấy"}


@dataclass(frozen=True)
class Halt:
    """A reason to stop before the next message, with the sentence staff read."""

    reason: Stop
    message: str  # Vietnamese


@dataclass(frozen=True)
class DraftProblem:
    """Why one recipient's draft was not built, or its message not sent this time."""

    key: str
    name: str
    message: str  # Vietnamese
    reason: Skip | None = None  # set on a message skipped by a send run


@dataclass(frozen=True)
class DraftFile:
    name: str  # relative to the draft folder, e.g. "letter.pdf"
    sha256: str
    pages: int = 0


@dataclass(frozen=True)
class Draft:
    campaign: str
    audience: str
    code: str
    name: str  # the recipient's name as written in the letter
    to: tuple[str, ...]  # empty: no usable e-mail, the letter goes to the print bundle
    cc: tuple[str, ...]
    sender: str  # code of the department or district office that sends it
    district: str
    folder: str  # relative to the working folder: outbox/<campaign>/<audience>/<code>
    files: tuple[DraftFile, ...]
    message_sha256: str  # sha256 of message.eml ("" when there is no message)
    source_file: str = ""
    source_row: int = 0
    # "" derives it: no usable e-mail goes on paper (and manifests written before channels read so).
    channel: str = ""

    def __post_init__(self) -> None:
        if not self.channel:
            object.__setattr__(self, "channel", Channel.EMAIL if self.to else Channel.PAPER)

    @property
    def key(self) -> str:
        return f"{self.audience}/{self.code}"

    @property
    def payload(self) -> str:
        """The file its channel is handed and approval binds to: message.eml, or letter.pdf on paper."""
        return PAYLOADS.get(self.channel, "")

    @property
    def payload_sha256(self) -> str:
        """The sha256 of the payload at build time ("" when there is none)."""
        return next((f.sha256 for f in self.files if f.name == self.payload), "")

    def path(self, root: Path, name: str) -> Path:
        return root / self.folder / name

    def eml_path(self, root: Path) -> Path:
        return self.path(root, "message.eml")

    def skipped(self, reason: Skip, message: str) -> DraftProblem:
        return DraftProblem(self.key, self.name, message, reason)

    def matches_disk(self, root: Path) -> bool:
        """Whether every recorded file has on disk exactly the bytes recorded, and there is no
        message.eml where none is recorded: a build stopped between replacing a draft's files and
        writing the manifest leaves a record that does not, and must not keep it."""
        recorded = {f.name: f.sha256 for f in self.files}
        if recorded.get("message.eml", "") != self.message_sha256:
            return False
        if not self.message_sha256 and self.eml_path(root).exists():
            return False
        return all(self.path(root, name).is_file() and sha256_file(self.path(root, name)) == sha
                   for name, sha in recorded.items())


@dataclass(frozen=True)
class RejectedRow:
    """A row of a list that validation refused: it has no letter, and the campaign still counts it."""

    file: str
    row: int
    reason: str
    audience: str = ""  # empty in manifests written before it was recorded


@dataclass(frozen=True)
class Manifest:
    campaign: str
    document_number: str  # "05/BHXH-QLT", or "" for an unnumbered draft
    built_at: str
    drafts: tuple[Draft, ...]
    rejected: tuple[dict[str, str], ...] = field(default_factory=tuple)  # rows not built, with reasons
    attachments: tuple[DraftFile, ...] = ()

    @property
    def numbered(self) -> bool:
        """Whether the letter has its number from the register (a draft reads ``     /BHXH-QLT``)."""
        number = self.document_number.strip()
        return bool(number) and not number.startswith("/")

    @property
    def rejected_rows(self) -> tuple[RejectedRow, ...]:
        """The rows validation refused (``rejected`` also lists drafts that failed, by key)."""
        return tuple(RejectedRow(item.get("file", ""), int(item["row"]), item.get("reason", ""), item.get("audience", ""))
                     for item in self.rejected if "row" in item)

    def usual_pages(self) -> dict[str, int]:
        """The most common letter length of each audience: a longer letter often hides an overflow."""
        return usual_pages(self.drafts)

    def draft(self, key: str) -> Draft:
        """The draft of a key (``employers/YK34396``) or a code (the first draft with it)."""
        found = self._index.get(key)
        if found is None:
            raise UserError(f"Chiến dịch {self.campaign} không có bản thảo cho người nhận '{key}'.")
        return found

    @cached_property
    def _index(self) -> dict[str, Draft]:
        index: dict[str, Draft] = {}
        for draft in self.drafts:
            index.setdefault(draft.code, draft)
        return index | {draft.key: draft for draft in self.drafts}  # a key has a "/", a code never


def letter_pages(draft: Draft) -> int:
    return next((f.pages for f in draft.files if f.name == "letter.pdf"), 0)


def usual_pages(drafts: Sequence[Draft]) -> dict[str, int]:
    counts: dict[str, Counter[int]] = {}
    for draft in drafts:
        counts.setdefault(draft.audience, Counter())[letter_pages(draft)] += 1
    return {audience: counter.most_common(1)[0][0] for audience, counter in counts.items()}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(root: Path, manifest: Manifest) -> Path:
    """Write atomically, so a crash never leaves a half-written manifest."""
    path = Workspace(root).manifest(manifest.campaign)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        # Streamed to the file: for 10,000 drafts, one string of it all cost ~60 MB at its peak.
        handle.writelines(_manifest_lines(manifest))
    os.replace(temporary, path)
    return path


def _manifest_lines(manifest: Manifest) -> Iterator[str]:
    """The manifest as JSON, one draft a line. json's C encoder writes each line: with ``indent``
    json uses its pure-Python encoder, 5x slower for 10,000 drafts, and a build rewrites its
    manifest every few seconds."""
    def encode(value: object) -> str:
        return json.dumps(value, default=vars, ensure_ascii=False)  # a dataclass as its fields

    yield "{\n"
    for item in fields(Manifest):
        if item.name != "drafts":
            yield f" {encode(item.name)}: {encode(getattr(manifest, item.name))},\n"
    yield ' "drafts": [\n'
    for number, draft in enumerate(manifest.drafts):
        yield ("  " if number == 0 else ", ") + encode(draft) + "\n"
    yield " ]\n}\n"


class ManifestCache:
    """Manifests kept in memory and read again only when the file changed (mtime and size): the
    scheduler ticks once a minute and the web page reads on every click, over manifests of 50,000
    drafts. Safe to share between the web server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[tuple[int, int], Manifest]] = {}

    def get(self, root: Path, campaign: str) -> Manifest | None:
        """The campaign's manifest, or None when it was never built."""
        path = Workspace(root).manifest(campaign)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._entries.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        manifest = read_manifest(root, campaign)
        with self._lock:
            self._entries[path] = (stamp, manifest)
        return manifest


def read_manifest(root: Path, campaign: str) -> Manifest:
    path = Workspace(root).manifest(campaign)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"Chiến dịch {campaign} chưa được tạo bản thảo. Cách sửa: chạy 'outreach build {campaign}' trước."
        ) from None
    except (UnicodeDecodeError, ValueError) as error:
        raise _damaged(path, campaign, error) from None
    try:
        drafts = tuple(
            Draft(**{**d, "to": tuple(d["to"]), "cc": tuple(d["cc"]),
                     "files": tuple(DraftFile(**f) for f in d["files"])})
            for d in data["drafts"]
        )
        return Manifest(
            campaign=data["campaign"],
            document_number=data["document_number"],
            built_at=data["built_at"],
            drafts=drafts,
            rejected=tuple(data.get("rejected", ())),
            attachments=tuple(DraftFile(**f) for f in data.get("attachments", ())),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise _damaged(path, campaign, error) from None


def _damaged(path: Path, campaign: str, error: Exception) -> UserError:
    # The manifest is only ever written whole (write_manifest): a damaged one was edited or copied badly.
    return UserError(f"{path}: tệp danh sách bản thảo bị hỏng ({type(error).__name__}: {error}). Cách sửa: "
                     f"chạy lại 'outreach build {campaign}'; bản thảo đã gửi và sổ theo dõi không bị ảnh hưởng.")
