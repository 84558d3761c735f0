"""Approval and sending: what staff previewed is exactly what is sent, to each recipient once.

* ``approve`` binds an approval to the sha256 of the draft's ``message.eml`` as it is on disk now,
  and keeps a copy of those bytes (``outbox/<campaign>/approved/…``): the evidence of what was
  sent survives a later rebuild of the draft.
* ``send_campaign`` sends the approved bytes, unchanged, over one SMTP connection per sender:
  the row is committed ``sending`` before the first byte goes out, and ``sent`` (with the server's
  final reply) after. A row found ``sending`` at start belonged to a process that died mid-send:
  it becomes ``uncertain`` and waits for a person (``resolve``), never an automatic resend.
* A failure before the end of the message data is temporary or permanent by the server's code
  (4xx / network -> ``retrying`` with backoff, 5xx -> ``failed``); a failure after the final dot
  was handed to the network but before the reply is ``uncertain``: the server may have the message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import smtplib
import ssl
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from ..config import AUDIENCE_LABELS, Config, Sender, SmtpProfile
from ..errors import UserError
from .ledger import (
    STATE_LABELS,
    SYSTEM_ACTOR,
    ApprovalRequest,
    Attempt,
    CampaignPaused,
    Delivery,
    Ledger,
    MessageReplaced,
    Outcome,
    PauseState,
    iso,
    paused_error,
    utc_now,
)
from ..outbox.manifest import Draft, DraftProblem, Manifest
from ..outbox.messages import check_address, envelope_of, message_bytes, new_message_id, parse_message, set_text_header
from ..workspace import Workspace

if TYPE_CHECKING:
    import yagmail

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]
StopCheck = Callable[[], "str | bool | None"]  # a reason (or True) to stop before the next message

KEYRING_SERVICE = "yagmail"  # where yagmail.register() keeps passwords
TEST_COPY_PREFIX = "[BẢN THỬ] "
REPORT_TIMEZONE = "Asia/Ho_Chi_Minh"
FINAL_REPLY_TIMEOUT_S = 600.0  # RFC 5321 4.5.3.2.6: wait up to 10 minutes for the reply to the final dot
RETRY_CAP = dt.timedelta(hours=6)
REVOCABLE = ("approved", "retrying", "failed")
STAGE_CONNECT = "kết nối máy chủ"
STAGE_AFTER_DOT = "chờ máy chủ trả lời sau khi đã gửi xong nội dung thư"


# ====================================================================== approval


def approve(root: Path, ledger: Ledger, manifest: Manifest, by: str, keys: Sequence[str] | None = None,
            *, clock: Clock = utc_now) -> list[Delivery]:
    """Approve drafts (all with e-mail when ``keys`` is None) for their current ``message.eml`` bytes.

    All or nothing: any draft changed since build, without e-mail or already sent (when named)
    refuses the whole approval with one Vietnamese message listing every problem.
    """
    person = _person(by, "người duyệt")
    if not manifest.numbered:
        raise UserError(f"Công văn của chiến dịch {manifest.campaign} chưa được cấp số: bản thảo còn ghi "
                        f"'Số: {manifest.document_number.strip()}'. Cách sửa: chạy 'outreach issue {manifest.campaign}' "
                        "để lấy số trong sổ văn bản đi (thư sẽ được tạo lại với số đó), xem lại rồi duyệt.")
    current = ledger.deliveries(manifest.campaign)
    approved: list[tuple[Draft, ApprovalRequest, bytes]] = []
    problems: list[str] = []
    for draft in _select(manifest, keys):
        delivery = current.get(draft.key)
        refusal = _approval_refusal(draft, delivery)
        if refusal:
            if keys is not None:
                problems.append(refusal)
            continue
        data = _read_eml(root, draft)
        actual = hashlib.sha256(data).hexdigest() if data is not None else "(không có tệp)"
        if actual != draft.message_sha256:
            problems.append(f"{_who(draft)}: message.eml đã thay đổi sau khi tạo bản thảo "
                            f"({_short(draft.message_sha256)} → {_short(actual)}).")
        elif not (delivery and delivery.state == "approved" and delivery.message_sha256 == actual):
            approved.append((draft, ApprovalRequest(draft.key, draft.sender, actual), data))
    if problems:
        raise UserError("Không duyệt thư nào vì:\n" + _bullets(problems) +
                        f"\nCách sửa: chạy lại 'outreach build {manifest.campaign}', xem lại rồi duyệt lại.")
    for draft, request, data in approved:
        _keep_approved_copy(root, draft, request.message_sha256, data)
    return ledger.approve(manifest.campaign, [request for _, request, _ in approved], person, clock())


def revoke(ledger: Ledger, manifest: Manifest, by: str, keys: Sequence[str] | None = None, note: str = "",
           *, clock: Clock = utc_now) -> list[Delivery]:
    """Withdraw approvals not yet handed to the server (approved, retrying, failed)."""
    person = _person(by, "người hủy duyệt")
    current = ledger.deliveries(manifest.campaign)
    targets: list[str] = []
    problems: list[str] = []
    for draft in _select(manifest, keys):
        delivery = current.get(draft.key)
        if delivery is not None and delivery.state in REVOCABLE:
            targets.append(draft.key)
        elif keys is not None:
            state = STATE_LABELS[delivery.state] if delivery else STATE_LABELS["drafted"]
            problems.append(f"{_who(draft)}: đang ở trạng thái '{state}', không hủy duyệt được.")
    if problems:
        raise UserError("Không hủy duyệt thư nào vì:\n" + _bullets(problems))
    return ledger.revoke(manifest.campaign, targets, person, note.strip(), clock())


def resolve(ledger: Ledger, campaign: str, key: str, decision: Literal["sent", "resend"], by: str, note: str,
            *, clock: Clock = utc_now) -> Delivery:
    """A person settles an ``uncertain`` message: it did arrive (``sent``) or must go again (``resend``)."""
    person = _person(by, "người quyết định")
    if decision not in ("sent", "resend"):
        raise UserError(f"Quyết định '{decision}' không hợp lệ. Dùng 'sent' (đã đến nơi) hoặc 'resend' (gửi lại).")
    if not note.strip():
        raise UserError("Cần ghi lý do (ví dụ: 'đã gọi điện, đơn vị xác nhận đã nhận') để lưu làm bằng chứng.")
    return ledger.resolve(campaign, key, decision, person, note.strip(), clock())


def resume(ledger: Ledger, campaign: str, by: str, *, clock: Clock = utc_now) -> None:
    ledger.resume(campaign, _person(by, "người cho gửi tiếp"), clock())


def _approval_refusal(draft: Draft, delivery: Delivery | None) -> str:
    if not draft.to:
        return f"{_who(draft)}: không có địa chỉ e-mail, thư này in và gửi bản giấy."
    if delivery is not None and delivery.state == "sent":
        return f"{_who(draft)}: đã gửi lúc {delivery.sent_at}, không duyệt để gửi lại."
    if delivery is not None and delivery.state in ("sending", "uncertain"):
        return f"{_who(draft)}: đang ở trạng thái '{STATE_LABELS[delivery.state]}', không duyệt lại."
    return ""


# ====================================================================== sending


@dataclass
class SendReport:
    campaign: str
    dry_run: bool
    sent: list[str] = field(default_factory=list)
    would_send: list[str] = field(default_factory=list)
    retrying: list[DraftProblem] = field(default_factory=list)
    failed: list[DraftProblem] = field(default_factory=list)
    uncertain: list[DraftProblem] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)  # left "sending" by a dead process -> uncertain
    skipped: list[DraftProblem] = field(default_factory=list)  # not sent this run, state unchanged
    paused: str = ""
    stopped: str = ""  # why the run stopped before the end (expiry, window closed, stop asked), Vietnamese

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SmtpResult:
    kind: Literal["accepted", "temporary", "permanent", "unknown"]
    code: int | None
    reply: str  # the server's words, or the network error
    stage: str
    connection_lost: bool = False

    @property
    def said(self) -> str:
        """Where it happened and the server's words, e.g. ``RCPT TO:<a@b.vn>: 550 5.1.1 No such user``."""
        return " ".join(part for part in (f"{self.stage}:", str(self.code or ""), self.reply) if part)


