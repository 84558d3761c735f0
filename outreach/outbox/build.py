"""`outreach build`: every valid recipient's letter (DOCX + PDF) and message, as drafts in outbox/.

Drafts are rebuilt only when their inputs change (template bytes, the recipient's data, the config
that reaches the letter, the document number), so an approval survives a re-run that changes
nothing for that recipient. Recipients without a usable e-mail address go on paper: their letters
are gathered into one PDF with address labels, a preview (approved or not); what is printed for
posting is the paper channel's bundle of approved letters (``delivery.paper``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from docx import Document

from ..config import Campaign, Config
from ..errors import UserError
from ..convert import ConversionJob, ConversionResult, PdfConverter, check_pdf, page_count
from ..letters.render import LetterContext, LetterTemplate, build_context, render_text_template
from .bundle import write_bundle
from .manifest import (Channel, Draft, DraftFile, DraftProblem, Manifest, letter_pages, read_manifest,
                       sha256_file, usual_pages, write_manifest)
from .messages import Attachment, build_message, message_bytes
from ..recipients import Recipient, RecipientList, load_list
from ..delivery import EVIDENCE, Ledger
from ..letters.register import Register
from ..recipients.routing import RoutingError, route
from ..text.vntext import fold_diacritics

INPUTS_NAME = "inputs.sha256"


@dataclass
class BuildReport:
    campaign: str
    document_number: str
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[DraftProblem] = field(default_factory=list)
    rejected_rows: list[dict[str, str]] = field(default_factory=list)
    print_bundle: str = ""
    print_count: int = 0
    warnings: list[str] = field(default_factory=list)
    drafts: int = 0

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Pending:
    recipient: Recipient
    context: LetterContext
    folder: Path
    inputs: str
    sender: str
    cc: tuple[str, ...]


def _safe_filename(text: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\r\n\t]+", "-", text).strip(" .-")


def _ascii_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold_diacritics(text)).strip("-")


def load_campaign_recipients(config: Config, campaign: Campaign) -> list[RecipientList]:
    return [load_list(path, audience) for audience in campaign.audiences for path in config.audiences[audience].files]


def _inputs_digest(template_digest: str, context: LetterContext, extra: Sequence[str]) -> str:
    digest = hashlib.sha256(template_digest.encode())
    # Frozen dataclasses have a complete, deterministic repr: every value that can reach the letter.
    digest.update(repr(context).encode())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()


def _files_intact(folder: Path, names: Sequence[str]) -> bool:
    return all((folder / name).is_file() for name in names)


class CampaignBuilder:
    def __init__(self, config: Config, campaign: Campaign, *, converter: PdfConverter | None = None,
                 progress: bool | None = None) -> None:
        self.config, self.campaign = config, campaign
        self.root = config.root
        self.workspace = config.workspace
        self.out = self.workspace.campaign(campaign.name)
        self.converter = converter or PdfConverter()
        self.progress = sys.stderr.isatty() if progress is None else progress
        entry = Register(self.workspace.register).entry_for(campaign.name)
        self.number, self.issued_on = (entry.number, entry.issued_on) if entry else (None, None)

    def _context(self, recipient: Recipient | None) -> LetterContext:
        return build_context(self.config, self.campaign, recipient, self.number, self.issued_on)

    def build(self, only: Sequence[str] = (), limit: int | None = None) -> BuildReport:
        lists = load_campaign_recipients(self.config, self.campaign)
        document_number = self._context(None).so_ky_hieu
        report = BuildReport(campaign=self.campaign.name, document_number=document_number)
        for lst in lists:
            for row in lst.rejected_rows:
                reasons = "; ".join(p.message for p in lst.problems if p.row == row and p.severity == "error")
                report.rejected_rows.append({"file": str(lst.file), "row": str(row), "reason": reasons})
        recipients = [r for lst in lists for r in lst.recipients if not only or r.code in only or r.key in only]
        if limit is not None:
            recipients = recipients[:limit]
        attachments = self._guidance_attachments()
        template = LetterTemplate(self.campaign.template)
        template_digest = hashlib.sha256(self.campaign.template.read_bytes()).hexdigest()
        attachment_digests = [f.sha256 for f in attachments]
        message_sources = [p.read_text(encoding="utf-8") for p in (self.campaign.email_text, self.campaign.email_html)]
        previous = self._previous_drafts()
        frozen = self._frozen_keys()
        pending: list[_Pending] = []
        drafts: dict[str, Draft] = {}
        for recipient in recipients:
            try:
                routed = route(self.config, recipient)
            except RoutingError as error:
                report.failed.append(DraftProblem(recipient.key, recipient.name, str(error)))
                continue
            context = self._context(recipient)
            folder = self.out / recipient.kind / recipient.code
            inputs = _inputs_digest(template_digest, context, [*attachment_digests, *message_sources,
                                                               self.campaign.email_subject, routed.sender, *routed.cc])
            old = previous.get(recipient.key)
            if old and recipient.key in frozen:
                drafts[recipient.key] = old
                report.unchanged.append(recipient.key)
                continue
            if old and (folder / INPUTS_NAME).is_file() and (folder / INPUTS_NAME).read_text() == inputs \
                    and _files_intact(folder, [f.name for f in old.files]):
                drafts[recipient.key] = old
                report.unchanged.append(recipient.key)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            (folder / INPUTS_NAME).unlink(missing_ok=True)
            pending.append(_Pending(recipient, context, folder, inputs, routed.sender, routed.cc))
        shared = self._shared_attachments(attachments)
        for item, result in self._convert(pending, template):
            problem = self._gate(item, result)
            if problem:
                report.failed.append(DraftProblem(item.recipient.key, item.recipient.name, problem))
                continue
            drafts[item.recipient.key] = self._finish_draft(item, result.pages, shared)
            report.built.append(item.recipient.key)
        ordered = tuple(drafts[r.key] for r in recipients if r.key in drafts)
        report.drafts = len(ordered)
        report.warnings.extend(_page_count_outliers(ordered))
        report.print_bundle, report.print_count = self._print_bundle(ordered, {r.key: r for r in recipients})
        write_manifest(self.root, Manifest(
            campaign=self.campaign.name,
            document_number=document_number,
            built_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            drafts=ordered,
            rejected=tuple(report.rejected_rows) + tuple({"key": f.key, "name": f.name, "reason": f.message} for f in report.failed),
            attachments=tuple(attachments),
        ))
        return report

    def _frozen_keys(self) -> set[str]:
        """Drafts already sent, being sent or maybe sent: their files are evidence and never rebuilt."""
        if not self.workspace.ledger.is_file():
            return set()
        deliveries = Ledger.open(self.root).deliveries(self.campaign.name)
        return {key for key, d in deliveries.items() if d.state in EVIDENCE}

    def _previous_drafts(self) -> dict[str, Draft]:
        if not self.workspace.manifest(self.campaign.name).is_file():
            return {}
        return {d.key: d for d in read_manifest(self.root, self.campaign.name).drafts}

    def _convert(self, pending: list[_Pending], template: LetterTemplate) -> Iterator[tuple[_Pending, ConversionResult]]:
        """Each letter rendered and converted, as soon as its chunk is done (in no fixed order)."""
        jobs = [ConversionJob(key=p.recipient.key, docx=p.folder / "letter.docx", pdf=p.folder / "letter.pdf",
                              write_docx=partial(template.render_to, p.context))
                for p in pending]
        bar = _progress_bar(len(jobs), "Tạo thư") if self.progress and jobs else None
        try:
            for index, result in self.converter.convert_iter(jobs):
                yield pending[index], result
                if bar:
                    bar.update()
        finally:
            if bar:
                bar.close()

    @staticmethod
    def _gate(item: _Pending, result: ConversionResult) -> str | None:
        """The fidelity gate: why this letter must not go out, or None."""
        if result.pdf is None:
            return result.error or "Không chuyển được sang PDF."
        # The converter's page count is that of the content it read: check_pdf compares it with
        # the written file, so it is not also given as the expected count (one mismatch, one line).
        problems = check_pdf(result.pdf, expected_pages=None, must_contain=[item.recipient.name],
                             content=result.content)
        return "; ".join(problems) if problems else None

    def _guidance_attachments(self) -> list[DraftFile]:
        """Guidance appendices rendered with the campaign context and converted once per build."""
        folder = self.out / "attachments"
        folder.mkdir(parents=True, exist_ok=True)
        context = self._context(None).as_template_vars()
        jobs = []
        for source in self.campaign.guidance:
            docx = folder / f"{source.stem}.docx"
            rendered = LetterTemplate(source).render(context)
            # LibreOffice stamps every PDF it writes: reconvert only when the appendix itself changed,
            # so that unchanged drafts (and their approvals) survive a rebuild.
            if docx.is_file() and docx.read_bytes() == rendered and docx.with_suffix(".pdf").is_file():
                continue
            docx.with_suffix(".pdf").unlink(missing_ok=True)
            docx.write_bytes(rendered)
            jobs.append(ConversionJob(key=source.stem, docx=docx, pdf=docx.with_suffix(".pdf")))
        for result in self.converter.convert(jobs):
            if result.pdf is None:
                raise UserError(f"Không tạo được PDF phụ lục {result.key}: {result.error}")
        files = []
        for source in self.campaign.guidance:
            pdf = folder / f"{source.stem}.pdf"
            files.append(DraftFile(name=f"attachments/{pdf.name}", sha256=sha256_file(pdf), pages=page_count(pdf)))
        for static in self.campaign.static_attachments:
            target = folder / static.name
            shutil.copyfile(static, target)
            files.append(DraftFile(name=f"attachments/{static.name}", sha256=sha256_file(target),
                                   pages=page_count(target)))
        return files

    def _shared_attachments(self, attachments: Sequence[DraftFile]) -> list[Attachment]:
        """The appendices every message carries, read once per build."""
        return [Attachment(self._attachment_title(f.name), (self.out / f.name).read_bytes()) for f in attachments]

    def _attachment_title(self, name: str) -> str:
        """'Phụ lục 1 - Hướng dẫn đăng ký …', from the appendix's own first two lines."""
        docx = (self.out / name).with_suffix(".docx")
        if not docx.is_file():
            return Path(name).name
        lines = [" ".join(p.text.split()) for p in Document(str(docx)).paragraphs if p.text.strip()][:2]
        return _safe_filename(" - ".join(lines))[:120] + ".pdf"

    def _finish_draft(self, item: _Pending, pages: int, shared: Sequence[Attachment]) -> Draft:
        """Record the checked letter (``pages`` long) and write its message."""
        recipient, folder = item.recipient, item.folder
        letter_pdf = folder / "letter.pdf"
        files = [
            DraftFile("letter.docx", sha256_file(folder / "letter.docx")),
            DraftFile("letter.pdf", sha256_file(letter_pdf), pages),
        ]
        message_sha = ""
        if recipient.emails:
            sender = self.config.senders()[item.sender]
            variables = item.context.as_template_vars()
            number = item.context.so_ky_hieu.strip()
            label = f"Công văn số {number}" if not number.startswith("/") else "Công văn (dự thảo, chưa có số)"
            letter_name = _safe_filename(f"{label} - {recipient.name}")[:150] + ".pdf"
            message = build_message(
                sender_name=sender.sender_name,
                sender=sender.sender,
                reply_to=sender.reply_to,
                to=recipient.emails,
                cc=item.cc,
                subject=" ".join(render_text_template(self.campaign.email_subject, variables).split()),
                text=render_text_template(self.campaign.email_text, variables),
                html=render_text_template(self.campaign.email_html, variables),
                attachments=[Attachment(letter_name, letter_pdf.read_bytes()), *shared],
            )
            staged = folder / "message.eml.tmp"
            staged.write_bytes(message_bytes(message))
            staged.replace(folder / "message.eml")  # never a half-written message, even after a crash
            message_sha = sha256_file(folder / "message.eml")
            files.append(DraftFile("message.eml", message_sha))
        else:
            (folder / "message.eml").unlink(missing_ok=True)
        (folder / INPUTS_NAME).write_text(item.inputs)
        return Draft(
            campaign=self.campaign.name,
            audience=recipient.kind,
            code=recipient.code,
            name=recipient.name,
            to=recipient.emails,
            cc=item.cc,
            sender=item.sender,
            district=recipient.district,
            folder=str(folder.relative_to(self.root)),
            files=tuple(files),
            message_sha256=message_sha,
            source_file=recipient.source_file,
            source_row=recipient.source_row,
        )

    def _print_bundle(self, drafts: Sequence[Draft], recipients: dict[str, Recipient]) -> tuple[str, int]:
        """Every letter that goes on paper in one PDF, each starting on a fresh sheet when printed
        double-sided, plus a sheet of address labels for the envelopes: a preview, approved or not."""
        paper = [d for d in drafts if d.channel == Channel.PAPER]
        folder = self.workspace.print_folder(self.campaign.name)
        shutil.rmtree(folder, ignore_errors=True)
        if not paper:
            return "", 0
        folder.mkdir(parents=True)
        target = folder / f"ban-in-{_ascii_slug(self.campaign.name)}.pdf"
        write_bundle((draft.path(self.root, "letter.pdf").read_bytes() for draft in paper), target)
        labels = folder / "nhan-dia-chi.docx"
        _write_address_labels(labels, [recipients[d.key] for d in paper])
        (result,) = self.converter.convert([ConversionJob("labels", labels, labels.with_suffix(".pdf"))])
        if result.pdf is None:
            raise UserError(f"Không tạo được nhãn địa chỉ: {result.error}")
        return str(target.relative_to(self.root)), len(paper)


