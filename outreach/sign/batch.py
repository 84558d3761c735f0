"""`outreach sign CAMPAIGN --as leader|agency`: every numbered, built draft not yet signed in that role.

The key is checked once (PIN, key against certificate, validity, chain) before the first file is
touched. Each letter is signed into a temporary file, its message rebuilt with the signed bytes,
and both put in place by rename (the letter first); the manifest's hashes follow, written every
few seconds and at the end, atomically. A run killed at any point is completed by the next: a
draft whose letter is signed in this role but whose manifest entry does not name its bytes (the
kill came between the renames, or before the checkpoint) gets its message rebuilt from the signed
letter and its hashes recorded, and is not signed again. The agency also signs the campaign's
guidance appendices, once, and every message carries the signed copies. Drafts already approved
or sent are left alone: their bytes are what was approved.

Letters are shared out to worker processes, one per core, started before the token is opened (a
PKCS#11 library must not be used across a fork). One token login per batch means one PIN, asked
once and checked by this process before any file changes; each worker then opens its own session
with it (sessions cannot cross processes), so a batch on n cores logs in n + 1 times, never per letter.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import util as mp_util
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from ..config import Config
from ..errors import UserError
from ..convert import page_count
from ..outbox import Draft, DraftProblem, Manifest, letter_pages, read_manifest, write_manifest
from ..outbox import upgrade_attachments
from ..config import ROLE_LABELS, Role
from ..workspace import held_alone
from .keys import load_trust_roots, open_key, read_secret, reinitialise_after_fork
from .placement import PageText, appendix_box, find_signature_block, image_size, last_pages, page_texts, pages_to_search, place
from .signing import RoleSigner, times_new_roman
from .verify import signed_roles

CHECKPOINT_S = 5.0
LETTERS_PER_WORKER = 8  # fewer letters than this to a core: signed here, no worker is started
CHUNK = 16  # letters a worker signs per task (its results come back to the manifest together)


@dataclass
class SignReport:
    campaign: str
    role: str
    signed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    appendices: list[str] = field(default_factory=list)
    skipped: list[DraftProblem] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # signed by a run that was killed, finished now
    workers: int = 0  # processes that signed (0: this one)
    seconds: float = 0.0
    device_seconds: float = 0.0  # inside the key's own signing calls
    device_cpu_seconds: float = 0.0  # the CPU spent in them (the token's work when it is emulated in-process)
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

    def run(self, only: Sequence[str] = (), secret: str | None = None, workers: int | None = None) -> SignReport:
        started = time.perf_counter()
        manifest = read_manifest(self.root, self.campaign.name)
        report = SignReport(self.campaign.name, self.role)
        if not manifest.numbered:
            raise UserError(f"Công văn của chiến dịch {manifest.campaign} chưa được cấp số, chưa ký được. "
                            f"Cách sửa: chạy 'outreach issue {manifest.campaign}' trước khi ký.")
        todo, unrecorded = self._select(manifest, only, report)
        # The appendices go with the letter: the agency signs them once the leader has signed it.
        appendices = self._unsigned_appendices() if self.role == "agency" and (todo or report.already) else []
        if not todo and not appendices:
            # Nothing to sign: what a killed run left unrecorded needs no key.
            self._record_appendices()
            self._complete(unrecorded, self._appendix_bytes(), report)
            report.seconds = time.perf_counter() - started
            return report
        _check_image(self.source.image, self.role)
        secret = read_secret(self.source) if secret is None else secret
        trust = load_trust_roots(self.config.signing.trust_roots)
        font = times_new_roman() if appendices else None
        count = _worker_count(len(todo)) if workers is None else min(workers, len(todo))
        batch = _Batch(self.config, self.campaign.name, self.role, tuple(self._appendix_paths()))
        tsa_url = self.config.signing.tsa_url
        with _pool(count, batch) as pool, open_key(self.source, trust, secret=secret) as key, \
                RoleSigner(key, trust, tsa_url, self.source.image, font) as signer:
            _probe_timestamper(signer, tsa_url)
            signed_appendices = self._sign_appendices(signer, appendices, manifest, report)
            self._complete(unrecorded, signed_appendices, report)
            if pool is None:
                self._sign_here(signer, todo, signed_appendices, report)
            else:
                report.workers = count
                self._sign_in(pool, secret, todo, report)
            _add_clock(report, key.clock.seconds, key.clock.cpu_seconds, key.clock.signatures)
        report.seconds = time.perf_counter() - started
        return report

    def _select(self, manifest: Manifest, only: Sequence[str],
                report: SignReport) -> tuple[list[Draft], list[Draft]]:
        """The drafts to sign, and those a killed run signed but did not record."""
        unknown = [code for code in only if not any(code in (d.code, d.key) for d in manifest.drafts)]
        if unknown:
            raise UserError(f"Chiến dịch {manifest.campaign} không có bản thảo cho: {', '.join(unknown)}. "
                            "Cách sửa: kiểm tra mã (xem 'outreach status').")
        todo, unrecorded = [], []
        for draft in manifest.drafts:
            if only and draft.code not in only and draft.key not in only:
                continue
            letter = draft.path(self.root, "letter.pdf")
            roles = signed_roles(letter)
            if self.role in roles:
                report.already.append(draft.key)
                if draft.key not in self.approved and not _recorded(draft, letter):
                    unrecorded.append(draft)
            elif draft.key in self.approved:
                report.skipped.append(DraftProblem(draft.key, draft.name,
                                      f"đang ở trạng thái '{self.approved[draft.key]}': không ký để không đổi nội "
                                      "dung đã duyệt; hủy duyệt ('outreach revoke') nếu cần ký"))
            elif self.role == "agency" and "leader" not in roles:
                report.skipped.append(DraftProblem(draft.key, draft.name, "chưa có chữ ký của lãnh đạo: văn thư chỉ "
                                                   "ký số của cơ quan lên văn bản đã có chữ ký của người có thẩm quyền"))
            else:
                todo.append(draft)
        return todo, unrecorded

    def _appendix_paths(self) -> list[Path]:
        folder = self.config.workspace.attachments(self.campaign.name)
        return [folder / f"{source.stem}.pdf" for source in self.campaign.guidance]

    def _appendix_bytes(self) -> list[bytes]:
        return [path.read_bytes() for path in self._appendix_paths() if path.is_file()]

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
        self._record_appendices()
        return self._appendix_bytes()

    def _record_appendices(self) -> None:
        """The appendices' hashes as they are on disk (also those a killed run did not record)."""
        if self.role != "agency":
            return
        on_disk = {f"attachments/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in self._appendix_paths() if p.is_file()}
        current = read_manifest(self.root, self.campaign.name)
        attachments = tuple(replace(f, sha256=on_disk.get(f.name, f.sha256)) for f in current.attachments)
        if attachments != current.attachments:
            write_manifest(self.root, replace(current, attachments=attachments))

    def _complete(self, drafts: list[Draft], appendices: list[bytes], report: SignReport) -> None:
        """Finish what a killed run left: the message rebuilt from the signed letter, the hashes recorded."""
        updated = {}
        for draft in drafts:
            letter = draft.path(self.root, "letter.pdf")
            updated[draft.key] = self._put_in_place(draft, letter.read_bytes(), appendices, letter_staged=False)
            report.completed.append(draft.key)
        self._record(updated)

    def _sign_here(self, signer: RoleSigner, todo: list[Draft], appendices: list[bytes],
                   report: SignReport) -> None:
        chunks = (self.sign_chunk(signer, todo[i:i + CHUNK], appendices) for i in range(0, len(todo), CHUNK))
        self._collect(chunks, len(todo), report)

    def _sign_in(self, pool: Executor, secret: str, todo: list[Draft], report: SignReport) -> None:
        futures = [pool.submit(_sign_chunk, secret, tuple(todo[i:i + CHUNK])) for i in range(0, len(todo), CHUNK)]

        def results() -> Iterator[tuple[_Done, ...]]:
            for future in as_completed(futures):
                done, seconds, cpu_seconds, signatures = future.result()
                _add_clock(report, seconds, cpu_seconds, signatures)
                yield done
        try:
            self._collect(results(), len(todo), report)
        finally:
            for future in futures:
                future.cancel()

    def _collect(self, chunks, total: int, report: SignReport) -> None:
        """Each signed draft into the report and, every few seconds (more for a large manifest) and at
        the end, the manifest."""
        updated: dict[str, Draft] = {}
        next_write = time.monotonic() + CHECKPOINT_S
        bar = _progress_bar(total, ROLE_LABELS[self.role]) if self.progress and total else None
        try:
            for chunk in chunks:
                for done in chunk:
                    if isinstance(done, Draft):
                        updated[done.key] = done
                        report.signed.append(done.key)
                    else:
                        report.skipped.append(done)
                    if bar:
                        bar.update()
                if time.monotonic() > next_write:
                    started = time.monotonic()
                    self._record(updated)
                    # As the build's checkpoints: reading and writing a manifest of 10,000 drafts
                    # takes ~2 s of CPU, so every 5 s would be a third of the batch's parent.
                    next_write = time.monotonic() + max(CHECKPOINT_S, 20 * (time.monotonic() - started))
        finally:
            if bar:
                bar.close()
            self._record(updated)

    def sign_chunk(self, signer: RoleSigner, drafts: Sequence[Draft], appendices: list[bytes]) -> tuple[_Done, ...]:
        """Sign these drafts (the leader's signature blocks looked for on their last pages at once)."""
        counts, lasts = [0] * len(drafts), [None] * len(drafts)
        if self.role == "leader":
            counts = [letter_pages(draft) or page_count(draft.path(self.root, "letter.pdf")) for draft in drafts]
            try:
                lasts = last_pages([(draft.path(self.root, "letter.pdf"), n) for draft, n in zip(drafts, counts)])
            except UserError:  # each letter is read on its own, and one that cannot be is named
                pass
        return tuple(self._sign_or_say_why(signer, draft, appendices, n, last)
                     for draft, n, last in zip(drafts, counts, lasts))

    def _sign_or_say_why(self, signer: RoleSigner, draft: Draft, appendices: list[bytes], pages: int,
                         last: PageText | None) -> _Done:
        try:
            return self.sign_one(signer, draft, appendices, pages, last)
        except UserError as error:
            return DraftProblem(draft.key, draft.name, error.message)

    def sign_one(self, signer: RoleSigner, draft: Draft, appendices: list[bytes], pages: int = 0,
                 last: PageText | None = None) -> Draft:
        letter = draft.path(self.root, "letter.pdf")
        data = letter.read_bytes()
        if self.role == "leader":
            pages = pages or letter_pages(draft) or page_count(letter)
            block = find_signature_block(pages_to_search(letter, pages, last), self.config.signer)
            seal = self.config.signing.agency.image if self.config.signing.agency else self.source.image
            placement = place(block, image_size(self.source.image), image_size(seal))
            signed = signer.sign_leader(data, placement)
        else:
            signed = signer.sign_agency(data)
        return self._put_in_place(draft, signed, appendices, letter_staged=True)

    def _put_in_place(self, draft: Draft, signed: bytes, appendices: list[bytes], *, letter_staged: bool) -> Draft:
        """Write the signed letter (unless it is already in place) and its message, by rename: the
        letter first, so a letter is never older than its message; returns the draft with the new hashes."""
        letter = draft.path(self.root, "letter.pdf")
        staged = [(letter.with_suffix(".pdf.tmp"), letter, signed)] if letter_staged else []
        files = {"letter.pdf": hashlib.sha256(signed).hexdigest()}
        message_sha = draft.message_sha256
        if draft.to:
            eml = draft.eml_path(self.root)
            current = eml.read_bytes()
            message = upgrade_attachments(current, [signed, *appendices])
            if message != current:
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


def _recorded(draft: Draft, letter: Path) -> bool:
    """Whether the manifest names the letter's bytes as they are (the signing run that wrote them
    got as far as its checkpoint)."""
    recorded = next((f.sha256 for f in draft.files if f.name == "letter.pdf"), "")
    try:
        return recorded == hashlib.sha256(letter.read_bytes()).hexdigest()
    except OSError:
        return True  # no letter: nothing to complete (the build reports it)


_Done = Draft | DraftProblem  # a signed draft with its new hashes, or why it was not signed


@dataclass(frozen=True)
class _Batch:
    """What a worker needs to sign in the batch's name; inherited by the fork (Config does not pickle)."""

    config: Config
    campaign: str
    role: Role
    appendices: tuple[Path, ...]


_batch: _Batch | None = None
# Workers open their sessions one at a time: SoftHSM2's file store, read by two processes starting
# at once, can miss a token (and a real token serialises its logins anyway).
_opening: Any = None
_worker: tuple[CampaignSigning, RoleSigner, list[bytes]] | None = None


def _sign_chunk(secret: str, drafts: tuple[Draft, ...]) -> tuple[tuple[_Done, ...], float, float, int]:
    """In a worker: sign these drafts with the worker's own session (opened on its first task, once
    the batch has checked the PIN: a wrong one is tried once, not once per worker)."""
    global _worker
    if _worker is None:
        assert _batch is not None
        with _opening:
            _worker = _open_worker(_batch, secret)
    signing, signer, appendices = _worker
    clock = signer.key.clock
    clock.reset()
    done = signing.sign_chunk(signer, drafts, appendices)
    return done, clock.seconds, clock.cpu_seconds, clock.signatures


def _add_clock(report: SignReport, seconds: float, cpu_seconds: float, signatures: int) -> None:
    report.device_seconds += seconds
    report.device_cpu_seconds += cpu_seconds
    report.signatures += signatures


def _open_worker(batch: _Batch, secret: str) -> tuple[CampaignSigning, RoleSigner, list[bytes]]:
    signing = CampaignSigning(batch.config, batch.campaign, batch.role, progress=False)
    reinitialise_after_fork(signing.source)
    signing_config = batch.config.signing
    trust = load_trust_roots(signing_config.trust_roots)
    stack = contextlib.ExitStack()
    key = stack.enter_context(open_key(signing.source, trust, secret=secret))
    # The session is closed (the token logged out) and the event loop with it when the worker exits.
    mp_util.Finalize(None, stack.close, exitpriority=10)
    signer = stack.enter_context(RoleSigner(key, trust, signing_config.tsa_url, signing.source.image))
    return signing, signer, [path.read_bytes() for path in batch.appendices if path.is_file()]


def _worker_count(letters: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    count = min(cores, letters // LETTERS_PER_WORKER)
    return count if count > 1 else 0


@contextlib.contextmanager
def _pool(workers: int, batch: _Batch) -> Iterator[Executor | None]:
    """Worker processes, forked now, before this process loads the token's PKCS#11 library."""
    global _batch, _opening
    if workers < 2:
        yield None
        return
    context = multiprocessing.get_context("fork")
    _batch, _opening = batch, context.Lock()
    pool = ProcessPoolExecutor(workers, mp_context=context)
    try:
        pool.submit(int).result()  # with fork, the first task starts every worker
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _batch = _opening = None


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _probe_timestamper(signer: RoleSigner, url: str) -> None:
    """One time stamp before the batch: a TSA that does not answer stops it before any file changes."""
    if signer.timestamper is None:
        return
    try:
        signer.run(signer.timestamper.async_timestamp(hashlib.sha256(b"outreach").digest(), "sha256"))
    except Exception as error:  # aiohttp, TSA status and ASN.1 errors alike: the batch must not start
        raise UserError(f"Máy chủ dấu thời gian {url} không cấp được dấu thời gian ({type(error).__name__}: {error}); "
                        "chưa ký thư nào. Cách sửa: kiểm tra [signing] tsa_url và kết nối mạng, "
                        "hoặc để tsa_url = \"\" để ký không có dấu thời gian.") from None


def _progress_bar(total: int, label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"Ký số ({label})", unit="thư", file=sys.stderr)


def sign_campaign(config: Config, campaign: str, role: Role, only: Sequence[str] = (), *,
                  approved: Mapping[str, str] = {}, secret: str | None = None,
                  progress: bool | None = None, workers: int | None = None) -> SignReport:
    """Sign every numbered draft not yet signed in ``role``; ``approved`` (key → its state, for people)
    names the drafts whose approval binds their bytes: those are left alone (the ledger's
    ``approved_states``; the caller passes it so signing needs nothing above the outbox). ``workers``:
    processes to sign in (None: one per core when there are enough letters; 0 or 1: this one)."""
    reminder = config.campaign(campaign).reminder
    if reminder is not None:
        raise UserError(f"{campaign} là thư nhắc: nó đính kèm lại công văn của chiến dịch {reminder.parent} đúng như đã "
                        "gửi (đã ký), nên không có gì để ký. Cách sửa: xem trước rồi duyệt thư nhắc "
                        f"('outreach approve {campaign} --by NGƯỜI_DUYỆT --all').")
    def refusal(holder: str) -> UserError:
        return UserError(f"Chiến dịch {campaign} đang được ký số bởi một tiến trình khác ({holder}); hai lần ký cùng lúc "
                         "sẽ ký chồng lên cùng các thư. Cách sửa: chờ tiến trình đó xong rồi chạy lại.")

    with held_alone(config.workspace.sign_lock(campaign), refusal):
        return CampaignSigning(config, campaign, role, approved=approved, progress=progress).run(only, secret, workers)