@dataclass(frozen=True)
class _Prepared:
    draft: Draft
    data: bytes
    recipients: tuple[str, ...]
    attempt: Attempt


def send_campaign(
    config: Config,
    manifest: Manifest,
    ledger: Ledger,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    department: str | None = None,
    max_attempts: int = 5,
    pause_after_failures: int = 10,
    retry_base: dt.timedelta = dt.timedelta(minutes=5),
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    should_stop: StopCheck | None = None,
) -> SendReport:
    """Send every approved, due, unchanged draft once; see the module docstring for the guarantees.

    Right before each message is handed to the server (after the rate-limit wait) the run checks
    the campaign's ``not_before``/``expires`` from config.toml and ``should_stop``: a letter is sent
    on time or not at all, and a stop request lets the message in flight finish, never cuts it.
    Whatever is left is reported in ``skipped`` with the reason, also in ``stopped``.
    """
    campaign = manifest.campaign
    if department is not None and department not in config.senders():
        raise UserError(f"Không có phòng/đơn vị gửi '{department}' trong config.toml. "
                        f"Các mã: {', '.join(config.senders())}.")
    pause = ledger.pause_state(campaign)
    if pause.paused:
        raise paused_error(campaign, pause)
    report = SendReport(campaign, dry_run)
    run = _Run(config.root, config, manifest, ledger, report, department, limit, max_attempts, pause_after_failures,
               retry_base, clock, sleep, should_stop)
    if dry_run:
        run.send_all()
        return report
    with ledger.send_lock(campaign):
        report.interrupted = [d.key for d in ledger.mark_interrupted(campaign, clock())]
        run.send_all()
    return report


