"""``outreach collect``: what came back to the senders' mailboxes after the 250, read over IMAP.

For each mailbox (config.toml ``[departments.X.mailbox]``, ``[district_offices.X.mailbox]``), its
folder is read from the last UID handled on (the ledger keeps UIDVALIDITY and that UID per
mailbox and folder; a new UIDVALIDITY starts again from the first message, and what was already
handled is known by the sha256 of its bytes, so nothing is handled twice and nothing is missed).
Each message is recognised (``notices``), tied to its delivery by every clue it gives (return-path
token, Message-ID, Final-Recipient), its raw bytes kept under the campaign's folder, and recorded in
one transaction with the cursor; only then is it moved to the mailbox's ``processed_folder``.
Nothing is ever deleted. A message of another campaign (when one is named), or of none, is left in
place and listed; a reply stays in the inbox for the person who answers it.

Uncertain sends are looked up by Message-ID in the sender's ``sent_folder``: a copy there settles
them as sent, with that evidence; otherwise they stay for a person (``outreach resolve``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import imaplib
import os
import re
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..config import Config, Mailbox
from ..errors import UserError
from ..outbox import Draft, read_manifest
from ..workspace import Workspace, held_alone
from .ledger import (
    BOUNCEABLE,
    INBOUND_LABELS,
    Inbound,
    InboundMessage,
    Ledger,
    State,
    utc_now,
)
from .notices import Notice, read_notice, return_path_secret, verp_token
from .supplementary import Supplement, supplement

Clock = Callable[[], dt.datetime]
IMAP_TIMEOUT_S = 60.0
FETCH_BATCH = 50
# Handled messages leave the folder being read; a reply stays for the person who answers it, and
# what ties to nothing stays where staff look.
MOVED = frozenset({Inbound.BOUNCE, Inbound.DELAY, Inbound.AUTO_REPLY, Inbound.COPY})
CLUE_LABELS = {"token": "đường trả về (VERP)", "envelope_id": "ENVID", "message_id": "Message-ID",
               "recipient": "Final-Recipient"}


@dataclass(frozen=True)
class Found:
    """One message collect handled or left alone, as its output lists it."""

    mailbox: str
    uid: int
    kind: str
    campaign: str = ""
    key: str = ""
    status: str = ""
    text: str = ""
    from_address: str = ""
    subject: str = ""
    clues: str = ""
    evidence: str = ""


@dataclass
class CollectReport:
    mailboxes: list[str] = field(default_factory=list)
    bounced: list[Found] = field(default_factory=list)
    delayed: list[Found] = field(default_factory=list)
    replied: list[Found] = field(default_factory=list)
    auto_replies: list[Found] = field(default_factory=list)
    confirmed_sent: list[Found] = field(default_factory=list)  # uncertain -> sent: a copy in the Sent folder
    unmatched: list[Found] = field(default_factory=list)  # left in place: ties to no message of ours
    other_campaign: list[Found] = field(default_factory=list)  # left in place: another campaign's
    errors: list[str] = field(default_factory=list)  # a mailbox that could not be read (Vietnamese)
    supplements: list[Supplement] = field(default_factory=list)  # letters put on paper: the e-mail did not reach them

    def as_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One Vietnamese line of what was found ("" when nothing was), for the scheduler's log."""
        counts = ((self.bounced, "thư bị trả lại"), (self.delayed, "thư báo chậm chuyển"),
                  (self.replied, "thư trả lời"), (self.auto_replies, "thư trả lời tự động"),
                  (self.confirmed_sent, "thư chưa chắc chắn nay xác nhận đã gửi"),
                  (self.unmatched, "thư không khớp (để nguyên trong hộp thư)"),
                  (self.other_campaign, "thư của chiến dịch khác (để nguyên)"))
        parts = [f"{len(items)} {label}" for items, label in counts if items]
        parts += [f"{len(s.added)} thư chuyển sang bản giấy ({s.bundle})" for s in self.supplements if s.added]
        parts += self.errors
        return ("hộp thư: " + ", ".join(parts)) if parts else ""


