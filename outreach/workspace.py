"""The working folder: one office's config.toml, templates/, recipients/ and outbox/.

:class:`Workspace` is the one place that knows where things live under the working folder; every
stage asks it for a path instead of joining ``"outbox"`` by hand, so the layout has one source.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

CONFIG_NAME = "config.toml"
# The repository root is itself the sample working folder that `outreach init` copies.
SAMPLE_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ITEMS = (CONFIG_NAME, "templates", "recipients")
OUTBOX = "outbox"
MANIFEST_NAME = "manifest.json"
DELIVERY_REPORT_NAME = "bao-cao-gui-thu.xlsx"
# A reminder is a campaign of its own, named after the letter it follows ("vssid-2022~nhac-1"), its
# drafts inside that letter's folder, so approval and the exactly-once sending apply unchanged.
REMINDER_SEPARATOR = "~"


def letter_campaign(campaign: str) -> str:
    """The campaign whose letter a campaign's messages are about: itself, or a reminder's parent."""
    return campaign.split(REMINDER_SEPARATOR, 1)[0]


def send_lock_name(campaign: str) -> str:
    return f".send-{campaign}.lock"


@dataclass(frozen=True)
class CampaignEmail:
    subject: Path
    text: Path
    html: Path


@dataclass(frozen=True)
class Workspace:
    """Every path under one working folder (see docs/DESIGN.md, "Outbox layout")."""

    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def outbox(self) -> Path:
        return self.root / OUTBOX

    @property
    def ledger(self) -> Path:
        return self.outbox / "ledger.sqlite"

    @property
    def register(self) -> Path:
        return self.outbox / "register.sqlite"

    @property
    def accounts(self) -> Path:
        """Staff accounts, roles and open web sessions (outreach.accounts)."""
        return self.outbox / "accounts.sqlite"

    @property
    def smtp_sink(self) -> Path:
        return self.outbox / "smtp-sink"

    @property
    def preview_cache(self) -> Path:
        return self.outbox / ".preview-cache"

    @property
    def template_proposals(self) -> Path:
        """Word letters uploaded in the templates page, by sha256, until a template is saved from one."""
        return self.outbox / ".template-proposals"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def campaign_email(self, campaign: str) -> CampaignEmail:
        """A campaign's own e-mail, written by the templates page: it replaces config.toml's for that
        campaign only (config reads it), so editing one campaign's e-mail never changes another's."""
        folder = self.templates / campaign
        return CampaignEmail(folder / "email-subject.txt", folder / "email.txt.j2", folder / "email.html.j2")

    def campaign(self, name: str) -> Path:
        """A reminder's campaign (``vssid-2022~nhac-1``) lives inside its letter's: ``vssid-2022/nhac-1``."""
        return self.outbox.joinpath(*name.split(REMINDER_SEPARATOR, 1))

    def manifest(self, campaign: str) -> Path:
        return self.campaign(campaign) / MANIFEST_NAME

    def attachments(self, campaign: str) -> Path:
        return self.campaign(campaign) / "attachments"

    def print_folder(self, campaign: str) -> Path:
        """The build's preview of what goes on paper (every letter without e-mail, approved or not)."""
        return self.campaign(campaign) / "print"

    def delivery_report(self, campaign: str) -> Path:
        return self.campaign(campaign) / DELIVERY_REPORT_NAME

    def draft_folder(self, campaign: str, audience: str, code: str) -> Path:
        return self.campaign(campaign) / audience / code

    def approved_copy(self, campaign: str, audience: str, code: str, sha256: str, suffix: str = ".eml") -> Path:
        """Where the exact approved bytes of one payload are kept (``.eml``, ``.pdf`` on paper), never overwritten."""
        return self.campaign(campaign) / "approved" / audience / f"{code}-{sha256[:16]}{suffix}"

    def inbound_copy(self, campaign: str, audience: str, code: str, sha256: str) -> Path:
        """Where the raw bytes of a bounce or reply to one draft's message are kept, never overwritten."""
        return self.campaign(campaign) / "inbound" / audience / f"{code}-{sha256[:16]}.eml"

    def supplementary_bundle(self, campaign: str) -> Path:
        """Letters the e-mail did not reach (bounced, refused for good), to print and post."""
        return self.print_folder(campaign) / f"ban-in-bo-sung-{campaign}.pdf"

    def supplementary_labels(self, campaign: str) -> Path:
        """The envelopes' address labels of the supplementary bundle."""
        return self.print_folder(campaign) / f"nhan-dia-chi-bo-sung-{campaign}.pdf"

    def supplementary_files(self, campaign: str) -> tuple[Path, Path]:
        """What `collect` keeps in the print folder: a build's new preview replaces everything else there."""
        return self.supplementary_bundle(campaign), self.supplementary_labels(campaign)

    @property
    def return_path_key(self) -> Path:
        """The secret the return-path tokens are keyed with: nobody can forge a bounce for a delivery."""
        return self.outbox / ".return-path.key"

    def paper_bundles(self, campaign: str) -> Path:
        """The paper channel's print bundles: approved letters only, each bundle written once and kept."""
        return self.campaign(campaign) / "paper"

    def sign_lock(self, campaign: str) -> Path:
        """Held by the one `outreach sign` of a campaign: two would sign the same letters at once."""
        return self.outbox / f".sign-{campaign}.lock"

    def send_lock(self, campaign: str) -> Path:
        """Held by the one `send` of a campaign; the web page reads it to show a send is running."""
        return self.outbox / send_lock_name(campaign)

    @property
    def collect_lock(self) -> Path:
        """Held by the one `outreach collect` (or scheduler tick) reading the mailboxes: two would
        read the same new messages and copy them twice into the processed folder."""
        return self.outbox / ".collect.lock"

    @property
    def scheduler_lock(self) -> Path:
        """Held by the running `outreach run`, so the pages can say whether the schedule is kept."""
        return self.outbox / ".scheduler.lock"

    @property
    def scheduler_state(self) -> Path:
        """What the running `outreach run` last did and when it looks next (JSON, rewritten each tick)."""
        return self.outbox / ".scheduler.json"

    @property
    def recipients(self) -> Path:
        return self.root / "recipients"

    def campaign_lists(self, campaign: str) -> Path:
        """A campaign's own recipient lists (``<audience>.xlsx|.csv``) and their ``versions/``; a
        reminder reads its letter's."""
        return self.recipients / letter_campaign(campaign)

    @property
    def campaign_files(self) -> Path:
        """``campaigns/<name>.toml``: campaigns made in the browser, read like config.toml's."""
        return self.root / "campaigns"

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