@dataclass
class _Throttle:
    """At most ``messages_per_minute``: messages of one sender start at least 60/n seconds apart."""

    interval: dt.timedelta
    next_at: dt.datetime | None

    def wait(self, clock: Clock, sleep: Sleep) -> None:
        now = clock()
        if self.next_at is not None and now < self.next_at:
            sleep((self.next_at - now).total_seconds())
            now = clock()
        self.next_at = now + self.interval


@dataclass
class _Run:
    root: Path
    config: Config
    manifest: Manifest
    ledger: Ledger
    report: SendReport
    department: str | None
    budget: int | None
    max_attempts: int
    pause_after_failures: int
    retry_base: dt.timedelta
    clock: Clock
    sleep: Sleep
    should_stop: StopCheck | None = None
    failures: int = 0

    @property
    def campaign(self) -> str:
        return self.manifest.campaign

    def send_all(self) -> None:
        self.failures = self.ledger.consecutive_failures(self.campaign)
        senders = self.config.senders()
        batches = self._due()
        for code in [c for c in batches if c not in senders]:
            self._skip_all(batches.pop(code), f"Không có phòng/đơn vị gửi '{code}' trong config.toml.")
        # Every password before the first message, so a missing one stops nothing half-way.
        passwords = {code: None if self.report.dry_run else smtp_password(self.config.smtp[senders[code].smtp])
                     for code in batches}
        codes = list(batches)
        for index, code in enumerate(codes):
            if not self._send_batch(senders[code], passwords[code], batches[code]):
                if self.report.stopped:
                    for later in codes[index + 1:]:
                        self._skip_all(batches[later], self.report.stopped)
                return

    def _due(self) -> dict[str, list[tuple[Draft, Delivery]]]:
        """Approved or due-for-retry drafts, in manifest order, grouped by sender."""
        deliveries = self.ledger.deliveries(self.campaign)
        now = iso(self.clock())
        batches: dict[str, list[tuple[Draft, Delivery]]] = {}
        for draft in self.manifest.drafts:
            delivery = deliveries.get(draft.key)
            if delivery is None or delivery.state not in ("approved", "retrying"):
                continue
            if self.department is not None and draft.sender != self.department:
                continue
            if delivery.next_attempt_at and delivery.next_attempt_at > now:
                self._skip(draft, f"Chờ gửi lại sau {_local(delivery.next_attempt_at)} "
                                  f"(lần thử {delivery.attempts}/{self.max_attempts}).")
                continue
            batches.setdefault(draft.sender, []).append((draft, delivery))
        return batches

    def _send_batch(self, sender: Sender, password: str | None, items: list[tuple[Draft, Delivery]]) -> bool:
        """One sender's messages over one connection. False: stop the whole run (limit, pause)."""
        profile = self.config.smtp[sender.smtp]
        quota_left = _quota_left(self.ledger, sender, self.clock())
        last = self.ledger.last_started_at(sender.code)
        interval = dt.timedelta(minutes=1) / sender.schedule.messages_per_minute
        throttle = _Throttle(interval, last + interval if last else None)
        with _SmtpSession(profile, password) as session:
            for index, (draft, delivery) in enumerate(items):
                if self.budget == 0:
                    return False
                if quota_left <= 0:
                    self._skip_all(items[index:], f"Đã đủ hạn mức {sender.schedule.daily_quota} thư/ngày của "
                                                  f"{sender.name}; thư sẽ được gửi vào ngày làm việc tiếp theo.")
                    return True
                if self._halted(items[index:]):
                    return False
                prepared = self._ready(draft, delivery)
                if isinstance(prepared, str):
                    self._skip(draft, prepared)
                    continue
                quota_left -= 1
                self.budget = None if self.budget is None else self.budget - 1
                if self.report.dry_run:
                    self.report.would_send.append(draft.key)
                    continue
                throttle.wait(self.clock, self.sleep)
                if self._halted(items[index:]):  # time has passed while waiting: check again
                    return False
                try:
                    result = self._send_one(session, sender, prepared)
                except CampaignPaused as paused:
                    self.report.paused = paused.message
                    return False
                except MessageReplaced as replaced:
                    self._skip(draft, replaced.message)
                    quota_left += 1  # nothing went out
                    self.budget = None if self.budget is None else self.budget + 1
                    continue
                if result.stage == STAGE_CONNECT:
                    self._skip_all(items[index + 1:], f"Không kết nối được máy chủ thư {profile.host}:{profile.port} "
                                                      f"({result.reply}); thư còn lại của {sender.name} để lượt sau.")
                    return not self.report.paused
                if self.report.paused:
                    return False
        return True

    def _halted(self, rest: Sequence[tuple[Draft, Delivery]]) -> bool:
        """Stop before the next message: campaign not yet open or expired, or ``should_stop`` says so."""
        reason = self._halt_reason()
        if reason:
            self.report.stopped = reason
            self._skip_all(rest, reason)
        return bool(reason)

    def _halt_reason(self) -> str:
        campaign = self.config.campaigns.get(self.campaign)
        if campaign is not None and (campaign.not_before or campaign.expires):
            now = self.clock()
            if campaign.expires is not None and now >= campaign.expires:
                return (f"Chiến dịch {self.campaign} đã hết hạn lúc {_local(iso(campaign.expires))}; "
                        "thư chưa gửi sẽ không được gửi.")
            if campaign.not_before is not None and now < campaign.not_before:
                return (f"Chiến dịch {self.campaign} chỉ được gửi từ {_local(iso(campaign.not_before))}; "
                        "thư chưa được gửi.")
        if self.should_stop is not None:
            reason = self.should_stop()
            if reason:
                return reason if isinstance(reason, str) else "Đã dừng theo yêu cầu; thư còn lại để lượt sau."
        return ""

    def _ready(self, draft: Draft, delivery: Delivery) -> _Prepared | str:
        """Read and check one message; restore its approved copy if someone deleted it."""
        prepared = _prepare(self.root, self.manifest, draft, delivery)
        if not self.report.dry_run and isinstance(prepared, _Prepared):
            _keep_approved_copy(self.root, draft, delivery.message_sha256, prepared.data)
        return prepared

    def _send_one(self, session: "_SmtpSession", sender: Sender, prepared: _Prepared) -> SmtpResult:
        draft = prepared.draft
        claimed = self.ledger.claim(self.campaign, draft.key, prepared.attempt, self.clock(),
                                    replaced=lambda: _replaced_since_read(self.root, prepared))
        result = session.transmit(sender.sender, prepared.recipients, prepared.data)
        outcome = _outcome(result, claimed.attempts, self.max_attempts, self.retry_base, self.clock())
        self.ledger.finish(self.campaign, draft.key, outcome, self.clock())
        self._record(draft, outcome)
        return result

    def _record(self, draft: Draft, outcome: Outcome) -> None:
        if outcome.state == "sent":
            self.report.sent.append(draft.key)
            self.failures = 0
            return
        getattr(self.report, outcome.state).append(DraftProblem(draft.key, draft.name, outcome.error))
        self.failures += 1
        if self.failures >= self.pause_after_failures:
            reason = (f"Tự động tạm dừng sau {self.failures} lần gửi không thành công liên tiếp "
                      f"(lần cuối: {draft.key} – {outcome.error}). Kiểm tra máy chủ thư và địa chỉ người nhận.")
            self.ledger.pause(self.campaign, reason, SYSTEM_ACTOR, self.clock())
            self.report.paused = reason

    def _skip(self, draft: Draft, message: str) -> None:
        self.report.skipped.append(DraftProblem(draft.key, draft.name, message))

    def _skip_all(self, items: Sequence[tuple[Draft, Delivery]], message: str) -> None:
        for draft, _ in items:
            self._skip(draft, message)