def collect(config: Config, ledger: Ledger, campaign: str | None = None, *, clock: Clock = utc_now,
            limit: int | None = None) -> CollectReport:
    """Read every sender's mailbox once (or only those of ``campaign``'s senders, acting on its
    messages only), then put on paper what the e-mail did not reach (``supplementary``).
    ``limit``: at most that many new messages per folder in this run.  A second collect of the
    working folder while one runs is refused at once."""
    if campaign is not None and not Workspace(config.root).manifest(campaign).exists():
        config.campaign(campaign)  # an unknown name is a mistake, said with the known ones
    with held_alone(Workspace(config.root).collect_lock, _refusal):
        return _collect(config, ledger, campaign, clock, limit)


def _refusal(holder: str) -> UserError:
    return UserError(f"Hộp thư đang được một lượt thu thập khác đọc (tiến trình {holder or '?'}): hãy chờ lượt đó "
                     "xong rồi chạy lại 'outreach collect'.")


def _collect(config: Config, ledger: Ledger, campaign: str | None, clock: Clock, limit: int | None) -> CollectReport:
    report = CollectReport()
    mailboxes = config.mailboxes()
    if campaign is not None:
        senders = _senders_of(config, campaign)
        mailboxes = [m for m in mailboxes if m.sender in senders]
    index = _Index.build(config, ledger) if mailboxes else _Index({}, {}, {}, {})
    for mailbox in mailboxes:
        report.mailboxes.append(mailbox.name)
        try:
            with _open(mailbox) as imap:
                _Folder(config, ledger, index, mailbox, imap, campaign, report, clock, limit).run()
                _confirm_uncertain(config, ledger, index, mailbox, imap, campaign, report, clock)
        except (OSError, imaplib.IMAP4.error) as error:
            report.errors.append(f"Không đọc được hộp thư {mailbox.name} (phòng/đơn vị {mailbox.sender}): "
                                 f"{type(error).__name__}: {error}. Sẽ đọc lại ở lượt sau.")
    workspace = Workspace(config.root)
    for name in sorted({c for c, _ in ledger.delivery_keys()} if campaign is None else {campaign}):
        if not workspace.manifest(name).exists():  # no drafts to print (a campaign of another working folder)
            continue
        try:
            added = supplement(config, ledger, name, clock=clock)
        except UserError as error:
            report.errors.append(error.message)
            continue
        if added is not None:
            report.supplements.append(added)
            report.errors += added.problems
    return report


def _senders_of(config: Config, campaign: str) -> set[str]:
    try:
        manifest = read_manifest(config.root, campaign)
    except UserError:
        return set()
    return {draft.sender for draft in manifest.drafts}


@dataclass
class _Index:
    """Every delivery's clues: return-path token and Message-ID -> (campaign, key); and its drafts."""

    tokens: dict[str, tuple[str, str]]
    message_ids: dict[str, tuple[str, str]]
    drafts: dict[tuple[str, str], Draft]
    addresses: dict[tuple[str, str], frozenset[str]]

    @classmethod
    def build(cls, config: Config, ledger: Ledger) -> _Index:
        pairs = ledger.delivery_keys()
        drafts: dict[tuple[str, str], Draft] = {}
        for name in sorted({c for c, _ in pairs}):
            try:
                manifest = read_manifest(config.root, name)
            except UserError:
                continue
            drafts.update({(name, d.key): d for d in manifest.drafts})
        addresses = {pair: frozenset(a.lower() for a in (*d.to, *d.cc)) for pair, d in drafts.items()}
        secret = return_path_secret(config.root)
        return cls({verp_token(secret, c, k): (c, k) for c, k in pairs}, ledger.message_ids(), drafts, addresses)

    def tie(self, notice: Notice) -> tuple[tuple[str, str] | None, list[str], bool]:
        """(campaign, key) the clues agree on, which clues did, and whether they disagreed."""
        by_token = {self.tokens[t] for t in notice.tokens if t in self.tokens}
        by_envelope_id = {self.tokens[t] for t in notice.envelope_ids if t in self.tokens}
        ids = notice.quoted_ids if notice.kind != Inbound.COPY else (notice.own_id,)
        matching = [self.message_ids[i] for i in ids if i in self.message_ids]
        # An answer belongs to the message it answers, the nearest one; a report names only its own.
        by_id = set(matching[:1]) if notice.kind in (Inbound.REPLY, Inbound.AUTO_REPLY) else set(matching)
        candidates = by_token | by_envelope_id | by_id
        if len(candidates) != 1:
            return None, [], len(candidates) > 1
        (pair,) = candidates
        clues = [name for name, found in (("token", by_token), ("envelope_id", by_envelope_id), ("message_id", by_id))
                 if found]
        if any(r.address in self.addresses.get(pair, ()) for r in notice.recipients):
            clues.append("recipient")
        return pair, clues, False


