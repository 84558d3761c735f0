"""A campaign's own recipient lists, and every version of them staff accepted.

Layout (under the working folder; docs/DESIGN.md, "A campaign's own lists")::

    recipients/<campaign>/<audience>.xlsx (or .csv)     the list the campaign's build reads
    recipients/<campaign>/versions/<n>-<audience>.xlsx  every accepted version, never overwritten
    recipients/<campaign>/versions/log.json             who accepted which version, when
    recipients/<campaign>/.pending/<token>/<file>       an upload shown for checking, not yet accepted

A campaign without its own file for an audience reads ``[audiences.X] files`` as before, so taking
a list into one campaign changes no other campaign's letters.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from ..accounts import Actor
from ..config import Campaign, Config
from ..errors import UserError
from ..text import fold_diacritics
from ..workspace import Workspace

LIST_SUFFIXES = (".xlsx", ".csv")
PENDING_KEPT_S = 24 * 3600  # an upload nobody accepted within a day is abandoned
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def own_list(workspace: Workspace, campaign: str, audience: str) -> Path | None:
    """The campaign's own list of ``audience``, or None when it reads the shared one."""
    folder = workspace.campaign_lists(campaign)
    found = [folder / f"{audience}{suffix}" for suffix in LIST_SUFFIXES if (folder / f"{audience}{suffix}").is_file()]
    if len(found) > 1:
        names = " và ".join(workspace.relative(path) for path in found)
        raise UserError(f"Chiến dịch {campaign} có hai danh sách cho cùng một nhóm nhận: {names}. "
                        "Cách sửa: giữ một tệp, xóa (hoặc đổi tên) tệp kia.")
    return found[0] if found else None


def campaign_list_files(config: Config, campaign: Campaign, audience: str) -> tuple[Path, ...]:
    """What a build of ``campaign`` reads for ``audience``: its own list, else ``[audiences.X] files``."""
    own = own_list(config.workspace, campaign.name, audience)
    return (own,) if own is not None else config.audiences[audience].files


@dataclass(frozen=True)
class ListVersion:
    number: int
    audience: str
    file: str  # relative to the working folder: recipients/<campaign>/versions/<n>-<audience>.xlsx
    uploaded_name: str  # as the person's computer called it (shown only, never used as a path)
    sha256: str
    by: str
    login: str
    source: str
    at: str  # ISO 8601, UTC
    rows: int
    valid: int
    rejected: int


@dataclass(frozen=True)
class PendingUpload:
    token: str
    audience: str
    path: Path
    uploaded_name: str  # as the person's computer called it: shown, never a path


def _base_name(name: str) -> str:
    return unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()[:120]


def safe_upload_name(name: str) -> tuple[str, str]:
    """An uploaded file's name made harmless (no folders, no dots in front), and its suffix;
    anything but .xlsx and .csv is refused."""
    base = _base_name(name)
    suffix = Path(base).suffix.lower()
    if suffix not in LIST_SUFFIXES:
        raise UserError(f"Tệp «{base or name}» không phải danh sách Excel (.xlsx) hay CSV (.csv). "
                        "Cách sửa: lưu danh sách dạng Excel Workbook (.xlsx) hoặc CSV UTF-8 rồi tải lên lại.")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", fold_diacritics(Path(base).stem)).strip("-")[:60] or "danh-sach"
    return f"{stem}{suffix}", suffix


class CampaignLists:
    """The uploads and accepted versions of one campaign's lists."""

    def __init__(self, workspace: Workspace, campaign: str) -> None:
        self.workspace, self.campaign = workspace, campaign
        self.folder = workspace.campaign_lists(campaign)
        self.versions_folder = self.folder / "versions"
        self.log_file = self.versions_folder / "log.json"
        self.pending_folder = self.folder / ".pending"

    def versions(self) -> list[ListVersion]:
        """Every accepted version, newest first."""
        try:
            entries = json.loads(self.log_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return sorted((ListVersion(**entry) for entry in entries), key=lambda v: v.number, reverse=True)

    def stage(self, audience: str, uploaded_name: str, data: bytes) -> PendingUpload:
        """Keep an upload aside to be checked; the campaign still reads what it read before."""
        name, _ = safe_upload_name(uploaded_name)
        self._forget_abandoned()
        token = secrets.token_hex(16)
        folder = self.pending_folder / token
        folder.mkdir(parents=True)
        (folder / "audience").write_text(audience, encoding="utf-8")
        (folder / "uploaded-name").write_text(_base_name(uploaded_name), encoding="utf-8")
        (folder / name).write_bytes(data)
        return PendingUpload(token, audience, folder / name, _base_name(uploaded_name))

    def pending(self, token: str) -> PendingUpload:
        folder = self.pending_folder / token
        files = [p for p in folder.iterdir() if p.suffix in LIST_SUFFIXES] if _TOKEN.match(token) and folder.is_dir() else []
        if len(files) != 1:
            raise UserError("Tệp tải lên này không còn (đã được nhận, đã bỏ, hoặc quá một ngày). "
                            "Cách sửa: tải danh sách lên lại.")
        return PendingUpload(token, (folder / "audience").read_text(encoding="utf-8"), files[0],
                             (folder / "uploaded-name").read_text(encoding="utf-8"))

    def discard(self, token: str) -> None:
        shutil.rmtree(self.pending(token).path.parent)

    def accept(self, token: str, by: Actor, counts: tuple[int, int, int]) -> ListVersion:
        """The pending upload becomes the campaign's list of its audience and a new numbered version
        (``counts``: rows, valid, rejected, as its report showed them)."""
        upload = self.pending(token)
        data = upload.path.read_bytes()
        suffix = upload.path.suffix
        self.versions_folder.mkdir(parents=True, exist_ok=True)
        with open(self.versions_folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two people accepting at once get two numbers
            versions = self.versions()
            # A file a stopped accept left without its log entry keeps its number too.
            numbers = [v.number for v in versions] + [int(p.name.split("-", 1)[0]) for p in self.versions_folder.iterdir()
                                                      if p.name.split("-", 1)[0].isdigit()]
            number = max(numbers, default=0) + 1
            kept = self.versions_folder / f"{number}-{upload.audience}{suffix}"
            with open(kept, "xb") as out:  # a version is evidence: never written over
                out.write(data)
            current = self.folder / f"{upload.audience}{suffix}"
            staged = current.with_name(f".{current.name}.new")
            staged.write_bytes(data)
            os.replace(staged, current)
            for other in LIST_SUFFIXES:  # an .xlsx replaced by a .csv: one list per audience
                if other != suffix:
                    (self.folder / f"{upload.audience}{other}").unlink(missing_ok=True)
            rows, valid, rejected = counts
            version = ListVersion(
                number=number, audience=upload.audience, file=self.workspace.relative(kept),
                uploaded_name=upload.uploaded_name, sha256=hashlib.sha256(data).hexdigest(), by=by.name,
                login=by.login, source=by.source, at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                rows=rows, valid=valid, rejected=rejected)
            entries = [asdict(v) for v in sorted((*versions, version), key=lambda v: v.number)]
            staged_log = self.log_file.with_name(".log.json.new")
            staged_log.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(staged_log, self.log_file)
        shutil.rmtree(upload.path.parent)
        return version

    def _forget_abandoned(self) -> None:
        if not self.pending_folder.is_dir():
            return
        for folder in self.pending_folder.iterdir():
            if folder.stat().st_mtime < time.time() - PENDING_KEPT_S:
                shutil.rmtree(folder, ignore_errors=True)