def _prepare(root: Path, manifest: Manifest, draft: Draft, delivery: Delivery) -> _Prepared | str:
    """The approved bytes and their envelope, or why they must not be sent (Vietnamese)."""
    data = _read_eml(root, draft)
    if data is None:
        return f"Không tìm thấy {draft.folder}/message.eml; thư không được gửi. Cách sửa: chạy lại build rồi duyệt lại."
    sha = hashlib.sha256(data).hexdigest()
    if sha != delivery.message_sha256:
        return (f"message.eml đã thay đổi sau khi được duyệt ({_short(delivery.message_sha256)} → {_short(sha)}); "
                "thư không được gửi. Cách sửa: xem lại bản thảo rồi duyệt lại.")
    envelope = envelope_of(data)
    unique: dict[str, str] = {}
    for address in envelope.recipients:  # an address both in To and Cc gets the message once
        unique.setdefault(address.lower(), address)
    recipients = tuple(unique.values())
    if set(unique) != _ascii_addresses(draft.to + draft.cc):
        return (f"Người nhận trong manifest ({', '.join(draft.to + draft.cc)}) khác người nhận ghi trong thư đã "
                f"duyệt ({', '.join(recipients)}); thư không được gửi. Cách sửa: chạy lại build rồi duyệt lại.")
    files = {f.name: f.sha256 for f in (*draft.files, *manifest.attachments)} | {"message.eml": sha}
    return _Prepared(draft, data, recipients, Attempt(envelope.message_id, draft.to, draft.cc, files))


