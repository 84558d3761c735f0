"""`outreach build`: every valid recipient's letter (DOCX + PDF) and message, as drafts in outbox/.

Drafts are rebuilt only when their inputs change (template bytes, the recipient's data, the config
that reaches the letter, the document number), so an approval survives a re-run that changes
nothing for that recipient. Recipients without a usable e-mail address go on paper: their letters
are gathered into one PDF with address labels, a preview (approved or not); what is printed for
posting is the paper channel's bundle of approved letters (``delivery.paper``).

A build can be stopped at any point (an error, Ctrl-C, a kill) and run again. A rebuilt draft's
files are written to ``<draft>/.new/`` first and replace the draft's own only once all of them are
ready; the manifest never names a draft's old files once they may be replaced, and names the new
ones every few seconds (and at once on an error). A draft is kept as "unchanged" only when its
files on disk still have the sha256 its record says, so whatever stopped a build, the next one
repairs every draft and keeps none it did not finish.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Protocol

from ..accounts import Actor
from ..config import COPIES, Campaign, Config
from ..errors import UserError
from ..convert import ConversionJob, ConversionResult, PdfConverter, check_pdf, page_count, signed_fields
from ..letters import (LetterContext, LetterError, LetterTemplate, build_context, fingerprint, first_lines,
                       original_recipient, render_text_template, text_template)
from .bundle import write_address_labels, write_bundle
from .bundles import list_sheet_pdfs, paper_bundles, print_order
from .manifest import (Channel, Draft, DraftFile, DraftProblem, Manifest, letter_pages, read_manifest,
                       sha256_file, usual_pages, write_manifest)
from .messages import RECEIPT_TOKEN_BYTES, Attachment, build_message, message_bytes, with_receipt_link
from .progress import BUILD_PHASE, BUNDLE_PHASE, OnStep, Step, no_steps
from ..recipients import Recipient, RecipientList, campaign_list_files, load_list
from ..letters import Register
from ..recipients import PaymentError, Route, RoutingError, route
from ..text import fold_diacritics

INPUTS_NAME = "inputs.sha256"
STAGING_NAME = ".new"  # inside a draft folder: a rebuild's files, until they replace the draft's
DRAFT_FILES = ("letter.docx", "letter.pdf", "message.eml")
BUILD_ACTOR = Actor("outreach")  # a build no person is named for (the demo, a library call)
CHECKPOINT_S = 5.0  # the manifest is rewritten at most this often while drafts are replaced


class DeliveryRecord(Protocol):
    """What a build must know of the delivery record, handed in by the caller (the ledger sits above
    the outbox): which drafts are evidence, so never rebuilt, and a way to replace a draft's files
    while nothing can claim it, asking once more whether it became evidence meanwhile; and where it
    records who ran the build (four-eyes, the audit page)."""

    def evidence_keys(self, campaign: str) -> frozenset[str]: ...

    def record_build(self, campaign: str, by: Actor, scope: str) -> None: ...

    def replacing_drafts(self, campaign: str) -> AbstractContextManager[Callable[[str], bool]]: ...

    def add_receipt_token(self, token: str, campaign: str, key: str, via: str, now: dt.datetime) -> None: ...


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

    @property
    def staging(self) -> Path:
        return self.folder / STAGING_NAME


def _safe_filename(text: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\r\n\t]+", "-", text).strip(" .-")


def _ascii_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold_diacritics(text)).strip("-")


def letter_title(context: LetterContext) -> str:
    """The letter as its message names it: «Công văn số 05/BHXH-QLT», or a draft without a number."""
    number = context.so_ky_hieu.strip()
    return f"Công văn số {number}" if not number.startswith("/") else "Công văn (dự thảo, chưa có số)"


def attachment_titles(campaign: Campaign, context: LetterContext) -> tuple[str, ...]:
    """What the e-mail's list of attachments (``tep_dinh_kem``) says after the letter, in attachment
    order: each guidance file's own first two lines («Phụ lục 1: HƯỚNG DẪN …»), each static file's name."""
    variables = context.as_template_vars()
    guidance = [": ".join(first_lines(LetterTemplate(source).render(variables), 2)) or source.stem
                for source in campaign.guidance]
    return (*guidance, *(static.stem for static in campaign.static_attachments))


def message_variables(config: Config, context: LetterContext, recipient: Recipient, link: str,
                      titles: Sequence[str]) -> dict[str, object]:
    """What the e-mail's subject and bodies can use: the letter's variables, and ``recipient`` the
    message's addressee (also when the letter is the original, for a Nơi nhận body); ``ky_so``: the
    body may say the letter is digitally signed when nothing unsigned can be approved; ``xac_nhan``
    the receipt link ("" without one); ``tep_dinh_kem`` what is attached, the letter then ``titles``."""
    return {**context.as_template_vars(), "recipient": recipient, "ky_so": config.signing.required,
            "xac_nhan": link, "tep_dinh_kem": (letter_title(context), *titles)}


def load_campaign_recipients(config: Config, campaign: Campaign) -> list[RecipientList]:
    """The campaign's lists: its own where it has them, else its audiences' shared files."""
    return [load_list(path, audience) for audience in campaign.audiences
            for path in campaign_list_files(config, campaign, audience)]


def _inputs_digest(template_digest: str, context: LetterContext, extra: Sequence[str]) -> str:
    digest = hashlib.sha256(template_digest.encode())
    digest.update(context.fingerprint().encode())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()


def _up_to_date(root: Path, draft: Draft, inputs: str) -> bool:
    """Built from these inputs, and its files are still the ones its record names."""
    recorded = draft.path(root, INPUTS_NAME)
    return recorded.is_file() and recorded.read_text() == inputs and draft.matches_disk(root)


class CampaignBuilder:
    def __init__(self, config: Config, campaign: Campaign, *, converter: PdfConverter | None = None,
                 progress: bool | None = None, on_step: OnStep = no_steps) -> None:
        self.config, self.campaign = config, campaign
        self.root = config.root
        self.workspace = config.workspace
        self.out = self.workspace.campaign(campaign.name)
        # The build's own converter keeps its offices warm for the build's three conversions
        # (appendices, letters, address labels) and stops them at its end.
        self.converter = converter or PdfConverter(keep_warm=True)
        self._owns_converter = converter is None
        self.bar = _TerminalBar() if (sys.stderr.isatty() if progress is None else progress) else None
        self.on_step = _both(on_step, self.bar) if self.bar else on_step
        entry = Register(self.workspace.register).entry_for(campaign.name)
        self.number, self.issued_on = (entry.number, entry.issued_on) if entry else (None, None)

    def _context(self, recipient: Recipient | None) -> LetterContext:
        return build_context(self.config, self.campaign, recipient, self.number, self.issued_on)

    def build(self, record: DeliveryRecord, only: Sequence[str] = (), limit: int | None = None,
              by: Actor | None = None) -> BuildReport:
        """Build the drafts, recorded first as ``by``'s build (:data:`BUILD_ACTOR`'s when None): before
        any file is replaced, so even a build that stops half-way names who ran it."""
        try:
            return self._build(record, only, limit, by)
        finally:
            if self.bar:
                self.bar.close()
            if self._owns_converter:
                self.converter.close()

    def _build(self, record: DeliveryRecord, only: Sequence[str], limit: int | None, by: Actor | None) -> BuildReport:
        scope = (f"chỉ {', '.join(only)}" if only else "mọi người nhận") + (f", tối đa {limit} thư" if limit else "")
        record.record_build(self.campaign.name, by or BUILD_ACTOR, scope)
        lists = load_campaign_recipients(self.config, self.campaign)
        document_number = self._context(None).so_ky_hieu
        report = BuildReport(campaign=self.campaign.name, document_number=document_number)
        for lst in lists:
            for row in lst.rejected_rows:
                reasons = "; ".join(p.message for p in lst.problems if p.row == row and p.severity == "error")
                report.rejected_rows.append({"file": str(lst.file), "row": str(row), "reason": reasons,
                                             "audience": lst.kind})
        listed = [*(r for lst in lists for r in lst.recipients), *self._copy_recipients()]
        recipients = [r for r in listed if not only or r.code in only or r.key in only]
        if limit is not None:
            recipients = recipients[:limit]
        attachments = self._guidance_attachments()
        template = LetterTemplate(self.campaign.template)
        template_digest = hashlib.sha256(self.campaign.template.read_bytes()).hexdigest()
        attachment_digests = [f.sha256 for f in attachments]
        for source in (self.campaign.email_subject, self.campaign.email_text, self.campaign.email_html):
            text_template(source)  # a template that does not parse stops the build before any letter
        message_sources = [p.read_text(encoding="utf-8") for p in (self.campaign.email_text, self.campaign.email_html)]
        previous = self._previous_drafts()
        frozen = record.evidence_keys(self.campaign.name)
        pending: list[_Pending] = []
        drafts: dict[str, Draft] = {}
        for recipient in recipients:
            copy = recipient.kind == COPIES  # a Nơi nhận body: the original letter, the drafting department's
            try:
                routed = Route(self.campaign.drafting_unit, ()) if copy else route(self.config, recipient)
                context = self._context(original_recipient(self.config, self.campaign) if copy else recipient)
            except (RoutingError, PaymentError) as error:  # PaymentError: a participant's amount or deadline
                report.failed.append(DraftProblem(recipient.key, recipient.name, str(error)))
                continue
            folder = self.workspace.draft_folder(self.campaign.name, recipient.kind, recipient.code)
            # The sender's name and addresses are in the message; its mail server and pace are not.
            sender = fingerprint(self.config.senders()[routed.sender])
            # The link's address is in the message; without one, the digest (and every draft) is as before.
            link = [self.config.web.public_url] if self.config.web.public_url else []
            inputs = _inputs_digest(template_digest, context, [*attachment_digests, *message_sources,
                                                               self.campaign.email_subject, sender, *routed.cc,
                                                               str(self.config.signing.required), *link,
                                                               *([fingerprint(recipient)] if copy else [])])
            old = previous.get(recipient.key)
            if old and (recipient.key in frozen or _up_to_date(self.root, old, inputs)):
                # Where the row is now (a row inserted above, the folder moved) changes no letter.
                drafts[recipient.key] = replace(old, source_file=recipient.source_file, source_row=recipient.source_row)
                report.unchanged.append(recipient.key)
                shutil.rmtree(folder / STAGING_NAME, ignore_errors=True)  # left by a build that was stopped
                continue
            if old and _signed(folder / "letter.pdf"):
                report.warnings.append(f"{recipient.key} ({recipient.name}): bản đã ký số được tạo lại nên không "
                                       f"còn chữ ký; cần ký lại ('outreach sign {self.campaign.name} --as leader', "
                                       "rồi '--as agency').")
            pending.append(_Pending(recipient, context, folder, inputs, routed.sender, routed.cc))
        shared = self._shared_attachments(attachments)
        labels = attachment_titles(self.campaign, self._context(None))

        def manifest() -> Manifest:
            return Manifest(
                campaign=self.campaign.name,
                document_number=document_number,
                built_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                # Until a draft is rebuilt, its old record describes other inputs (an unnumbered
                # letter, say): only drafts kept or rebuilt by this build are listed, and every draft
                # that is evidence, whatever became of its row (removed from the list, or outside
                # --only): what was sent never leaves the campaign's page, status or report.
                drafts=(*(drafts[r.key] for r in recipients if r.key in drafts),
                        *(d for key, d in previous.items() if key in frozen and key not in drafts)),
                rejected=tuple(report.rejected_rows) + tuple({"key": f.key, "name": f.name, "reason": f.message}
                                                              for f in report.failed),
                attachments=tuple(attachments),
            )

        checkpoints = _Checkpoints(self.root, manifest)
        try:
            for item, result in self._counted(self._convert(pending, template), len(pending)):
                problem = self._gate(item, result)
                if problem:
                    report.failed.append(DraftProblem(item.recipient.key, item.recipient.name, problem))
                    shutil.rmtree(item.staging, ignore_errors=True)
                    continue
                checkpoints.before_replacing()
                key = item.recipient.key
                try:
                    draft = self._finish_draft(record, item, result.pages, shared, labels)
                except UserError as error:  # one bad row costs its own draft, never the campaign's
                    report.failed.append(DraftProblem(key, item.recipient.name, _message_problem(item.recipient, error)))
                    shutil.rmtree(item.staging, ignore_errors=True)
                    continue
                if draft is None:  # sent while this build ran: evidence, kept as it was
                    if key in previous:
                        drafts[key] = previous[key]
                    report.unchanged.append(key)
                    report.warnings.append(f"{key} ({item.recipient.name}): thư được gửi trong lúc tạo bản thảo nên "
                                           "được giữ nguyên như đã gửi; thay đổi không áp dụng cho thư này.")
                    continue
                drafts[key] = draft
                report.built.append(key)
                checkpoints.replaced()
        except BaseException:
            checkpoints.after_error()
            raise
        final = manifest()
        write_manifest(self.root, final)
        report.drafts = len(final.drafts)
        report.warnings.extend(_page_count_outliers(final.drafts))
        report.print_bundle, report.print_count = self._print_bundle(final.drafts, {r.key: r for r in recipients})
        return report

    def _copy_recipients(self) -> list[Recipient]:
        """The campaign's Nơi nhận bodies as recipients of their own copy (row = place in config.toml)."""
        return [Recipient(kind=COPIES, code=c.code, name=c.name, emails=c.emails, address=c.address,
                          source_file=self.workspace.config_file.name, source_row=index)
                for index, c in enumerate(self.campaign.noi_nhan, start=1)]

    def _previous_drafts(self) -> dict[str, Draft]:
        if not self.workspace.manifest(self.campaign.name).is_file():
            return {}
        return {d.key: d for d in read_manifest(self.root, self.campaign.name).drafts}

    def _convert(self, pending: list[_Pending], template: LetterTemplate) -> Iterator[tuple[_Pending, ConversionResult]]:
        """Each letter rendered and converted, as soon as its chunk is done (in no fixed order). The
        Nơi nhận bodies share one letter, the original: it is converted once and copied to each."""
        for item in pending:
            shutil.rmtree(item.staging, ignore_errors=True)
            item.staging.mkdir(parents=True)
        copies = [p for p in pending if p.recipient.kind == COPIES]
        converted = [p for p in pending if p.recipient.kind != COPIES] + copies[:1]
        jobs = [ConversionJob(key=p.recipient.key, docx=p.staging / "letter.docx", pdf=p.staging / "letter.pdf",
                              write_docx=partial(template.render_to, p.context))
                for p in converted]
        for index, result in self.converter.convert_iter(jobs):
            item = converted[index]
            # Copied before the original's own draft takes its staged files away.
            first_copy = bool(copies) and item is copies[0]
            shared = [(other, _copied(result, item, other)) for other in copies[1:]] if first_copy else []
            yield item, result
            yield from shared

    def _counted(self, results: Iterator[tuple[_Pending, ConversionResult]],
                 total: int) -> Iterator[tuple[_Pending, ConversionResult]]:
        """``results``, each letter counted once the build has dealt with it (rendered, converted and
        written, or refused): the loop resumes this generator only when it is done with the last one."""
        self.on_step(Step(BUILD_PHASE, 0, total))
        for done, result in enumerate(results, start=1):
            yield result
            self.on_step(Step(BUILD_PHASE, done, total))

    @staticmethod
    def _gate(item: _Pending, result: ConversionResult) -> str | None:
        """The fidelity gate: why this letter must not go out, or None. A Nơi nhận body's name must
        be in the original's Nơi nhận block: the printed list and the actual recipients agree."""
        if result.pdf is None:
            return result.error or "Không chuyển được sang PDF."
        # The converter's page count is that of the content it read: check_pdf compares it with
        # the written file, so it is not also given as the expected count (one mismatch, one line).
        problems = check_pdf(result.pdf, expected_pages=None, must_contain=[item.recipient.name],
                             content=result.content)
        if problems and item.recipient.kind == COPIES:
            problems.append("mẫu công văn phải in mục Nơi nhận từ danh sách nơi nhận của chiến dịch: thay các dòng cố "
                            "định bằng {%p for nhan in noi_nhan %} / - {{ nhan }}; / {%p endfor %} (xem README)")
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
        for result in self.converter.convert(jobs, copies=False):
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
        """'Phụ lục 1 - Hướng dẫn đăng ký ….pdf', from the appendix's own first two lines."""
        docx = (self.out / name).with_suffix(".docx")
        if not docx.is_file():
            return Path(name).name
        return _safe_filename(" - ".join(first_lines(docx, 2)))[:120] + ".pdf"

    def _finish_draft(self, record: DeliveryRecord, item: _Pending, pages: int, shared: Sequence[Attachment],
                      labels: Sequence[str]) -> Draft | None:
        """Write the message of the checked letter (``pages`` long; ``shared`` attached after it, ``labels``
        what the message calls them), then let the draft's new files replace its old ones; None if it has
        been sent meanwhile (its files are then evidence)."""
        recipient, staging = item.recipient, item.staging
        letter_pdf = staging / "letter.pdf"
        files = [
            DraftFile("letter.docx", sha256_file(staging / "letter.docx")),
            DraftFile("letter.pdf", sha256_file(letter_pdf), pages),
        ]
        message_sha = ""
        if recipient.emails:
            sender = self.config.senders()[item.sender]
            letter_name = _safe_filename(f"{letter_title(item.context)} - {recipient.name}")[:150] + ".pdf"
            link = self._receipt_link(record, recipient.key)
            variables = message_variables(self.config, item.context, recipient, link, labels)
            text, html = with_receipt_link(render_text_template(self.campaign.email_text, variables),
                                           render_text_template(self.campaign.email_html, variables), link)
            message = build_message(
                sender_name=sender.sender_name,
                sender=sender.sender,
                reply_to=sender.reply_to,
                to=recipient.emails,
                cc=item.cc,
                subject=" ".join(render_text_template(self.campaign.email_subject, variables).split()),
                text=text,
                html=html,
                attachments=[Attachment(letter_name, letter_pdf.read_bytes()), *shared],
            )
            (staging / "message.eml").write_bytes(message_bytes(message))
            message_sha = sha256_file(staging / "message.eml")
            files.append(DraftFile("message.eml", message_sha))
        # Asked again now, not at the start of the build: a send may have run meanwhile. Claims
        # wait while the files are replaced, and a claim checks the bytes it read are still there.
        with record.replacing_drafts(self.campaign.name) as is_evidence:
            if is_evidence(recipient.key):
                shutil.rmtree(staging)
                return None
            _replace_files(item)
        return Draft(
            campaign=self.campaign.name,
            audience=recipient.kind,
            code=recipient.code,
            name=recipient.name,
            to=recipient.emails,
            cc=item.cc,
            sender=item.sender,
            district=recipient.district,
            folder=str(item.folder.relative_to(self.root)),
            files=tuple(files),
            message_sha256=message_sha,
            source_file=recipient.source_file,
            source_row=recipient.source_row,
        )

    def _receipt_link(self, record: DeliveryRecord, key: str) -> str:
        """A new personal confirmation link for this message ("" without ``[web] public_url``). Its
        token is drawn here, each time the message is built, and only its sha256 is kept (in the
        ledger, before the message can be approved). A rebuild that changes nothing for a recipient
        keeps its draft, so the link in the approved bytes stays the one that works."""
        if not self.config.web.public_url:
            return ""
        token = secrets.token_urlsafe(RECEIPT_TOKEN_BYTES)
        record.add_receipt_token(token, self.campaign.name, key, self.campaign.name, dt.datetime.now(dt.timezone.utc))
        return self.config.web.receipt_url(token)

    def _print_bundle(self, drafts: Sequence[Draft], recipients: dict[str, Recipient]) -> tuple[str, int]:
        """Every letter that goes on paper in one PDF, each starting on a fresh sheet when printed
        double-sided, plus a sheet of address labels for the envelopes: a preview, approved or not."""
        paper = [d for d in drafts if d.channel == Channel.PAPER]
        folder = self.workspace.print_folder(self.campaign.name)
        kept = set(self.workspace.supplementary_files(self.campaign.name))  # collect's, for letters e-mail missed
        for old in sorted(folder.iterdir()) if folder.is_dir() else ():
            if old not in kept:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        if not paper:
            return "", 0
        self.on_step(Step(BUNDLE_PHASE, 0, len(paper)))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"ban-in-{_ascii_slug(self.campaign.name)}.pdf"
        # Participants' letters come in bundles per collection organisation or commune, each headed by its list sheet.
        bundles = paper_bundles(paper, recipients)
        files = print_order(bundles, list_sheet_pdfs(folder, bundles, recipients, self.converter,
                                                     self.config.agency.issuing_body, self.campaign.title,
                                                     self._context(None).so_ky_hieu), self.root)
        write_bundle((path.read_bytes() for path in files), target)
        labels = folder / "nhan-dia-chi.docx"
        write_address_labels(labels, [recipients[d.key] for group in bundles for d in group.drafts])
        (result,) = self.converter.convert([ConversionJob("labels", labels, labels.with_suffix(".pdf"))], copies=False)
        if result.pdf is None:
            raise UserError(f"Không tạo được nhãn địa chỉ: {result.error}")
        self.on_step(Step(BUNDLE_PHASE, len(paper), len(paper)))
        return str(target.relative_to(self.root)), len(paper)