class _open:
    """An IMAP connection, logged in, closed (LOGOUT) on leaving."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    def __enter__(self) -> imaplib.IMAP4:
        box = self.mailbox
        if box.plaintext_login:
            raise UserError(
                f"Hộp thư {box.name} (phòng/đơn vị {box.sender}) sẽ nhận mật khẩu qua kết nối không mã hóa "
                f"(security = \"none\"): ai nghe được đường truyền cũng đọc được mật khẩu. Cách sửa: dùng "
                f"security = \"ssl\" hoặc \"starttls\"; chỉ khi máy chủ nằm trong mạng nội bộ tin cậy mới ghi "
                f"allow_plaintext_auth = true trong [{_table(box)}.mailbox].")
        password = box.password()
        if not password:
            raise UserError(f"Hộp thư {box.name} (phòng/đơn vị {box.sender}) cần mật khẩu nhưng biến môi trường "
                            f"{box.password_env} chưa có. Cách sửa: đặt mật khẩu vào biến môi trường đó rồi chạy lại.")
        context = ssl.create_default_context()
        if box.security == "ssl":
            imap = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=IMAP_TIMEOUT_S)
        else:
            imap = imaplib.IMAP4(box.host, box.port, timeout=IMAP_TIMEOUT_S)
            if box.security == "starttls":
                imap.starttls(ssl_context=context)
        try:
            imap.login(box.username, password)
        except imaplib.IMAP4.error as error:
            _logout(imap)
            raise UserError(f"Máy chủ {box.host}:{box.port} từ chối đăng nhập hộp thư {box.username} "
                            f"({error}). Cách sửa: kiểm tra username trong [{_table(box)}.mailbox] và mật khẩu "
                            f"trong biến môi trường {box.password_env}.") from None
        # What a server offers changes at login (Dovecot lists MOVE only then): ask again.
        imap.capabilities = tuple(_check(imap.capability(), "CAPABILITY")[-1].decode().upper().split())
        self.imap = imap
        return imap

    def __exit__(self, *exc: object) -> None:
        _logout(self.imap)


def _logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def _table(box: Mailbox) -> str:
    return f"departments.{box.sender} (hoặc district_offices.{box.sender})"


def _quote(folder: str) -> str:
    """A folder name as an IMAP quoted string (modified UTF-7 for anything beyond ASCII)."""
    encoded = folder if folder.isascii() else _utf7(folder)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utf7(text: str) -> str:
    """RFC 3501 5.1.3 modified UTF-7."""
    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            out.append("&" + base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=").replace("/", ",") + "-")
            pending = ""

    for char in text:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    return "".join(out)


def _check(response: tuple[str, list], what: str) -> list:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {status} {data}")
    return data


def _select(imap: imaplib.IMAP4, folder: str, readonly: bool = False) -> int:
    """Select ``folder``; returns its UIDVALIDITY."""
    _check(imap.select(_quote(folder), readonly=readonly), f"SELECT {folder}")
    return int(imap.response("UIDVALIDITY")[1][0])


def _uids(imap: imaplib.IMAP4, criteria: str) -> list[int]:
    data = _check(imap.uid("SEARCH", None, criteria), f"UID SEARCH {criteria}")
    return sorted(int(uid) for uid in b" ".join(part for part in data if part).split())


def _fetch(imap: imaplib.IMAP4, uids: Sequence[int]) -> dict[int, bytes]:
    """The raw bytes of these messages, leaving them unread (BODY.PEEK)."""
    found: dict[int, bytes] = {}
    for start in range(0, len(uids), FETCH_BATCH):
        chunk = ",".join(str(uid) for uid in uids[start:start + FETCH_BATCH])
        for item in _check(imap.uid("FETCH", chunk, "(UID BODY.PEEK[])"), "UID FETCH"):
            if isinstance(item, tuple):
                uid = re.search(rb"UID (\d+)", item[0])
                if uid:
                    found[int(uid.group(1))] = item[1]
    return found


def _move(imap: imaplib.IMAP4, uids: Sequence[int], target: str) -> None:
    """MOVE (RFC 6851), or COPY and mark deleted where MOVE is missing; never an EXPUNGE of others."""
    if not uids:
        return
    uid_set = ",".join(str(uid) for uid in uids)
    if "MOVE" in imap.capabilities:
        _check(imap.uid("MOVE", uid_set, _quote(target)), f"UID MOVE {target}")
        return
    _check(imap.uid("COPY", uid_set, _quote(target)), f"UID COPY {target}")
    _delete(imap, uids)


def _delete(imap: imaplib.IMAP4, uids: Sequence[int]) -> None:
    """Mark deleted, and expunge these only (UIDPLUS); without it they stay, marked, for the
    mailbox's own clean-up."""
    if not uids:
        return
    uid_set = ",".join(str(uid) for uid in uids)
    _check(imap.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)"), "UID STORE")
    if "UIDPLUS" in imap.capabilities:
        _check(imap.uid("EXPUNGE", uid_set), "UID EXPUNGE")