def _replaced_since_read(root: Path, prepared: _Prepared) -> str:
    """Why the message read (and checked) before the rate-limit wait must not go after all: a
    `build` has replaced it since. Asked inside the claim, where no build can be replacing it."""
    if _read_eml(root, prepared.draft) == prepared.data:
        return ""
    return ("message.eml vừa được tạo lại (outreach build) sau khi được duyệt; thư không được gửi. "
            "Cách sửa: xem lại bản thảo mới rồi duyệt lại.")


def _ascii_addresses(addresses: Sequence[str]) -> set[str]:
    """Lower-case, IDN domains in punycode (as build_message writes them); invalid ones kept as is."""
    if all(a.isascii() for a in addresses):
        return {a.lower() for a in addresses}
    result = set()
    for address in addresses:
        try:
            result.add(check_address("to", address).lower())
        except UserError:
            result.add(address.lower())
    return result


def _outcome(result: SmtpResult, attempts: int, max_attempts: int, retry_base: dt.timedelta,
             now: dt.datetime) -> Outcome:
    said = result.said
    if result.kind == "accepted":
        return Outcome("sent", result.code, result.reply)
    if result.kind == "unknown":
        return Outcome("uncertain", result.code, result.reply,
                       f"Mất kết nối sau khi đã gửi xong nội dung thư, trước khi máy chủ trả lời ({said}). "
                       "Máy chủ có thể đã nhận thư nên thư KHÔNG được gửi lại tự động; kiểm tra hộp thư người "
                       "nhận hoặc nhật ký máy chủ rồi chạy 'outreach resolve'.")
    if result.kind == "permanent":
        return Outcome("failed", result.code, result.reply, f"Máy chủ từ chối thư ({said}).")
    if attempts >= max_attempts:
        return Outcome("failed", result.code, result.reply,
                       f"Lỗi tạm thời lặp lại {attempts} lần, thôi không thử nữa ({said}).")
    delay = min(retry_base * 2 ** (attempts - 1), RETRY_CAP)
    return Outcome("retrying", result.code, result.reply,
                   f"Lỗi tạm thời, sẽ thử lại lần {attempts + 1}/{max_attempts} ({said}).", now + delay)


def _quota_left(ledger: Ledger, sender: Sender, now: dt.datetime) -> int:
    """Today's quota left, 'today' being the sender's local day."""
    tz = sender.schedule.tz
    start = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tzinfo=tz)
    return sender.schedule.daily_quota - ledger.sent_count(sender.code, start, start + dt.timedelta(days=1))


