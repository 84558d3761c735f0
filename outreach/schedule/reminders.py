"""`outreach remind CAMPAIGN`: the reminders of a campaign's letter, built as drafts of their own.

A campaign's ``reminders = [{ after_working_days = 5, text = "templates/nhac.txt.j2" }]`` are each a
campaign of their own (``vssid-2022~nhac-1``, drafts in ``outbox/vssid-2022/nhac-1/``; see
:class:`outreach.config.Reminder`), so preview, approval, the exactly-once send in the sender's
windows and the campaign's expiry apply to them unchanged: this module only writes their drafts
and manifest. Who gets reminder N:

* the letter went out by e-mail (``sent``), and its recipient has not answered
  (:meth:`Ledger.answered_keys`: confirmed receipt, or a reply ``collect`` read from the mailboxes);
* ``after_working_days`` working days of the sender's calendar (weekends, Vietnamese holidays, the
  office's days off) have passed since the day it was sent, in the sender's time zone;
* reminder N - 1, if any, was sent to them; the campaign has not expired.

A reminder answers the letter: ``In-Reply-To`` and ``References`` carry the Message-ID the letter
was sent with, its text the letter's number and date, and it attaches the letter's PDF again as it
was sent (from the approved copy). It carries a confirmation link of its own for the same letter.

A run keeps every reminder draft whose inputs did not change (its approval stays), never touches
one handed to a channel, and leaves out one whose recipient has answered meanwhile (the ledger
revokes the approval of such a reminder when the confirmation comes in).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage

from ..config import COPIES, Campaign, Config, Reminder
from ..delivery import Delivery, Ledger, State, approved_copy_path, utc_now
from ..errors import UserError
from ..letters import (
    Register,
    build_context,
    fingerprint,
    render_text_template,
    text_template,
)
from ..outbox import (
    RECEIPT_TOKEN_BYTES,
    Attachment,
    Channel,
    Draft,
    DraftFile,
    DraftProblem,
    Manifest,
    build_message,
    decoded_header,
    load_campaign_recipients,
    message_bytes,
    parse_message,
    read_manifest,
    sha256_file,
    with_receipt_link,
    write_manifest,
)
from ..recipients import Recipient
from .calendar import OfficeCalendar

INPUTS_NAME = "inputs.sha256"
SUBJECT_PREFIX = "Nhắc lại: "


@dataclass
class ReminderReport:
    campaign: str  # the reminder's campaign, e.g. vssid-2022~nhac-1
    after_working_days: int
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # left out: the recipient answered
    not_due: list[str] = field(default_factory=list)  # sent, not answered, the day not come yet
    failed: list[DraftProblem] = field(default_factory=list)
    expired: bool = False

    def as_json(self) -> dict:
        return asdict(self)


def build_reminders(config: Config, name: str, *, now: dt.datetime | None = None) -> list[ReminderReport]:
    """Every reminder of campaign ``name`` due at ``now`` (default: now), as drafts of its own campaign."""
    campaign = config.campaign(name)
    if campaign.reminder is not None:
        raise UserError(f"{name} đã là thư nhắc. Cách sửa: chạy 'outreach remind {campaign.reminder.parent}'.")
    if not campaign.reminders:
        raise UserError(f"Chiến dịch {name} không có thư nhắc. Cách sửa: thêm vào [campaigns.{name}] trong config.toml "
                        'dòng reminders = [{ after_working_days = 5, text = "templates/nhac.txt.j2" }].')
    moment = now or utc_now()
    manifest = read_manifest(config.root, name)
    with Ledger.open(config.root) as ledger:
        return [_Builder(config, campaign, reminder, manifest, ledger, moment).build()
                for reminder in campaign.reminders]


class _Builder:
    def __init__(self, config: Config, parent: Campaign, reminder: Reminder, manifest: Manifest, ledger: Ledger,
                 now: dt.datetime) -> None:
        self.config, self.parent, self.reminder, self.manifest = config, parent, reminder, manifest
        self.ledger, self.now = ledger, now
        self.name = reminder.campaign
        self.report = ReminderReport(self.name, reminder.after_working_days)

    def build(self) -> ReminderReport:
        text_template(self.reminder.text)  # a template that does not parse stops before any draft
        previous = self._previous()
        frozen = self.ledger.evidence_keys(self.name)
        drafts = [previous[key] for key in frozen if key in previous]
        self.report.unchanged += sorted(frozen & set(previous))
        if self.parent.has_expired(self.now):
            self.report.expired = True
        else:
            drafts += self._due_drafts(previous, frozen)
        order = {d.key: index for index, d in enumerate(self.manifest.drafts)}
        drafts.sort(key=lambda d: order.get(d.key, len(order)))
        write_manifest(self.config.root, Manifest(self.name, self.manifest.document_number,
                                                  self.now.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
                                                  tuple(drafts)))
        return self.report

    def _previous(self) -> dict[str, Draft]:
        if not self.config.workspace.manifest(self.name).is_file():
            return {}
        return {d.key: d for d in read_manifest(self.config.root, self.name).drafts}

    def _due_drafts(self, previous: dict[str, Draft], frozen: frozenset[str]) -> list[Draft]:
        letters = self.ledger.deliveries(self.parent.name)
        answered = self.ledger.answered_keys(self.parent.name)
        number = self.reminder.number
        before = self.ledger.deliveries(self.parent.reminders[number - 2].campaign) if number > 1 else None
        recipients = None
        drafts = []
        for letter in self.manifest.drafts:
            delivery = letters.get(letter.key)
            if letter.key in frozen or delivery is None or delivery.state != State.SENT or delivery.channel != Channel.EMAIL:
                continue
            if letter.audience == COPIES:  # a Nơi nhận body has the letter for information: nothing to chase
                continue
            if letter.key in answered:
                self.report.answered.append(letter.key)
                continue
            if before is not None and (letter.key not in before or before[letter.key].state != State.SENT):
                continue
            if not self._due(delivery):
                self.report.not_due.append(letter.key)
                continue
            if recipients is None:  # the lists are read only once someone is due
                recipients = {r.key: r for lst in load_campaign_recipients(self.config, self.parent)
                              for r in lst.recipients}
            recipient = recipients.get(letter.key)
            if recipient is None:
                self.report.failed.append(DraftProblem(letter.key, letter.name,
                                                       "người nhận không còn trong danh sách nên không tạo thư nhắc"))
                continue
            try:
                drafts.append(self._draft(letter, delivery, recipient, previous.get(letter.key)))
            except UserError as error:
                self.report.failed.append(DraftProblem(letter.key, letter.name, error.message))
        return drafts

    def _due(self, delivery: Delivery) -> bool:
        sender = self.config.senders().get(delivery.sender)
        if sender is None or not delivery.sent_at:
            return False
        calendar = OfficeCalendar(sender.schedule)
        sent_on = calendar.local(dt.datetime.fromisoformat(delivery.sent_at)).date()
        return calendar.local(self.now).date() >= calendar.working_days_after(sent_on, self.reminder.after_working_days)

    def _draft(self, letter: Draft, delivery: Delivery, recipient: Recipient, old: Draft | None) -> Draft:
        root = self.config.root
        folder = self.config.workspace.draft_folder(self.name, letter.audience, letter.code)
        sender = self.config.senders()[delivery.sender]
        template = self.reminder.text.read_bytes()
        inputs = hashlib.sha256(b"\0".join([
            template, delivery.message_id.encode(), delivery.message_sha256.encode(),
            fingerprint(sender).encode(), self.config.web.public_url.encode(), *(a.encode() for a in delivery.to),
            b"cc", *(a.encode() for a in delivery.cc)])).hexdigest()
        if old is not None and (folder / INPUTS_NAME).is_file() and (folder / INPUTS_NAME).read_text() == inputs \
                and old.matches_disk(root):
            self.report.unchanged.append(letter.key)
            return old
        original = self._sent_message(letter, delivery)
        entry = Register(self.config.workspace.register).entry_for(self.parent.name)
        context = build_context(self.config, self.parent, recipient, entry.number if entry else None,
                                entry.issued_on if entry else None)
        link = ""
        if self.config.web.public_url:
            token = secrets.token_urlsafe(RECEIPT_TOKEN_BYTES)
            self.ledger.add_receipt_token(token, self.parent.name, letter.key, self.name, utc_now())
            link = self.config.web.receipt_url(token)
        sent_on = dt.datetime.fromisoformat(delivery.sent_at).astimezone(sender.schedule.tz)
        variables = {**context.as_template_vars(), "xac_nhan": link, "ngay_gui": f"{sent_on:%d/%m/%Y}",
                     "lan_nhac": self.reminder.number}
        text = with_receipt_link(render_text_template(self.reminder.text, variables), "", link)[0]
        pdfs = [Attachment(p.get_filename() or "cong-van.pdf", p.get_content(), "application/pdf")
                for p in original.iter_attachments() if p.get_content_type() == "application/pdf"][:1]
        message = build_message(
            sender_name=sender.sender_name, sender=sender.sender, reply_to=sender.reply_to,
            to=delivery.to, cc=delivery.cc, subject=SUBJECT_PREFIX + decoded_header(original, "Subject"),
            text=text, html=_html(text, link), attachments=pdfs, in_reply_to=delivery.message_id)
        data = message_bytes(message)
        staging = folder / ".new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (staging / "message.eml").write_bytes(data)
        with self.ledger.replacing_drafts(self.name) as is_evidence:
            if is_evidence(letter.key):  # sent by another process meanwhile: kept as it was
                shutil.rmtree(staging)
                if old is None:
                    raise UserError("thư nhắc vừa được gửi trong lúc tạo lại; giữ nguyên như đã gửi")
                return old
            (folder / INPUTS_NAME).unlink(missing_ok=True)
            (staging / "message.eml").replace(folder / "message.eml")
            (folder / INPUTS_NAME).write_text(inputs)
            staging.rmdir()
        self.report.built.append(letter.key)
        sha = sha256_file(folder / "message.eml")
        return Draft(campaign=self.name, audience=letter.audience, code=letter.code, name=letter.name,
                     to=delivery.to, cc=delivery.cc, sender=delivery.sender, district=letter.district,
                     folder=str(folder.relative_to(root)), files=(DraftFile("message.eml", sha),),
                     message_sha256=sha, source_file=letter.source_file, source_row=letter.source_row,
                     channel=Channel.EMAIL)

    def _sent_message(self, letter: Draft, delivery: Delivery) -> EmailMessage:
        """The letter's message as it was approved and sent (its approved copy, else the draft's)."""
        for path in (approved_copy_path(self.config.root, letter, delivery.message_sha256), letter.eml_path(self.config.root)):
            if path.is_file() and hashlib.sha256(data := path.read_bytes()).hexdigest() == delivery.message_sha256:
                return parse_message(data)
        raise UserError(f"không tìm thấy bản thư đã gửi ({letter.folder}/message.eml, sha256 "
                        f"{delivery.message_sha256[:12]}…) để đính kèm lại công văn")


def _html(text: str, link: str) -> str:
    """The reminder's HTML part: its text, paragraph by paragraph, the link clickable."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = "<br>".join(html.escape(line) for line in block.split("\n"))
        if link:
            anchor = html.escape(link)
            escaped = escaped.replace(anchor, f'<a href="{anchor}">{anchor}</a>')
        paragraphs.append(f'<p style="margin:0 0 12px 0;">{escaped}</p>')
    body = "\n".join(paragraphs)
    return (f'<!DOCTYPE html>\n<html lang="vi">\n<head><meta charset="utf-8"></head>\n<body>\n'
            f'<div style="max-width:680px;font-family:\'Times New Roman\',Times,serif;font-size:16px;line-height:1.5;">\n'
            f"{body}\n</div>\n</body>\n</html>\n")