def _ensure_folder(imap: imaplib.IMAP4, folder: str) -> None:
    status, _ = imap.create(_quote(folder))  # NO when it exists already: fine either way
    if status != "OK":
        _check(imap.status(_quote(folder), "(MESSAGES)"), f"tạo thư mục {folder}")


@dataclass
class _Folder:
    config: Config
    ledger: Ledger
    index: _Index
    mailbox: Mailbox
    imap: imaplib.IMAP4
    campaign: str | None
    report: CollectReport
    clock: Clock
    limit: int | None

    def run(self) -> None:
        box = self.mailbox
        uidvalidity = _select(self.imap, box.folder)
        cursor = self.ledger.mailbox_cursor(box.name, box.folder)
        last = cursor[1] if cursor is not None and cursor[0] == uidvalidity else 0
        known = {m.sha256: m for m in self.ledger.inbound(mailbox=box.name)}
        self._move_recorded(known.values(), uidvalidity, last)
        new = [uid for uid in _uids(self.imap, f"UID {last + 1}:*") if uid > last]  # n:* always has the last
        if self.limit is not None:
            new = new[:self.limit]
        if not new and cursor is not None and cursor[0] != uidvalidity:
            self.ledger.advance_cursor(box.name, box.folder, uidvalidity, 0, self.clock())
        held = False  # once a message is left for another campaign, the cursor stays before it
        for start in range(0, len(new), FETCH_BATCH):
            batch = new[start:start + FETCH_BATCH]
            to_move: list[int] = []
            for uid, raw in sorted(_fetch(self.imap, batch).items()):
                outcome = self._handle(uidvalidity, uid, raw, known, advance=not held)
                held = held or outcome == "held"
                if outcome == "move":
                    to_move.append(uid)
            if to_move:
                _ensure_folder(self.imap, box.processed_folder)
                _move(self.imap, to_move, box.processed_folder)

    def _move_recorded(self, known: Iterable[InboundMessage], uidvalidity: int, last: int) -> None:
        """Messages recorded by a run that stopped before it could move them: move them now."""
        recorded = {m.uid: m.sha256 for m in known if m.folder == self.mailbox.folder
                    and m.uidvalidity == uidvalidity and m.kind in MOVED and m.uid <= last}
        if not recorded:
            return
        left = [uid for uid in _uids(self.imap, f"UID 1:{last}") if uid in recorded]  # what is still here
        if not left:
            return
        target = self.mailbox.processed_folder
        _ensure_folder(self.imap, target)
        if "MOVE" in self.imap.capabilities:  # one command: the server did it all or nothing
            _move(self.imap, left, target)
            return
        # Without MOVE the run may have stopped between COPY and EXPUNGE: what it marked deleted it had
        # copied, and what it copied but had not marked yet is in the target already.
        deleted = set(_uids(self.imap, f"UID 1:{last} DELETED"))
        unmarked = [uid for uid in left if uid not in deleted]
        copied = self._copied(unmarked, {recorded[uid] for uid in unmarked}, uidvalidity)
        _move(self.imap, [uid for uid in unmarked if recorded[uid] not in copied], target)
        _delete(self.imap, [uid for uid in left if uid in deleted or recorded[uid] in copied])

    def _copied(self, uids: Sequence[int], wanted: set[str], uidvalidity: int) -> set[str]:
        """Which of these messages (by sha256) the processed folder holds; the folder read is selected
        again after looking."""
        if not uids:
            return set()
        data = _check(self.imap.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)"), "UID FETCH")
        sizes = {int(size) for size in re.findall(rb"RFC822\.SIZE (\d+)", b" ".join(d for d in data if isinstance(d, bytes)))}
        _select(self.imap, self.mailbox.processed_folder, readonly=True)
        # A copy has the same size: only those are read back and compared.
        same_size = sorted({uid for size in sizes for uid in _uids(self.imap, f"LARGER {size - 1} SMALLER {size + 1}")})
        found = {hashlib.sha256(raw).hexdigest() for raw in _fetch(self.imap, same_size).values()} & wanted
        if _select(self.imap, self.mailbox.folder) != uidvalidity:
            raise imaplib.IMAP4.error(f"thư mục {self.mailbox.folder} vừa đổi UIDVALIDITY trong lúc đọc")
        return found

    def _handle(self, uidvalidity: int, uid: int, raw: bytes, known: dict[str, InboundMessage],
                advance: bool) -> str:
        """Recognise, tie, keep and record one message: "move", "stay" or "held" (another campaign's)."""
        box = self.mailbox
        sha = hashlib.sha256(raw).hexdigest()
        notice = read_notice(raw)
        if notice.own_id in self.index.message_ids:  # our own message (an archive copy), whatever it answers
            notice = replace(notice, kind=Inbound.COPY)
        found = Found(box.name, uid, notice.kind, status=notice.status, from_address=notice.from_address,
                      subject=notice.subject, text=notice.diagnostic or notice.text)
        if sha in known:  # met before (copied back, or a new UIDVALIDITY): recorded already
            if advance:
                self.ledger.advance_cursor(box.name, box.folder, uidvalidity, uid, self.clock())
            return "move" if known[sha].kind in MOVED else "stay"
        pair, clues, conflict = self.index.tie(notice)
        if notice.kind == Inbound.OTHER or (notice.kind == Inbound.COPY and pair is None):
            if advance:
                self.ledger.advance_cursor(box.name, box.folder, uidvalidity, uid, self.clock())
            return "stay"
        if pair is not None and self.campaign is not None and pair[0] != self.campaign:
            self.report.other_campaign.append(replace(found, campaign=pair[0], key=pair[1]))
            return "held"
        if pair is None:
            if notice.kind == Inbound.AUTO_REPLY and not notice.quoted_ids and not notice.tokens:
                if advance:
                    self.ledger.advance_cursor(box.name, box.folder, uidvalidity, uid, self.clock())
                return "stay"  # an auto-reply to nothing of ours: somebody's ordinary mail
            note = "các dấu hiệu chỉ tới nhiều thư khác nhau" if conflict else "không khớp thư nào đã gửi"
            known[sha] = InboundMessage(box.name, box.folder, uidvalidity, uid, sha, Inbound.UNMATCHED,
                                        status=notice.status, text=f"{INBOUND_LABELS[notice.kind]}; {note}",
                                        from_address=notice.from_address, subject=notice.subject)
            self._record(known[sha], advance)
            self.report.unmatched.append(replace(found, text=note))
            return "stay"
        campaign, key = pair
        evidence = keep_raw(self.config.root, campaign, key, sha, raw)
        clue_text = ", ".join(CLUE_LABELS[c] for c in clues)
        message = InboundMessage(box.name, box.folder, uidvalidity, uid, sha, notice.kind, campaign, key, clue_text,
                                 notice.status, notice.diagnostic if notice.recipients else notice.text,
                                 notice.from_address, notice.subject, evidence)
        before = self.ledger.delivery(campaign, key)
        state = self._record(message, advance)
        known[sha] = message
        listed = replace(found, campaign=campaign, key=key, clues=clue_text, evidence=evidence)
        if notice.kind == Inbound.BOUNCE:
            if state == State.BOUNCED and before is not None and before.state in BOUNCEABLE:
                self.report.bounced.append(listed)
        elif notice.kind != Inbound.COPY or (before is not None and before.state == State.UNCERTAIN
                                             and state == State.SENT):
            getattr(self.report, _LISTS[notice.kind]).append(listed)
        return "move" if notice.kind in MOVED else "stay"

    def _record(self, message: InboundMessage, advance: bool) -> State | None:
        return self.ledger.record_inbound(message, self.clock(), advance=advance)