def approved_copy_path(root: Path, draft: Draft, message_sha256: str) -> Path:
    """The approved bytes, kept at approval: what is sent is byte-identical (same sha256), and the
    copy survives a later rebuild of the draft, as evidence of what the recipient received."""
    return Workspace(root).approved_copy(draft.campaign, draft.audience, draft.code, message_sha256)


def _keep_approved_copy(root: Path, draft: Draft, message_sha256: str, data: bytes) -> None:
    path = approved_copy_path(root, draft, message_sha256)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


# ====================================================================== SMTP


class _SmtpSession:
    """One SMTP connection (opened by yagmail on first use, reopened after a drop), raw bytes over it."""

    def __init__(self, profile: SmtpProfile, password: str | None) -> None:
        self.profile = profile
        self.password = password
        self._client: yagmail.SMTP | None = None

    def __enter__(self) -> "_SmtpSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self._drop()

    def transmit(self, envelope_from: str, recipients: Sequence[str], data: bytes) -> SmtpResult:
        if self._client is None:
            try:
                self._client = _connect(self.profile, self.password)
            except (OSError, smtplib.SMTPException) as error:
                return SmtpResult("temporary", getattr(error, "smtp_code", None), _error_text(error), STAGE_CONNECT,
                                  connection_lost=True)
        result = _transaction(self._client.smtp, envelope_from, recipients, data)
        if result.connection_lost:
            self._drop()
        return result

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()  # QUIT; yagmail ignores a connection already gone
            self._client = None


def _connect(profile: SmtpProfile, password: str | None) -> "yagmail.SMTP":
    import yagmail  # heavy (lxml, premailer): imported only when something is really sent

    # smtplib's own TLS default checks no certificate: give it one that checks, for both modes.
    tls = {"context": ssl.create_default_context()}
    client = yagmail.SMTP(
        # {login: alias}: yagmail would append "@gmail.com" to a bare login given as a string
        user={profile.username: profile.username} if profile.username else None,
        password=password,
        host=profile.host,
        port=profile.port,
        smtp_ssl=profile.security == "ssl",
        smtp_starttls=tls if profile.security == "starttls" else False,
        smtp_skip_login=not profile.username,
        soft_email_validation=False,
        timeout=profile.timeout_s,
        **(tls if profile.security == "ssl" else {}),
    )
    client.login()  # connect, STARTTLS if asked, AUTH unless skipped; yagmail's send() is never used
    return client


def smtp_password(profile: SmtpProfile) -> str | None:
    """The profile's password: its environment variable, else the system keyring; None without a username."""
    if not profile.username:
        return None
    password = profile.password() or _keyring_password(profile.username)
    if password and not password.isascii():
        raise UserError(
            f"Mật khẩu của hồ sơ SMTP '{profile.name}' có chữ có dấu hoặc ký tự ngoài ASCII; thư viện gửi thư "
            "(smtplib) không đăng nhập được bằng mật khẩu như vậy. Cách sửa: đổi sang mật khẩu không dấu."
        )
    if password:
        return password
    raise UserError(
        f"Hồ sơ SMTP '{profile.name}' cần mật khẩu cho {profile.username} nhưng chưa có. Cách sửa: đặt mật khẩu "
        f"vào biến môi trường {profile.password_env or '(đặt password_env trong config.toml)'}, hoặc lưu vào kho "
        f"mật khẩu của hệ thống: python -c \"import yagmail; yagmail.register('{profile.username}', 'MẬT_KHẨU')\"."
    )


def _keyring_password(username: str) -> str | None:
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, username)
    except Exception:  # no usable keyring backend on this machine (headless server, no D-Bus)
        return None


