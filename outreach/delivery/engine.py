"""Sending: what staff approved is exactly what is sent, to each recipient once.

* ``send_campaign`` hands the approved bytes, unchanged, to the draft's channel
  (``messengers[draft.channel]``: e-mail, or paper for a recipient without one), one session per
  sender and channel: the row is committed ``sending`` before the handover, and ``sent`` (printed
  on paper, with the channel's answer) after. A row found ``sending`` at start belonged to a
  process that died mid-send: it becomes ``uncertain`` and waits for a person (``resolve``), never
  an automatic resend. The sender's quota, rate and ``limit`` bind paced channels only (a mail
  server's limits); unpaced ones (paper) go first, so the mail's quota or a window closing during
  the run never holds them back.
* The channel's answer decides the state: ``temporary`` -> ``retrying`` with backoff (``failed``
  after the last attempt), ``permanent`` -> ``failed``, ``unknown`` (handed over, no answer) ->
  ``uncertain``: the recipient may have the message. ``unreachable`` leaves that sender's other
  messages for the next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing, nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..accounts import Actor
from ..config import Config, Sender
from ..errors import UserError
from ..localtime import local_time
from ..outbox import Draft, DraftProblem, Halt, Manifest, Skip, Stop
from .approval import Clock, _keep_approved_copy, _read_payload, _short
from .ledger import (
    ACCEPTED,
    CLAIMABLE,
    SYSTEM_ACTOR,
    Attempt,
    CampaignPaused,
    Delivery,
    Ledger,
    MessageReplaced,
    Outcome,
    State,
    iso,
    paused_error,
    utc_now,
)
from .messenger import EMAIL, PAPER, Handover, Messenger, Result, Session
from .notices import envelope_sender
from .paper import PaperMessenger
from .smtp import SmtpMessenger

Sleep = Callable[[float], None]
StopCheck = Callable[[], "Halt | None"]  # a reason to stop before the next message
_log = logging.getLogger("outreach.delivery")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a run tries: attempts per message, the backoff between them, and how many failed
    messages in a row pause the campaign (a broken server or list should not burn through it)."""

    max_attempts: int = 5
    pause_after_failures: int = 10
    retry_base: dt.timedelta = dt.timedelta(minutes=5)
    cap: dt.timedelta = dt.timedelta(hours=6)

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th temporary failure: doubling from ``retry_base``, at most ``cap``."""
        return min(self.retry_base * 2 ** (attempts - 1), self.cap)


@dataclass
class SendReport:
    campaign: str
    dry_run: bool
    sent: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)  # paper letters put in a print bundle
    would_send: list[str] = field(default_factory=list)
    retrying: list[DraftProblem] = field(default_factory=list)
    failed: list[DraftProblem] = field(default_factory=list)
    uncertain: list[DraftProblem] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)  # left "sending" by a dead process -> uncertain
    skipped: list[DraftProblem] = field(default_factory=list)  # not sent this run, state unchanged
    paused: str = ""
    stopped: str = ""  # why the run stopped before the end (expiry, window closed, stop asked), Vietnamese
    stop: Stop | None = None  # the same, for code

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Prepared:
    draft: Draft
    handover: Handover
    attempt: Attempt


def send_campaign(
    config: Config,
    manifest: Manifest,
    ledger: Ledger,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    department: str | None = None,
    retry: RetryPolicy = RetryPolicy(),
    messengers: Mapping[str, Messenger] | None = None,
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    should_stop: StopCheck | None = None,
    retry_now: bool = False,
    by: Actor = SYSTEM_ACTOR,
) -> SendReport:
    """Send every approved, due, unchanged draft once; see the module docstring for the guarantees.

    ``retry_now``: a person asked for the messages waiting to be tried again to go now, not at
    their next attempt's time (the number of attempts still counts).

    ``messengers`` maps a channel to its messenger; by default e-mail through config.toml's SMTP
    profiles, and paper into the campaign's print bundles; a draft whose channel has none is
    skipped. Right before each message is handed over (after the rate-limit wait) the run checks
    the campaign's ``not_before``/``expires`` from config.toml and ``should_stop``: a letter is sent
    on time or not at all, and a stop request lets the message in flight finish, never cuts it.
    Whatever is left is reported in ``skipped`` with the reason, also in ``stopped``. ``by``: the
    actor the run's events record (the sending process, with where it was started).
    """
    campaign = manifest.campaign
    if department is not None and department not in config.senders():
        raise UserError(f"Không có phòng/đơn vị gửi '{department}' trong config.toml. "
                        f"Các mã: {', '.join(config.senders())}.")
    pause = ledger.pause_state(campaign)
    if pause.paused:
        raise paused_error(campaign, pause)
    report = SendReport(campaign, dry_run)
    if messengers is None:
        messengers = {EMAIL: SmtpMessenger(config.smtp),
                      PAPER: PaperMessenger(config.workspace.paper_bundles(campaign))}
    run = _Run(config.root, config, manifest, ledger, report, department, limit, retry, messengers, clock, sleep,
               should_stop, retry_now, by)
    if dry_run:
        run.send_all()
        return report
    with ledger.send_lock(campaign):
        report.interrupted = [d.key for d in ledger.mark_interrupted(campaign, clock(), by)]
        run.send_all()
    return report


@dataclass
class _Throttle:
    """At most ``messages_per_minute``: messages of one sender start at least 60/n seconds apart.

    Never more than one interval of waiting: a last start later than now means the clock went back
    (or ``run --at`` a moment in the past), and waiting for that start could take hours or years;
    it counts as a start just now."""

    sender: str
    interval: dt.timedelta
    next_at: dt.datetime | None

    def wait(self, clock: Clock, sleep: Sleep) -> None:
        now = clock()
        if self.next_at is not None and now < self.next_at:
            if self.next_at - now > self.interval:
                _log.warning("Đồng hồ đang chỉ %s, sớm hơn lần gửi gần nhất của %s (%s): coi lần gửi đó như vừa "
                             "xong, chỉ chờ %g giây. Kiểm tra đồng hồ của máy.", local_time(now), self.sender,
                             local_time(self.next_at - self.interval), self.interval.total_seconds())
            sleep(min(self.next_at - now, self.interval).total_seconds())
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
    retry: RetryPolicy
    messengers: Mapping[str, Messenger]
    clock: Clock
    sleep: Sleep
    should_stop: StopCheck | None = None
    retry_now: bool = False
    actor: Actor = SYSTEM_ACTOR
    failures: int = 0

    @property
    def campaign(self) -> str:
        return self.manifest.campaign

    def send_all(self) -> None:
        self.failures = self.ledger.consecutive_failures(self.campaign)
        senders = self.config.senders()
        batches = self._due()
        for code, channel in list(batches):
            if code not in senders:
                self._skip_all(batches.pop((code, channel)), Skip.NO_SENDER,
                               f"Không có phòng/đơn vị gửi '{code}' trong config.toml.")
            elif channel not in self.messengers:
                self._skip_all(batches.pop((code, channel)), Skip.NO_CHANNEL,
                               f"Không gửi được qua kênh '{channel}' trong lần gửi này.")
        if not self.report.dry_run:  # every credential before the first message: none missing half-way
            for code, channel in batches:
                self.messengers[channel].check(senders[code])
        order = sorted(batches, key=lambda batch: self.messengers[batch[1]].paced)  # stable: senders in order
        for index, (code, channel) in enumerate(order):
            if not self._send_batch(senders[code], self.messengers[channel], batches[code, channel]):
                if self.report.stop is not None:
                    for later in order[index + 1:]:
                        self._skip_all(batches[later], Skip.STOPPED, self.report.stopped)
                return

    def _due(self) -> dict[tuple[str, str], list[tuple[Draft, Delivery]]]:
        """Approved or due-for-retry drafts, in manifest order, grouped by sender and channel."""
        deliveries = self.ledger.deliveries(self.campaign)
        now = iso(self.clock())
        batches: dict[tuple[str, str], list[tuple[Draft, Delivery]]] = {}
        for draft in self.manifest.drafts:
            delivery = deliveries.get(draft.key)
            if delivery is None or delivery.state not in CLAIMABLE:
                continue
            if self.department is not None and draft.sender != self.department:
                continue
            if delivery.next_attempt_at and delivery.next_attempt_at > now and not self.retry_now:
                self._skip(draft, Skip.RETRY_LATER, f"Chờ gửi lại sau {local_time(delivery.next_attempt_at)} "
                                  f"(lần thử {delivery.attempts}/{self.retry.max_attempts}).")
                continue
            batches.setdefault((draft.sender, draft.channel), []).append((draft, delivery))
        return batches

    def _send_batch(self, sender: Sender, messenger: Messenger, items: list[tuple[Draft, Delivery]]) -> bool:
        """One sender's messages on one channel in one session. False: stop the whole run (limit, pause)."""
        paced = messenger.paced
        quota_left = sender.schedule.daily_quota - self.ledger.sent_today(sender, self.clock())
        last = self.ledger.last_started_at(sender.code, messenger.name)
        interval = dt.timedelta(minutes=1) / sender.schedule.messages_per_minute
        throttle = _Throttle(sender.code, interval, last + interval if last else None)
        opened = nullcontext() if self.report.dry_run else closing(messenger.open(sender))
        with opened as session:
            for index, (draft, delivery) in enumerate(items):
                if paced and self.budget == 0:
                    return False
                if paced and quota_left <= 0:
                    self._skip_all(items[index:], Skip.QUOTA,
                                   f"Đã đủ hạn mức {sender.schedule.daily_quota} thư/ngày của "
                                   f"{sender.name}; thư sẽ được gửi vào ngày làm việc tiếp theo.")
                    return True
                if self._halted(items[index:]):
                    return False
                prepared = self._ready(sender, messenger, draft, delivery)
                if isinstance(prepared, DraftProblem):
                    self.report.skipped.append(prepared)
                    continue
                if paced:
                    quota_left -= 1
                    self.budget = None if self.budget is None else self.budget - 1
                if session is None:  # dry run
                    self.report.would_send.append(draft.key)
                    continue
                if paced:
                    throttle.wait(self.clock, self.sleep)
                    if self._halted(items[index:]):  # time has passed while waiting: check again
                        return False
                try:
                    result = self._send_one(session, prepared)
                except CampaignPaused as paused:
                    self.report.paused = paused.message
                    return False
                except MessageReplaced as replaced:
                    self._skip(draft, Skip.CHANGED, replaced.message)
                    quota_left += 1  # nothing went out
                    self.budget = None if self.budget is None else self.budget + 1
                    continue
                if result.unreachable:
                    self._skip_all(items[index + 1:], Skip.UNREACHABLE,
                                   f"Không kết nối được {result.where} ({result.reply}); "
                                   f"thư còn lại của {sender.name} để lượt sau." +
                                   (f" {result.advice}" if result.advice else ""))
                    return not self.report.paused
                if self.report.paused:
                    return False
        return True

    def _halted(self, rest: Sequence[tuple[Draft, Delivery]]) -> bool:
        """Stop before the next message: campaign not yet open or expired, or ``should_stop`` says so."""
        halt = self._halt_reason()
        if halt is not None:
            self.report.stop, self.report.stopped = halt.reason, halt.message
            self._skip_all(rest, Skip.STOPPED, halt.message)
        return halt is not None

    def _halt_reason(self) -> Halt | None:
        campaign = self.config.campaigns.get(self.campaign)
        if campaign is not None and (campaign.not_before or campaign.expires):
            now = self.clock()
            if campaign.has_expired(now):
                return Halt(Stop.EXPIRED, f"Chiến dịch {self.campaign} đã hết hạn lúc "
                                          f"{local_time(campaign.expires)}; thư chưa gửi sẽ không được gửi.")
            if campaign.not_yet_open(now):
                return Halt(Stop.NOT_YET_OPEN, f"Chiến dịch {self.campaign} chỉ được gửi từ "
                                               f"{local_time(campaign.not_before)}; thư chưa được gửi.")
        return self.should_stop() if self.should_stop is not None else None

    def _ready(self, sender: Sender, messenger: Messenger, draft: Draft,
               delivery: Delivery) -> _Prepared | DraftProblem:
        """Read and check one message; restore its approved copy if someone deleted it."""
        archive = sender.mailbox.archive_bcc if sender.mailbox is not None and messenger.name == EMAIL else ""
        prepared = _prepare(self.root, self.manifest, draft, delivery,
                            *envelope_sender(self.root, sender, self.campaign, draft.key), messenger, archive)
        if not self.report.dry_run and isinstance(prepared, _Prepared):
            _keep_approved_copy(self.root, draft, delivery.message_sha256, prepared.handover.data)
        return prepared

    def _send_one(self, session: Session, prepared: _Prepared) -> Result:
        draft = prepared.draft
        claimed = self.ledger.claim(self.campaign, draft.key, prepared.attempt, self.clock(),
                                    replaced=lambda: _replaced_since_read(self.root, prepared), by=self.actor)
        result = session.deliver(prepared.handover)
        outcome = _outcome(result, claimed.attempts, self.retry, self.clock())
        stored = self.ledger.finish(self.campaign, draft.key, outcome, self.clock(), self.actor)
        self._record(draft, outcome, stored)
        return result

    def _record(self, draft: Draft, outcome: Outcome, stored: State) -> None:
        if stored in ACCEPTED.values():
            getattr(self.report, stored).append(draft.key)  # sent, printed
            self.failures = 0
            return
        getattr(self.report, outcome.state).append(DraftProblem(draft.key, draft.name, outcome.error))
        self.failures += 1
        if self.failures >= self.retry.pause_after_failures:
            reason = (f"Tự động tạm dừng sau {self.failures} lần gửi không thành công liên tiếp "
                      f"(lần cuối: {draft.key} – {outcome.error}). Kiểm tra máy chủ thư và địa chỉ người nhận.")
            self.ledger.pause(self.campaign, reason, self.actor, self.clock())
            self.report.paused = reason

    def _skip(self, draft: Draft, reason: Skip, message: str) -> None:
        self.report.skipped.append(draft.skipped(reason, message))

    def _skip_all(self, items: Sequence[tuple[Draft, Delivery]], reason: Skip, message: str) -> None:
        for draft, _ in items:
            self._skip(draft, reason, message)