def keep_raw(root: Path, campaign: str, key: str, sha: str, raw: bytes) -> str:
    """A message's raw bytes under the campaign's folder, written once, never replaced."""
    audience, _, code = key.partition("/")
    workspace = Workspace(root)
    path = workspace.inbound_copy(campaign, audience, code, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(raw)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if it exists: a file once written is never replaced
        except FileExistsError:
            pass
        temporary.unlink()
    return workspace.relative(path)


_LISTS = {Inbound.DELAY: "delayed", Inbound.REPLY: "replied", Inbound.AUTO_REPLY: "auto_replies",
          Inbound.COPY: "confirmed_sent"}


def _confirm_uncertain(config: Config, ledger: Ledger, index: _Index, mailbox: Mailbox, imap: imaplib.IMAP4,
                       campaign: str | None, report: CollectReport, clock: Clock) -> None:
    """Uncertain sends of this mailbox's sender found by Message-ID in its Sent folder: sent."""
    if not mailbox.sent_folder:
        return
    waiting = [(c, k) for (c, k), draft in index.drafts.items() if draft.sender == mailbox.sender
               and (campaign is None or c == campaign)
               and (d := ledger.delivery(c, k)) is not None and d.state == State.UNCERTAIN and d.message_id]
    if not waiting:
        return
    uidvalidity = _select(imap, mailbox.sent_folder, readonly=True)
    for pair in waiting:
        delivery = ledger.delivery(*pair)
        assert delivery is not None
        wanted = delivery.message_id.strip()
        uids = _uids(imap, f'HEADER Message-ID "{wanted}"')
        for uid, raw in sorted(_fetch(imap, uids).items()):
            notice = read_notice(raw)
            if notice.own_id != wanted.strip("<>").lower():
                continue
            sha = hashlib.sha256(raw).hexdigest()
            evidence = keep_raw(config.root, *pair, sha, raw)
            message = InboundMessage(mailbox.name, mailbox.sent_folder, uidvalidity, uid, sha, Inbound.COPY, *pair,
                                     "Message-ID", "", "", notice.from_address, notice.subject, evidence)
            if ledger.record_inbound(message, clock(), advance=False) == State.SENT:
                report.confirmed_sent.append(Found(mailbox.name, uid, Inbound.COPY, *pair, subject=notice.subject,
                                                   clues="Message-ID", evidence=evidence))
            break

