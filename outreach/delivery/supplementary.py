"""Nobody ends with no letter: whoever the e-mail did not reach gets the letter on paper.

A delivery that bounced, or that every server refused for good at send time (failed with a 5xx),
moves to the paper channel (``Ledger.reprint``: printed) and its approved letter goes into the
campaign's supplementary bundle ``print/ban-in-bo-sung-<campaign>.pdf``, with a sheet of address
labels beside it (``print/nhan-dia-chi-bo-sung-<campaign>.pdf``). The bundle holds every such
letter not posted yet, so it is written again whenever one is added (or the file is missing: a
rebuild clears ``print/``); posting is recorded as for any printed letter (``outreach posted``).
Each one's list row (file, row, column) is reported, so the address can be corrected.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..errors import UserError
from ..outbox import Draft, read_manifest, write_address_labels, write_bundle
from ..workspace import Workspace
from .ledger import Delivery, Ledger, State, utc_now

if TYPE_CHECKING:  # the recipients stage reads lists with pandas: imported when a supplement is written
    from ..recipients import Recipient

EMAIL_COLUMN = "Email"  # the canonical header of the addresses (DESIGN.md: Email, E-mail, Thư điện tử)


@dataclass(frozen=True)
class Correction:
    """A list row whose addresses did not work: where to correct it, and why."""

    key: str
    name: str
    file: str
    row: int
    column: str
    addresses: tuple[str, ...]
    reason: str  # Vietnamese: the notification's status and words, or the server's refusal

    @property
    def line(self) -> str:
        where = f"{Path(self.file).name or '(không rõ tệp)'}, dòng {self.row or '?'}, cột {self.column}"
        return f"{where}: {self.name} ({self.key}), {', '.join(self.addresses)} — {self.reason}"


@dataclass
class Supplement:
    campaign: str
    bundle: str = ""  # the supplementary bundle, relative to the working folder ("" if none was written)
    labels: str = ""
    added: list[str] = field(default_factory=list)  # keys put on paper by this run
    letters: list[str] = field(default_factory=list)  # every key in the bundle
    corrections: list[Correction] = field(default_factory=list)  # of the keys added
    problems: list[str] = field(default_factory=list)  # letters that could not go in (Vietnamese), for a person


def needs_paper(delivery: Delivery) -> bool:
    """Bounced, or refused for good by the server at send time (a 5xx): the e-mail reached no one."""
    permanent = delivery.code is not None and 500 <= delivery.code < 600
    return delivery.state == State.BOUNCED or (delivery.state == State.FAILED and permanent)


def supplement(config: Config, ledger: Ledger, campaign: str, *, converter=None,
               clock=utc_now) -> Supplement | None:
    """Put on paper what the e-mail did not reach; None when the bundle has nothing new to say. A
    letter whose file is missing or no longer what was e-mailed stays out, and is said in ``problems``."""
    workspace = Workspace(config.root)
    manifest = read_manifest(config.root, campaign)
    deliveries = ledger.deliveries(campaign)
    target = workspace.supplementary_bundle(campaign)
    where = workspace.relative(target)
    added = [d for d in manifest.drafts if (x := deliveries.get(d.key)) is not None and needs_paper(x)]
    held = [d for d in manifest.drafts if (x := deliveries.get(d.key)) is not None
            and x.state == State.PRINTED and x.where == where]
    if not added and (target.exists() or not held):
        return None
    pdfs: dict[str, bytes] = {}
    problems = []
    for draft in (d for d in manifest.drafts if d in added or d in held):
        found = _letter(config.root, draft, deliveries[draft.key])
        if isinstance(found, str):
            problems.append(found)
        else:
            pdfs[draft.key] = found
    added = [d for d in added if d.key in pdfs]
    letters = [d for d in manifest.drafts if d.key in pdfs]
    result = Supplement(campaign, problems=problems)
    if not letters or (not added and target.exists()):
        return result
    recipients = _recipients(config, campaign, letters)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bundle([pdfs[d.key] for d in letters], target)
    labels = _labels(workspace.supplementary_labels(campaign), [recipients[d.key] for d in letters], converter)
    ledger.reprint(campaign, [d.key for d in added], where, clock())  # once the letters are in the bundle
    result.bundle, result.labels = where, workspace.relative(labels)
    result.added, result.letters = [d.key for d in added], [d.key for d in letters]
    result.corrections = [_correction(recipients[d.key], d, deliveries[d.key]) for d in added]
    return result


def _letter(root: Path, draft: Draft, delivery: Delivery) -> bytes | str:
    """The letter as it was e-mailed (its sha256 recorded when it was handed to the server), or why
    it cannot go into the bundle (Vietnamese)."""
    path = draft.path(root, "letter.pdf")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return (f"Không tìm thấy {path} để in bản giấy bổ sung cho {draft.key} ({draft.name}). Cách sửa: chạy lại "
                "'outreach build' cho chiến dịch (thư đã gửi giữ nguyên), rồi chạy lại 'outreach collect'.")
    sent = delivery.file_hashes.get("letter.pdf")
    if sent and hashlib.sha256(data).hexdigest() != sent:
        return (f"{path} không còn là công văn đã gửi qua e-mail cho {draft.key} ({draft.name}): tệp đã thay đổi "
                f"sau khi gửi (sha256 lúc gửi {sent[:16]}…), nên không được in thay. Cách sửa: lấy công văn từ bản "
                "lưu trong approved/ hoặc xem lại bản thảo, rồi in và gửi bưu điện riêng.")
    return data


def _recipients(config: Config, campaign: str, drafts: list[Draft]) -> dict[str, Recipient]:
    """The list rows of these drafts (their postal address for the labels); the draft's own name and
    row where the list cannot be read any more."""
    from ..recipients import Recipient

    found: dict[str, Recipient] = {}
    if campaign in config.campaigns:
        from ..outbox import load_campaign_recipients

        try:
            lists = load_campaign_recipients(config, config.campaigns[campaign])
        except UserError:
            lists = []
        found = {r.key: r for listed in lists for r in listed.recipients}
    return {d.key: found.get(d.key) or Recipient(d.audience, d.code, d.name, d.to, source_file=d.source_file,
                                                   source_row=d.source_row) for d in drafts}


def _labels(target: Path, recipients: list[Recipient], converter) -> Path:
    from ..convert import ConversionJob, PdfConverter

    with tempfile.TemporaryDirectory(prefix="nhan-") as folder:
        docx = Path(folder) / "nhan-dia-chi.docx"
        write_address_labels(docx, recipients)
        (result,) = (converter or PdfConverter()).convert([ConversionJob("labels", docx, target)])
    if result.pdf is None:
        raise UserError(f"Không tạo được nhãn địa chỉ cho bản in bổ sung: {result.error}")
    return target


def _correction(recipient: Recipient, draft: Draft, delivery: Delivery) -> Correction:
    if delivery.state == State.BOUNCED:
        reason = delivery.last_error
    else:
        reason = f"máy chủ từ chối ({delivery.where}: {delivery.code} {delivery.reply})"
    return Correction(draft.key, draft.name, recipient.source_file or draft.source_file,
                      recipient.source_row or draft.source_row, EMAIL_COLUMN, delivery.to or draft.to,
                      f"{reason}. Cách sửa: sửa hoặc xóa địa chỉ trong danh sách; thư lần này đã chuyển sang bản giấy.")

