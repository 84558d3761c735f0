"""`outreach sign CAMPAIGN --as leader|agency`: every numbered, built draft not yet signed in that role.

One login per batch; the key is checked (PIN, key against certificate, validity, chain) before
the first file is touched. Each letter is signed into a temporary file, its message rebuilt with
the signed bytes, and both put in place by rename, so no draft is ever left half-signed; the
manifest's hashes follow (written every few seconds and at the end, atomically). The agency also
signs the campaign's guidance appendices, once, and every message carries the signed copies.
Drafts already approved or sent are left alone: their bytes are what was approved.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..config import Config
from ..errors import UserError
from ..convert import page_count
from ..outbox import Draft, DraftProblem, Manifest, letter_pages, read_manifest, write_manifest
from ..outbox import upgrade_attachments
from ..config import ROLE_LABELS, Role
from .keys import load_trust_roots, open_key
from .placement import appendix_box, find_signature_block, image_size, page_texts, pages_from_last, place
from .signing import RoleSigner, timestamper_for, times_new_roman
from .verify import signed_roles

CHECKPOINT_S = 5.0


@dataclass
class SignReport:
    campaign: str
    role: str
    signed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    appendices: list[str] = field(default_factory=list)
    skipped: list[DraftProblem] = field(default_factory=list)
    seconds: float = 0.0
    device_seconds: float = 0.0  # inside the key's own signing calls
    signatures: int = 0


def _check_image(path: Path, role: Role) -> None:
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise UserError(f"Ảnh chữ ký/con dấu {path} của {ROLE_LABELS[role]} không phải PNG. Cách sửa: "
                                "dùng ảnh .png nền trong suốt (Nghị định 30, Phụ lục I).")
    except (OSError, UnidentifiedImageError):
        raise UserError(f"Không đọc được ảnh {path} ([signing.{role}] image). Cách sửa: kiểm tra đường dẫn "
                        "(tính từ thư mục làm việc) và dùng ảnh .png nền trong suốt.") from None


class CampaignSigning:
    def __init__(self, config: Config, campaign: str, role: Role, *, approved: Mapping[str, str] = {},
                 progress: bool | None = None) -> None:
        self.config, self.role = config, role
        self.approved = approved
        self.campaign = config.campaign(campaign)
        self.root = config.root
        self.source = config.signing.key(role)
        self.progress = sys.stderr.isatty() if progress is None else progress

    def run(self, only: Sequence[str] = (), secret: str | None = None) -> SignReport:
        started = time.perf_counter()
        manifest = read_manifest(self.root, self.campaign.name)
        report = SignReport(self.campaign.name, self.role)
        if not manifest.numbered:
            raise UserError(f"Công văn của chiến dịch {manifest.campaign} chưa được cấp số, chưa ký được. "
                            f"Cách sửa: chạy 'outreach issue {manifest.campaign}' trước khi ký.")
        todo = self._select(manifest, only, report)
        # The appendices go with the letter: the agency signs them once the leader has signed it.
        appendices = self._unsigned_appendices() if self.role == "agency" and (todo or report.already) else []
        if not todo and not appendices:
            return report
        _check_image(self.source.image, self.role)
        trust = load_trust_roots(self.config.signing.trust_roots)
        timestamper = timestamper_for(self.config.signing.tsa_url)
        font = times_new_roman() if appendices else None
        with open_key(self.source, trust, secret=secret) as key:
            _probe_timestamper(timestamper, self.config.signing.tsa_url)
            signer = RoleSigner(key, trust, timestamper, self.source.image, font)
            signed_appendices = self._sign_appendices(signer, appendices, manifest, report)
            self._sign_drafts(signer, todo, signed_appendices, report)
            report.device_seconds, report.signatures = key.clock.seconds, key.clock.signatures
        report.seconds = time.perf_counter() - started
        return report

    def _select(self, manifest: Manifest, only: Sequence[str], report: SignReport) -> list[Draft]:
        unknown = [code for code in only if not any(code in (d.code, d.key) for d in manifest.drafts)]
        if unknown:
            raise UserError(f"Chiến dịch {manifest.campaign} không có bản thảo cho: {', '.join(unknown)}. "
                            "Cách sửa: kiểm tra mã (xem 'outreach status').")
        todo = []
        for draft in manifest.drafts:
            if only and draft.code not in only and draft.key not in only:
                continue
            roles = signed_roles(draft.path(self.root, "letter.pdf"))
            if self.role in roles:
                report.already.append(draft.key)
            elif draft.key in self.approved:
                report.skipped.append(DraftProblem(draft.key, draft.name,
                                      f"đang ở trạng thái '{self.approved[draft.key]}': không ký để không đổi nội "
                                      "dung đã duyệt; hủy duyệt ('outreach revoke') nếu cần ký"))
            elif self.role == "agency" and "leader" not in roles:
                report.skipped.append(DraftProblem(draft.key, draft.name, "chưa có chữ ký của lãnh đạo: văn thư chỉ "
                                                   "ký số của cơ quan lên văn bản đã có chữ ký của người có thẩm quyền"))
            else:
                todo.append(draft)
        return todo

    def _appendix_paths(self) -> list[Path]:
        folder = self.config.workspace.attachments(self.campaign.name)
        return [folder / f"{source.stem}.pdf" for source in self.campaign.guidance]

    def _unsigned_appendices(self) -> list[Path]:
        return [path for path in self._appendix_paths() if path.is_file() and "agency" not in signed_roles(path)]

    def _sign_appendices(self, signer: RoleSigner, paths: list[Path], manifest: Manifest,
                         report: SignReport) -> list[bytes]:
        """Sign each unsigned appendix once; returns every appendix as it now is, for the messages."""
        number = manifest.document_number.strip()
        for path in paths:
            box = appendix_box(page_texts(path, 1, 1)[0], signer.appendix_text_size(number))
            _write(path, signer.sign_appendix(path.read_bytes(), box, number))
            report.appendices.append(self.config.workspace.relative(path))
        if paths:
            signed = {f"attachments/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
            current = read_manifest(self.root, manifest.campaign)
            write_manifest(self.root, replace(current, attachments=tuple(
                replace(f, sha256=signed.get(f.name, f.sha256)) for f in current.attachments)))
        return [path.read_bytes() for path in self._appendix_paths() if path.is_file()]

    def _sign_drafts(self, signer: RoleSigner, todo: list[Draft], appendices: list[bytes],
                     report: SignReport) -> None:
        updated: dict[str, Draft] = {}
        last_write = time.monotonic()
        bar = _progress_bar(len(todo), ROLE_LABELS[self.role]) if self.progress and todo else None
        try:
            for draft in todo:
                try:
                    updated[draft.key] = self._sign_one(signer, draft, appendices)
                    report.signed.append(draft.key)
                except UserError as error:
                    report.skipped.append(DraftProblem(draft.key, draft.name, error.message))
                if bar:
                    bar.update()
                if time.monotonic() - last_write > CHECKPOINT_S:
                    self._record(updated)
                    last_write = time.monotonic()
        finally:
            if bar:
                bar.close()
            self._record(updated)

    def _sign_one(self, signer: RoleSigner, draft: Draft, appendices: list[bytes]) -> Draft:
        letter = draft.path(self.root, "letter.pdf")
        data = letter.read_bytes()
        if self.role == "leader":
            pages = letter_pages(draft) or page_count(letter)
            block = find_signature_block(pages_from_last(letter, pages), self.config.signer)
            seal = self.config.signing.agency.image if self.config.signing.agency else self.source.image
            placement = place(block, image_size(self.source.image), image_size(seal))
            signed = signer.sign_leader(data, placement)
        else:
            signed = signer.sign_agency(data)
        staged = [(letter.with_suffix(".pdf.tmp"), letter, signed)]
        files = {"letter.pdf": hashlib.sha256(signed).hexdigest()}
        message_sha = draft.message_sha256
        if draft.to:
            eml = draft.eml_path(self.root)
            message = upgrade_attachments(eml.read_bytes(), [signed, *appendices])
            staged.append((eml.with_suffix(".eml.tmp"), eml, message))
            message_sha = files["message.eml"] = hashlib.sha256(message).hexdigest()
        for temporary, _, content in staged:
            temporary.write_bytes(content)
        for temporary, target, _ in staged:
            temporary.replace(target)
        return replace(draft, message_sha256=message_sha,
                       files=tuple(replace(f, sha256=files.get(f.name, f.sha256)) for f in draft.files))

    def _record(self, updated: dict[str, Draft]) -> None:
        """The manifest as it is on disk now, with the signed drafts' new hashes."""
        if updated:
            current = read_manifest(self.root, self.campaign.name)
            write_manifest(self.root, replace(current, drafts=tuple(updated.get(d.key, d) for d in current.drafts)))


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _probe_timestamper(timestamper, url: str) -> None:
    """One time stamp before the batch: a TSA that does not answer stops it before any file changes."""
    if timestamper is None:
        return
    try:
        asyncio.run(timestamper.async_timestamp(hashlib.sha256(b"outreach").digest(), "sha256"))
    except Exception as error:  # aiohttp, TSA status and ASN.1 errors alike: the batch must not start
        raise UserError(f"Máy chủ dấu thời gian {url} không cấp được dấu thời gian ({type(error).__name__}: {error}); "
                        "chưa ký thư nào. Cách sửa: kiểm tra [signing] tsa_url và kết nối mạng, "
                        "hoặc để tsa_url = \"\" để ký không có dấu thời gian.") from None


def _progress_bar(total: int, label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"Ký số ({label})", unit="thư", file=sys.stderr)


def sign_campaign(config: Config, campaign: str, role: Role, only: Sequence[str] = (), *,
                  approved: Mapping[str, str] = {}, secret: str | None = None,
                  progress: bool | None = None) -> SignReport:
    """Sign every numbered draft not yet signed in ``role``; ``approved`` (key → its state, for people)
    names the drafts whose approval binds their bytes: those are left alone (the ledger's
    ``approved_states``; the caller passes it so signing needs nothing above the outbox)."""
    reminder = config.campaign(campaign).reminder
    if reminder is not None:
        raise UserError(f"{campaign} là thư nhắc: nó đính kèm lại công văn của chiến dịch {reminder.parent} đúng như đã "
                        "gửi (đã ký), nên không có gì để ký. Cách sửa: xem trước rồi duyệt thư nhắc "
                        f"('outreach approve {campaign} --by NGƯỜI_DUYỆT --all').")
    return CampaignSigning(config, campaign, role, approved=approved, progress=progress).run(only, secret)