def _prepare(root: Path, manifest: Manifest, draft: Draft, delivery: Delivery, envelope_from: str, envelope_id: str,
             messenger: Messenger, archive: str = "") -> _Prepared | DraftProblem:
    """The approved bytes and their envelope, or why they must not be sent. ``archive``: one more
    envelope recipient (a blind copy the bytes do not name), the sender's archive address."""
    data = _read_payload(root, draft)
    if data is None:
        return draft.skipped(Skip.MISSING, f"Không tìm thấy {draft.folder}/{draft.payload}; thư không được gửi. "
                                           "Cách sửa: chạy lại build rồi duyệt lại.")
    sha = hashlib.sha256(data).hexdigest()
    if sha != delivery.message_sha256:
        return draft.skipped(Skip.CHANGED, f"{draft.payload} đã thay đổi sau khi được duyệt "
                                           f"({_short(delivery.message_sha256)} → {_short(sha)}); "
                                           "thư không được gửi. Cách sửa: xem lại bản thảo rồi duyệt lại.")
    envelope = messenger.envelope(draft, data)
    if isinstance(envelope, str):
        return draft.skipped(Skip.RECIPIENTS, envelope)
    files = {f.name: f.sha256 for f in (*draft.files, *manifest.attachments)} | {draft.payload: sha}
    recipients = envelope.recipients
    if archive and archive.lower() not in {r.lower() for r in recipients}:
        recipients += (archive,)
    return _Prepared(draft, Handover(draft.key, envelope_from, recipients, data, envelope_id),
                     Attempt(messenger.name, envelope.message_id, draft.to, draft.cc, files))