def _transaction(smtp: smtplib.SMTP, envelope_from: str, recipients: Sequence[str], data: bytes) -> SmtpResult:
    """MAIL, RCPT…, DATA with the exact bytes; every recipient must be accepted or nothing is sent."""
    stage = "MAIL FROM"
    try:
        smtp.ehlo_or_helo_if_needed()
        code, reply = smtp.mail(envelope_from, [f"SIZE={len(data)}"] if smtp.has_extn("size") else [])
        if code != 250:
            return _refused(smtp, stage, code, reply)
        for recipient in recipients:
            stage = f"RCPT TO:<{recipient}>"
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                return _refused(smtp, stage, code, reply)
        stage = "DATA"
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            return _refused(smtp, stage, code, reply)
        smtp.send(_dot_stuffed(data) + b".\r\n")
    except (OSError, smtplib.SMTPException) as error:
        return SmtpResult("temporary", None, _error_text(error), stage, connection_lost=True)
    try:
        assert smtp.sock is not None
        smtp.sock.settimeout(max(FINAL_REPLY_TIMEOUT_S, smtp.timeout))
        code, reply = smtp.getreply()
        smtp.sock.settimeout(smtp.timeout)
    except (OSError, smtplib.SMTPException) as error:
        return SmtpResult("unknown", None, _error_text(error), STAGE_AFTER_DOT, connection_lost=True)
    if code == 250:
        return SmtpResult("accepted", code, _text(reply), "DATA")
    return SmtpResult(_kind(code), code, _text(reply), STAGE_AFTER_DOT, connection_lost=code == 421)


def _refused(smtp: smtplib.SMTP, stage: str, code: int, reply: bytes) -> SmtpResult:
    """The server said no before the data: reset the transaction (or give up the connection)."""
    lost = code == 421 or not _reset(smtp)
    return SmtpResult(_kind(code), code, _text(reply), stage, connection_lost=lost)