class _Checkpoints:
    """The manifest written while drafts are replaced. Before the first replacement it stops naming
    the old files; then it names the new ones every CHECKPOINT_S, or twenty times what one write
    took if longer (for 10,000 drafts a write takes seconds: at most 5 % of the build), and at once
    after an error. Killed at any moment, it never names bytes the disk does not hold; drafts
    replaced since the last write are missing from it until the next build."""

    def __init__(self, root: Path, manifest: Callable[[], Manifest]) -> None:
        self.root, self.manifest = root, manifest
        self.next_at: float | None = None
        self.unwritten = False

    def before_replacing(self) -> None:
        if self.next_at is None:
            self._write()

    def replaced(self) -> None:
        self.unwritten = True
        if time.monotonic() >= self.next_at:
            self._write()

    def after_error(self) -> None:
        if self.unwritten:
            self._write()

    def _write(self) -> None:
        started = time.monotonic()
        write_manifest(self.root, self.manifest())
        self.next_at = time.monotonic() + max(CHECKPOINT_S, 20 * (time.monotonic() - started))
        self.unwritten = False


def _copied(result: ConversionResult, original: _Pending, item: _Pending) -> ConversionResult:
    """The original letter's files in another Nơi nhận body's staging folder, as if converted there."""
    if result.pdf is None:
        return replace(result, key=item.recipient.key)
    for name in ("letter.docx", "letter.pdf"):
        shutil.copyfile(original.staging / name, item.staging / name)
    return replace(result, key=item.recipient.key, pdf=item.staging / "letter.pdf")