def _replaced_since_read(root: Path, prepared: _Prepared) -> str:
    """Why the payload read (and checked) before the rate-limit wait must not go after all: a
    `build` has replaced it since. Asked inside the claim, where no build can be replacing it."""
    if _read_payload(root, prepared.draft) == prepared.handover.data:
        return ""
    return (f"{prepared.draft.payload} vừa được tạo lại (outreach build) sau khi được duyệt; thư không được gửi. "
            "Cách sửa: xem lại bản thảo mới rồi duyệt lại.")


def _outcome(result: Result, attempts: int, retry: RetryPolicy, now: dt.datetime) -> Outcome:
    sent = Outcome("sent", result.code, result.reply, result.where)  # every state keeps the answer
    said = result.said
    advice = f" {result.advice}" if result.advice else ""
    if result.kind == "accepted":
        return sent
    if result.kind == "unknown":
        return replace(sent, state="uncertain", error=(
            f"Mất kết nối sau khi đã gửi xong nội dung thư, trước khi máy chủ trả lời ({said}). "
            "Máy chủ có thể đã nhận thư nên thư KHÔNG được gửi lại tự động; kiểm tra hộp thư người "
            "nhận hoặc nhật ký máy chủ rồi chạy 'outreach resolve'."))
    if result.kind == "permanent":
        return replace(sent, state="failed", error=f"Máy chủ từ chối thư ({said}).{advice}")
    if attempts >= retry.max_attempts:
        return replace(sent, state="failed",
                       error=f"Lỗi tạm thời lặp lại {attempts} lần, thôi không thử nữa ({said}).{advice}")
    return replace(sent, state="retrying", next_attempt_at=now + retry.delay(attempts),
                   error=f"Lỗi tạm thời, sẽ thử lại lần {attempts + 1}/{retry.max_attempts} ({said}).{advice}")