def _reset(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.rset()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def _kind(code: int) -> Literal["temporary", "permanent"]:
    return "permanent" if 500 <= code < 600 else "temporary"


def _text(reply: bytes) -> str:
    return " ".join(reply.decode("utf-8", "replace").split())


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _dot_stuffed(data: bytes) -> bytes:
    """RFC 5321 4.5.2 transparency (a leading dot doubled), ending with CRLF."""
    if data.startswith(b".") or b"\n." in data:
        data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


# ====================================================================== test copy


@dataclass(frozen=True)
class TrialCopy:
    to: str
    message_id: str
    smtp_code: int | None
    smtp_reply: str


def send_test_copy(config: Config, draft: Draft, to_address: str) -> TrialCopy:
    """Send the draft's message to a test address: same bytes except To/Cc, Subject prefix and a new
    Message-ID. The recipient's ledger state is never touched."""
    address = check_address("to", to_address)
    sender = _sender(config, draft)
    try:
        original = draft.eml_path(config.root).read_bytes()
    except FileNotFoundError:
        raise UserError(f"Không tìm thấy {draft.folder}/message.eml. Cách sửa: chạy build trước.") from None
    message = trial_copy_message(original, address, sender.sender.rpartition("@")[2])
    profile = config.smtp[sender.smtp]
    with _SmtpSession(profile, smtp_password(profile)) as session:
        result = session.transmit(sender.sender, (address,), message_bytes(message))
    if result.kind != "accepted":
        raise UserError(f"Không gửi được bản thử tới {address} ({result.said}).")
    return TrialCopy(address, str(message["Message-ID"]), result.code, result.reply)


def trial_copy_message(original: bytes, to_address: str, message_id_domain: str) -> EmailMessage:
    """The approved message readdressed to a tester, subject marked, with its own Message-ID."""
    message = parse_message(original)
    message.replace_header("To", to_address)
    del message["Cc"]
    subject = str(message["Subject"] or "")
    if not subject.startswith(TEST_COPY_PREFIX):
        set_text_header(message, "Subject", TEST_COPY_PREFIX + subject)
    message.replace_header("Message-ID", new_message_id(message_id_domain))
    return message


# ====================================================================== status and report


@dataclass(frozen=True)
class StatusCounts:
    campaign: str
    total: dict[str, int]
    by_audience: dict[str, dict[str, int]]
    by_district: dict[str, dict[str, int]]
    pause: PauseState


def draft_state(draft: Draft, delivery: Delivery | None) -> str:
    """The delivery state, or ``drafted`` (not approved) / ``paper`` (no e-mail: print bundle).

    An approval of bytes a rebuild has since replaced counts as none: `send` would refuse the
    message, so the status must not call it approved and waiting."""
    replaced = (delivery is not None and delivery.state in ("approved", "retrying")
                and delivery.message_sha256 != draft.message_sha256)
    if delivery is None or delivery.state == "revoked" or replaced:
        return "drafted" if draft.to else "paper"
    return delivery.state


def campaign_status(ledger: Ledger, manifest: Manifest) -> StatusCounts:
    deliveries = ledger.deliveries(manifest.campaign)
    total: Counter[str] = Counter()
    by_audience: dict[str, Counter[str]] = {}
    by_district: dict[str, Counter[str]] = {}
    for draft in manifest.drafts:
        state = draft_state(draft, deliveries.get(draft.key))
        total[state] += 1
        by_audience.setdefault(draft.audience, Counter())[state] += 1
        by_district.setdefault(draft.district or "(không rõ huyện)", Counter())[state] += 1
    return StatusCounts(
        campaign=manifest.campaign,
        total=dict(total),
        by_audience={k: dict(v) for k, v in by_audience.items()},
        by_district={k: dict(v) for k, v in by_district.items()},
        pause=ledger.pause_state(manifest.campaign),
    )


REPORT_COLUMNS = (
    ("Mã", 14), ("Tên", 40), ("Nhóm", 28), ("Địa chỉ e-mail", 34), ("Đồng gửi (Cc)", 30), ("Trạng thái", 18),
    ("Số lần gửi", 10), ("Thời gian gửi", 20), ("Message-ID", 50), ("Phản hồi máy chủ", 50), ("Ghi chú", 50),
    ("SHA-256 các tệp", 80), ("Người duyệt", 20), ("Thời gian duyệt", 20),
)


def write_delivery_report(ledger: Ledger, manifest: Manifest, path: Path, timezone: str = REPORT_TIMEZONE) -> Path:
    """One row per recipient, Vietnamese headers, times in local time; written atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    tz = ZoneInfo(timezone)
    deliveries = ledger.deliveries(manifest.campaign)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Gửi thư"
    sheet.append([title for title, _ in REPORT_COLUMNS])
    for draft in manifest.drafts:
        sheet.append(_report_row(draft, deliveries.get(draft.key), manifest, tz))
    for index, (_, width) in enumerate(REPORT_COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
        sheet.cell(1, index).font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    workbook.save(temporary)
    temporary.replace(path)
    return path


def _report_row(draft: Draft, delivery: Delivery | None, manifest: Manifest, tz: ZoneInfo) -> list[object]:
    state = draft_state(draft, delivery)
    active = delivery if delivery is not None and delivery.state != "revoked" else None
    claimed = active if active is not None and active.started_at else None  # handed to a server at least once
    hashes = claimed.file_hashes if claimed else {f.name: f.sha256 for f in (*draft.files, *manifest.attachments)}
    reply = ""
    if active and active.smtp_reply:
        reply = f"{active.smtp_code or ''} {active.smtp_reply}".strip()
    return [
        draft.code,
        draft.name,
        AUDIENCE_LABELS.get(draft.audience, draft.audience),
        "; ".join(claimed.to if claimed else draft.to),
        "; ".join(claimed.cc if claimed else draft.cc),
        STATE_LABELS[state],
        active.attempts if active else 0,
        _excel_time(active.sent_at if active else None, tz),
        active.message_id if active else "",
        reply,
        active.last_error if active else "",
        "\n".join(f"{name}: {sha}" for name, sha in sorted(hashes.items())),
        active.approved_by if active else "",
        _excel_time(active.approved_at if active else None, tz),
    ]


def _excel_time(value: str | None, tz: ZoneInfo) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(tz).replace(tzinfo=None) if value else None


# ====================================================================== helpers


def _select(manifest: Manifest, keys: Sequence[str] | None) -> list[Draft]:
    if keys is None:
        return list(manifest.drafts)
    return [manifest.draft(key) for key in dict.fromkeys(keys)]


def _sender(config: Config, draft: Draft) -> Sender:
    try:
        return config.senders()[draft.sender]
    except KeyError:
        raise UserError(f"{_who(draft)}: không có phòng/đơn vị gửi '{draft.sender}' trong config.toml.") from None


def _read_eml(root: Path, draft: Draft) -> bytes | None:
    try:
        return draft.eml_path(root).read_bytes()
    except FileNotFoundError:
        return None


def _person(name: str, role: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise UserError(f"Cần ghi tên {role} (ví dụ --by 'Nguyễn Văn A') để lưu làm bằng chứng.")
    return name


def _who(draft: Draft) -> str:
    return f"{draft.key} ({draft.name})"


def _short(sha: str) -> str:
    return sha[:12] + "…" if len(sha) == 64 else sha


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _local(value: str) -> str:
    return dt.datetime.fromisoformat(value).astimezone(ZoneInfo(REPORT_TIMEZONE)).strftime("%H:%M ngày %d/%m/%Y")