def _message_problem(recipient: Recipient, error: UserError) -> str:
    if isinstance(error, LetterError):  # it names the recipient and the row already
        return error.message
    return f"Không tạo được thư điện tử ({recipient.source_file} dòng {recipient.source_row}): {error.message}"


def _replace_files(item: _Pending) -> None:
    """The staged files take the place of the draft's. Its inputs digest goes first and comes back
    last: a draft stopped half-way through is rebuilt by the next build, whatever it holds."""
    folder = item.folder
    (folder / INPUTS_NAME).unlink(missing_ok=True)
    for name in DRAFT_FILES:
        if (item.staging / name).exists():
            os.replace(item.staging / name, folder / name)
        else:
            (folder / name).unlink(missing_ok=True)  # a message.eml the recipient no longer gets
    (folder / INPUTS_NAME).write_text(item.inputs)
    item.staging.rmdir()


def _page_count_outliers(drafts: Sequence[Draft]) -> list[str]:
    """A letter longer than most of its audience's usually means a value that overflowed: worth a look."""
    usual = usual_pages(drafts)
    return [f"{d.key} ({d.name}): thư dài {letter_pages(d)} trang, khác với {usual[d.audience]} trang của "
            "đa số thư cùng nhóm — nên xem trước." for d in drafts if letter_pages(d) != usual[d.audience]]