@contextlib.contextmanager
def held_alone(path: Path, refusal: Callable[[str], Exception]) -> Iterator[None]:
    """Hold an flock on ``path`` (released by the kernel however the process ends) while inside; when
    another process holds it, raise ``refusal(what it wrote: "pid N")`` at once, never wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise refusal(handle.read().strip()) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_held(path: Path) -> bool:
    """True while some process holds an flock on ``path``.

    Read from /proc/locks, so the asker never takes the lock itself (a process starting to take it
    at that instant would be refused).
    """
    try:
        stat = path.stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return False
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    return any(line.split()[1:2] == ["FLOCK"] and device in line.split() for line in table.splitlines())


def find_root(explicit: Path | None, start: Path | None = None) -> Path:
    """``--root DIR`` if given, else the nearest folder upwards from ``start`` holding config.toml."""
    if explicit is not None:
        root = explicit.expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise UserError(
                f"Thư mục {root} không có {CONFIG_NAME}. "
                f"Cách sửa: kiểm tra lại --root, hoặc tạo thư mục làm việc bằng 'outreach init {root}'."
            )
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise UserError(
        f"Không tìm thấy {CONFIG_NAME} ở {here} hay các thư mục cha. "
        "Cách sửa: chuyển vào thư mục làm việc, dùng --root THƯ_MỤC, hoặc tạo mới bằng 'outreach init THƯ_MỤC'."
    )


def init_workspace(target: Path) -> list[Path]:
    """Create a new working folder with the sample config, templates and lists; refuses to overwrite."""
    target = target.expanduser().resolve()
    if (target / CONFIG_NAME).exists():
        raise UserError(f"{target} đã là thư mục làm việc (có {CONFIG_NAME}); không ghi đè. Cách sửa: chọn thư mục khác.")
    missing = [item for item in SAMPLE_ITEMS if not (SAMPLE_ROOT / item).exists()]
    if missing:
        raise UserError(
            "Không tìm thấy mẫu để tạo thư mục làm việc (" + ", ".join(missing) + "). "
            "Cách sửa: cài outreach từ mã nguồn bằng 'pip install -e .'."
        )
    target.mkdir(parents=True, exist_ok=True)
    created = []
    for item in SAMPLE_ITEMS:
        source, destination = SAMPLE_ROOT / item, target / item
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            shutil.copy2(source, destination)
        created.append(destination)
    outbox = Workspace(target).outbox
    outbox.mkdir(exist_ok=True)
    created.append(outbox)
    return created