def _write_address_labels(path: Path, recipients: Sequence[Recipient]) -> None:
    """Two labels a row on A4, in the letter's font: addressee and postal address."""
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Mm(12)
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(12)
    table = document.add_table(rows=0, cols=2)
    for pair in (recipients[i:i + 2] for i in range(0, len(recipients), 2)):
        cells = table.add_row().cells
        for cell, recipient in zip(cells, pair):
            cell.paragraphs[0].add_run(f"Kính gửi: {recipient.salutation}").bold = True
            cell.add_paragraph(recipient.address or "(chưa có địa chỉ)")
            cell.add_paragraph(f"{recipient.code} — {recipient.source_file.rsplit('/', 1)[-1]} dòng {recipient.source_row}")
    document.save(str(path))


def _page_count_outliers(drafts: Sequence[Draft]) -> list[str]:
    """A letter longer than most of its audience's usually means a value that overflowed: worth a look."""
    usual = usual_pages(drafts)
    return [f"{d.key} ({d.name}): thư dài {letter_pages(d)} trang, khác với {usual[d.audience]} trang của "
            "đa số thư cùng nhóm — nên xem trước." for d in drafts if letter_pages(d) != usual[d.audience]]


def _progress_bar(total: int, label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="thư", file=sys.stderr)


def issue_document_number(config: Config, campaign_name: str, issued_on: dt.date):
    """The campaign's number from the register (sổ văn bản đi): the one it has, else the next."""
    campaign = config.campaign(campaign_name)
    return Register(config.workspace.register).issue(
        campaign.name, f"{config.agency.abbreviation}-{campaign.drafting_unit}", issued_on, campaign.subject)


def build_campaign(config: Config, name: str, only: Sequence[str] = (), limit: int | None = None,
                   progress: bool | None = None) -> BuildReport:
    return CampaignBuilder(config, config.campaign(name), progress=progress).build(only=only, limit=limit)