class _TerminalBar:
    """The steps as a bar on the terminal (tqdm), one per phase."""

    def __init__(self) -> None:
        self.bar = None
        self.phase = ""

    def __call__(self, step: Step) -> None:
        from tqdm import tqdm

        if step.phase != self.phase:
            self.close()
            self.phase = step.phase
            self.bar = tqdm(total=step.total, desc=step.phase, unit="thư", file=sys.stderr)
        if self.bar is not None:
            self.bar.update(step.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _both(first: OnStep, second: OnStep) -> OnStep:
    def both(step: Step) -> None:
        first(step)
        second(step)

    return both


def issue_document_number(config: Config, campaign_name: str, issued_on: dt.date, by: Actor):
    """The campaign's number from the register (sổ văn bản đi): the one it has, else the next (issued by ``by``)."""
    campaign = config.campaign(campaign_name)
    _refuse_reminder(campaign, "cấp số")
    return Register(config.workspace.register).issue(
        campaign.name, f"{config.agency.abbreviation}-{campaign.drafting_unit}", issued_on, campaign.subject, by)


def build_campaign(config: Config, name: str, record: DeliveryRecord, only: Sequence[str] = (),
                   limit: int | None = None, progress: bool | None = None, by: Actor | None = None,
                   on_step: OnStep = no_steps, converter: PdfConverter | None = None) -> BuildReport:
    """``progress``: a bar on the terminal (when it is one, if None); ``on_step``: told each letter done;
    ``converter``: a long-lived process's own (its offices warm, its stand-ins known), else the build's."""
    campaign = config.campaign(name)
    _refuse_reminder(campaign, "tạo bản thảo")
    return CampaignBuilder(config, campaign, converter=converter, progress=progress,
                           on_step=on_step).build(record, only=only, limit=limit, by=by)


def _refuse_reminder(campaign: Campaign, what: str) -> None:
    """A reminder has no letter of its own: it follows its campaign's, number and all."""
    if campaign.reminder is not None:
        raise UserError(f"{campaign.name} là thư nhắc của chiến dịch {campaign.reminder.parent}, không có công văn "
                        f"riêng nên không {what} bằng lệnh này. Cách sửa: chạy 'outreach remind {campaign.reminder.parent}' "
                        "để tạo thư nhắc cho những người nhận đã đến hạn nhắc.")


def _signed(pdf: Path) -> bool:
    try:
        return bool(signed_fields(pdf.read_bytes()))
    except OSError:
        return False
