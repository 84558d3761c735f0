"""After the 250: bounces, auto-replies and replies read from a real Dovecot (tests/imapserver.py),
for messages really sent through aiosmtpd on loopback and recorded in a real ledger."""

from __future__ import annotations

import datetime as dt
import email
import imaplib
import importlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import pytest
from factories import (
    CAMPAIGN,
    REPO,
    SENDERS,
    Clock,
    config_data,
    employers,
    make_outbox,
    toml_text,
)
from imapserver import DovecotServer

from outreach.config import Config, parse_config
from outreach.delivery import (
    Attempt,
    Inbound,
    Ledger,
    MaildirHandler,
    Outcome,
    SmtpSink,
    State,
    approve,
    collect,
    return_path_secret,
    send_campaign,
    verp_token,
)
from outreach.errors import UserError
from outreach.outbox.manifest import Manifest

PASSWORD_ENV = "OUTREACH_TEST_IMAP_PASSWORD"
USER, PASSWORD = "phongqlt", "mat-khau-imap"
PROCESSED = "Outreach/Da-xu-ly"
REPORTING_MTA = "mx.example.vn"


@dataclass
class Office:
    root: Path
    config: Config
    manifest: Manifest
    ledger: Ledger
    imap: DovecotServer
    maildir: Path
    clock: Clock

    def sent(self) -> dict[str, tuple[str, bytes]]:
        """key -> (envelope sender, message bytes as the sink received them)."""
        ids = {self.ledger.delivery(CAMPAIGN, d.key).message_id: d.key for d in self.manifest.drafts}
        found = {}
        for path in (self.maildir / "new").iterdir():
            return_path, _, rest = path.read_bytes().partition(b"\r\n")
            message = rest.partition(b"\r\n")[2]
            key = ids[email.message_from_bytes(message)["Message-ID"]]
            found[key] = (return_path.decode().split("<")[1].rstrip(">"), message)
        return found

    def collect(self, campaign: str | None = None, **options):
        return collect(self.config, self.ledger, campaign, clock=self.clock, **options)

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        return self.imap.append(USER, folder, raw)

    def state(self, key: str) -> State:
        return self.ledger.delivery(CAMPAIGN, key).state

    def folder(self, name: str) -> dict[int, bytes]:
        return self.imap.messages(USER, name)


def mailbox_config(port: int, **extra: str) -> dict:
    return {"host": "127.0.0.1", "port": port, "security": "none", "username": USER, "password_env": PASSWORD_ENV,
            "folder": "INBOX", **extra}


@pytest.fixture
def office(tmp_path: Path, monkeypatch, request):
    """``request.param`` (indirect): more dovecot.conf lines, say a server that offers less."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = getattr(request, "param", "")
    with DovecotServer.start({USER: PASSWORD}, settings) as imap, SmtpSink(tmp_path / "sink", port=0) as sink:
        data = config_data(sink.port)
        data["departments"]["QLT"]["mailbox"] = mailbox_config(imap.port, sent_folder="Sent")
        root = tmp_path / "work"
        manifest, _ = make_outbox(root, employers(4), data)
        clock = Clock()
        with Ledger.open(root) as ledger:
            config = parse_config(data, root)
            approve(root, ledger, manifest, "Nguyễn Thị Duyệt", clock=clock)
            send_campaign(config, manifest, ledger, clock=clock, sleep=clock.sleep)
            yield Office(root, config, manifest, ledger, imap, tmp_path / "sink", clock)


# ---------------------------------------------------------------------------- notifications as MTAs write them


def dsn(original: bytes, recipient: str, *, status: str = "5.1.1", action: str = "failed",
        diagnostic: str = "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
        to: str | None = None, headers_only: bool = True, envelope_sender: str = "") -> bytes:
    """An RFC 3464 report as Postfix writes one: text, message/delivery-status, the returned headers."""
    head = original.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    returned = ("Content-Type: text/rfc822-headers\r\n\r\n" + head) if headers_only else \
        ("Content-Type: message/rfc822\r\n\r\n" + original.decode("utf-8"))
    bounce_to = to or envelope_sender
    text = ("This is the mail system at host mx.example.vn.\r\n\r\nI'm sorry to have to inform you that your message "
            "could not\r\nbe delivered to one or more recipients.\r\n\r\n"
            f"<{recipient}>: host mx.example.vn said: 550 5.1.1 <{recipient}>: Recipient\r\n    address rejected\r\n")
    if action == "delayed":
        text = "Your message could not be delivered for 4 hours. It will be retried until it is 5 days old.\r\n"
    return (
        f"Return-Path: <>\r\nDelivered-To: {bounce_to}\r\nDate: {formatdate()}\r\n"
        f"From: MAILER-DAEMON@{REPORTING_MTA} (Mail Delivery System)\r\n"
        f"Subject: {'Undelivered Mail Returned to Sender' if action == 'failed' else 'Delayed Mail (still being retried)'}\r\n"
        f"To: {bounce_to}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f"Message-Id: <{random.getrandbits(64):x}.{REPORTING_MTA}>\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"\r\n\r\n'
        "This is a MIME-encapsulated message.\r\n\r\n"
        "--B0UND\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"{text}\r\n"
        "--B0UND\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {REPORTING_MTA}\r\nX-Postfix-Queue-ID: 4Nq1x2\r\nArrival-Date: {formatdate()}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\nAction: {action}\r\n"
        f"Status: {status}\r\nRemote-MTA: dns; mx.example.vn\r\n"
        f"Diagnostic-Code: {diagnostic.format(rcpt=recipient)}\r\n\r\n"
        f"--B0UND\r\nContent-Description: Undelivered Message Headers\r\n{returned}\r\n"
        "--B0UND--\r\n"
    ).encode()


def exim_bounce(original: bytes, recipient: str, to: str) -> bytes:
    """Exim's own (non-RFC 3464) format: X-Failed-Recipients, the text, the original quoted."""
    return (
        f"Return-path: <>\r\nFrom: Mail Delivery System <Mailer-Daemon@{REPORTING_MTA}>\r\nTo: {to}\r\n"
        f"Subject: Mail delivery failed: returning message to sender\r\nX-Failed-Recipients: {recipient}\r\n"
        f"Auto-Submitted: auto-replied\r\nMessage-Id: <E1exim-{random.getrandbits(32):x}@{REPORTING_MTA}>\r\n"
        f"Date: {formatdate()}\r\n\r\n"
        "This message was created automatically by mail delivery software.\r\n\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        f"  {recipient}\r\n    SMTP error from remote mail server after RCPT TO:<{recipient}>:\r\n"
        "    550 5.2.2 Mailbox full\r\n\r\n------ This is a copy of the message, including all the headers. ------\r\n\r\n"
    ).encode() + original


def vacation(original: bytes, sender: str, to: str) -> bytes:
    message_id = email.message_from_bytes(original)["Message-ID"]
    return (
        f"From: Kế toán <{sender}>\r\nTo: {to}\r\nSubject: =?utf-8?b?"
        + __import__("base64").b64encode("Vắng mặt: Công văn số 05".encode()).decode()
        + f"?=\r\nAuto-Submitted: auto-replied\r\nX-Autoreply: yes\r\nIn-Reply-To: {message_id}\r\n"
        f"Message-ID: <vac-{random.getrandbits(32):x}@example.vn>\r\nDate: {formatdate()}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Tôi đang nghỉ phép đến hết ngày 20/01, sẽ trả lời khi trở lại. User unknown? Không.\r\n"
    ).encode()


def reply(original: bytes, sender: str, to: str, text: str) -> bytes:
    message_id = email.message_from_bytes(original)["Message-ID"]
    body = f"{text}\r\n\r\nVào Th 2, 9 thg 1, 2023 lúc 09:00 Phòng QLT đã viết:\r\n> Kính gửi: Công ty\r\n"
    return (
        f"From: Công ty <{sender}>\r\nTo: {to}\r\nSubject: Re: Công văn số 05\r\n"
        f"In-Reply-To: {message_id}\r\nReferences: {message_id}\r\n"
        f"Message-ID: <re-{random.getrandbits(32):x}@example.vn>\r\nDate: {formatdate()}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}"
    ).encode()


class CutAfterData(MaildirHandler):
    """Stores every message, but cuts the line instead of answering the final dot for one recipient:
    the server has it, the sender cannot know (uncertain)."""

    def __init__(self, maildir: Path, cut_for: str) -> None:
        super().__init__(maildir)
        self.cut_for = cut_for

    async def handle_DATA(self, server, session, envelope):
        key = self.store(envelope)
        if self.cut_for in envelope.rcpt_tos:
            server.transport.close()
        return f"250 2.0.0 Ok: queued as {key}"


# ---------------------------------------------------------------------------- recognising (pure)


ORIGINAL = (b"Message-ID: <cv-05@bhxh-khanhhoa.example.vn>\r\nFrom: phongqlt@bhxh-khanhhoa.example.vn\r\n"
            b"Subject: Cong van\r\n\r\nKinh gui\r\n")


@pytest.mark.parametrize("raw, kind", [
    (dsn(ORIGINAL, "a@example.vn", to="phongqlt@bhxh-khanhhoa.example.vn"), Inbound.BOUNCE),
    (dsn(ORIGINAL, "a@example.vn", status="4.2.2", action="delayed", to="q@x.vn"), Inbound.DELAY),
    (dsn(ORIGINAL, "a@example.vn", status="2.0.0", action="delivered", to="q@x.vn"), Inbound.OTHER),
    (exim_bounce(ORIGINAL, "a@example.vn", "q@x.vn"), Inbound.BOUNCE),
    (vacation(ORIGINAL, "a@example.vn", "q@x.vn"), Inbound.AUTO_REPLY),
    # An out-of-office notice without Auto-Submitted, known by its subject; never a bounce.
    (b"From: a@example.vn\r\nSubject: Out of Office: Cong van\r\nIn-Reply-To: <cv-05@bhxh-khanhhoa.example.vn>"
     b"\r\n\r\nI am away. User unknown errors? No.\r\n", Inbound.AUTO_REPLY),
    # A person who writes "mailbox full" is still a person replying, not a mailer daemon.
    (reply(ORIGINAL, "a@example.vn", "q@x.vn", "Hộp thư cũ bị đầy (mailbox full, 550 5.2.2), xin gửi địa chỉ mới."),
     Inbound.REPLY),
    (ORIGINAL, Inbound.COPY),
    (b"From: someone@example.vn\r\nSubject: hello\r\n\r\nhi\r\n", Inbound.OTHER),
])
def test_what_a_message_is(raw: bytes, kind: Inbound) -> None:
    from outreach.delivery import read_notice

    assert read_notice(raw).kind == kind


def test_a_reply_answers_the_nearest_message_it_names() -> None:
    from outreach.delivery import read_notice

    raw = (b"From: a@example.vn\r\nSubject: Re: Nhac\r\nIn-Reply-To: <nhac-1@bhxh>\r\n"
           b"References: <cv-05@bhxh> <nhac-1@bhxh>\r\n\r\nDa nhan.\r\n")
    assert read_notice(raw).quoted_ids == ("nhac-1@bhxh", "cv-05@bhxh")


def test_a_report_says_who_failed_with_what_and_which_message_it_returns() -> None:
    from outreach.delivery import read_notice

    notice = read_notice(dsn(ORIGINAL, "ketoan@example.vn", status="5.2.2",
                             diagnostic="smtp; 552 5.2.2 <{rcpt}>: Mailbox full", to="q@x.vn"))
    (recipient,) = notice.recipients
    assert (recipient.address, recipient.action, recipient.status) == ("ketoan@example.vn", "failed", "5.2.2")
    assert recipient.diagnostic == "smtp; 552 5.2.2 <ketoan@example.vn>: Mailbox full"
    assert notice.quoted_ids == ("cv-05@bhxh-khanhhoa.example.vn",)  # the report's own Message-Id left out
    assert notice.from_address == f"mailer-daemon@{REPORTING_MTA}"


# ---------------------------------------------------------------------------- sending with a tag


def test_a_sender_with_a_mailbox_sends_with_a_tagged_return_path_and_the_approved_bytes(office: Office) -> None:
    for draft in office.manifest.drafts:
        envelope_sender, received = office.sent()[draft.key]
        local, domain = SENDERS["QLT"][0].split("@")
        token = verp_token(return_path_secret(office.root), CAMPAIGN, draft.key)
        assert envelope_sender == f"{local}+b.{token}@{domain}"
        assert received == draft.eml_path(office.root).read_bytes()  # the bytes approved, unchanged
    assert len({sender for sender, _ in office.sent().values()}) == 4  # one tag per delivery
    key_file = office.root / "outbox" / ".return-path.key"
    assert len(key_file.read_bytes()) == 32 and key_file.stat().st_mode & 0o777 == 0o600
    assert verp_token(b"another office's key", CAMPAIGN, "employers/TA00001") != \
        verp_token(key_file.read_bytes(), CAMPAIGN, "employers/TA00001")  # not to be made up from outside


# ---------------------------------------------------------------------------- bounces


def test_an_rfc3464_bounce_makes_its_delivery_bounced_with_the_raw_notification_as_evidence(office: Office) -> None:
    key = "employers/TA00002"
    envelope_sender, original = office.sent()[key]
    bounce = dsn(original, "dv2@example.vn", envelope_sender=envelope_sender)
    office.deliver(bounce)

    report = office.collect()

    (found,) = report.bounced
    assert (found.campaign, found.key, found.status) == (CAMPAIGN, key, "5.1.1")
    assert "User unknown" in found.text
    assert found.clues == "đường trả về (VERP), Message-ID, Final-Recipient"
    delivery = office.ledger.delivery(CAMPAIGN, key)
    assert "5.1.1" in delivery.last_error and "User unknown" in delivery.last_error
    assert (office.root / found.evidence).read_bytes() == bounce  # the notification, byte for byte
    # Bounced, then on paper at once (the supplementary bundle): nobody ends without the letter.
    assert [e.to_state for e in office.ledger.events(CAMPAIGN, key)][-2:] == ["bounced", "printed"]
    assert "5.1.1" in office.ledger.events(CAMPAIGN, key)[-2].detail and delivery.state == State.PRINTED
    assert office.folder("INBOX") == {} and list(office.folder(PROCESSED).values()) == [bounce]  # moved, kept
    assert {office.state(d.key) for d in office.manifest.drafts if d.key != key} == {State.SENT}

    events = office.ledger.events(CAMPAIGN, key)
    again = office.collect()
    assert again.bounced == [] and office.ledger.events(CAMPAIGN, key) == events
    assert [m.kind for m in office.ledger.inbound(CAMPAIGN)] == [Inbound.BOUNCE]


def test_a_bounce_ties_by_any_one_clue_a_relay_left(office: Office) -> None:
    """The return path rewritten (plain address), or no headers returned at all: one clue is enough."""
    sent = office.sent()
    _, first = sent["employers/TA00001"]
    rewritten = dsn(first, "dv1@example.vn", to=SENDERS["QLT"][0])  # only the returned Message-ID
    tagged, _ = sent["employers/TA00003"]
    no_headers = dsn(b"Subject: x\r\n\r\n", "someone-else@example.vn", envelope_sender=tagged)  # only the token
    exim_to, fourth = sent["employers/TA00004"]
    office.deliver(rewritten)
    office.deliver(no_headers)
    office.deliver(exim_bounce(fourth, "dv4@example.vn", exim_to))

    report = office.collect()

    clues = {found.key: found.clues for found in report.bounced}
    assert clues == {"employers/TA00001": "Message-ID, Final-Recipient",
                     "employers/TA00003": "đường trả về (VERP)",
                     "employers/TA00004": "đường trả về (VERP), Message-ID, Final-Recipient"}
    exim = next(found for found in report.bounced if found.key == "employers/TA00004")
    assert exim.status == "5.2.2" and "Mailbox full" in exim.text  # a non-standard format, through flufl.bounce


def test_a_delay_is_recorded_without_changing_the_state(office: Office) -> None:
    key = "employers/TA00001"
    envelope_sender, original = office.sent()[key]
    office.deliver(dsn(original, "dv1@example.vn", status="4.4.1", action="delayed",
                       diagnostic="X-Postfix; connect to mx.example.vn: Connection timed out",
                       envelope_sender=envelope_sender))

    report = office.collect()

    assert [f.key for f in report.delayed] == [key] and report.bounced == []
    assert office.state(key) == State.SENT
    event = office.ledger.events(CAMPAIGN, key)[-1]
    assert (event.from_state, event.to_state) == ("sent", "delayed") and "4.4.1" in event.detail


def test_a_vacation_notice_is_never_a_bounce(office: Office) -> None:
    key = "employers/TA00003"
    _, original = office.sent()[key]
    office.deliver(vacation(original, "dv3@example.vn", SENDERS["QLT"][0]))

    report = office.collect()

    assert report.bounced == [] and [f.key for f in report.auto_replies] == [key]
    assert office.state(key) == State.SENT
    assert office.ledger.replied_keys(CAMPAIGN) == frozenset()  # an auto-reply is not the recipient's answer


def test_a_reply_is_recorded_with_its_text_and_stays_in_the_inbox(office: Office) -> None:
    from outreach.accounts import Actor
    from outreach.delivery.ledger import ApprovalRequest

    key = "employers/TA00004"
    reminder = f"{CAMPAIGN}~nhac-1"  # its reminder, approved and waiting: a reply makes it needless
    office.ledger.approve(reminder, [ApprovalRequest(key, "QLT", "ab" * 32)], Actor("Người duyệt"), office.clock())
    _, original = office.sent()[key]
    answer = reply(original, "dv4@example.vn", SENDERS["QLT"][0],
                   "Công ty đã nhận công văn, sẽ hoàn thành trước ngày 15/01/2023.")
    office.deliver(answer)

    report = office.collect()

    (found,) = report.replied
    assert found.key == key and found.text == "Công ty đã nhận công văn, sẽ hoàn thành trước ngày 15/01/2023."
    assert office.ledger.replied_keys(CAMPAIGN) == frozenset({key}) == office.ledger.replied_keys(reminder)
    assert office.ledger.answered_keys(CAMPAIGN) == {key}  # what the reminders and the pages follow
    assert office.ledger.delivery(reminder, key).state == State.REVOKED
    (recorded,) = office.ledger.inbound(CAMPAIGN, key)
    assert recorded.kind == Inbound.REPLY and recorded.from_address == "dv4@example.vn"
    assert (office.root / recorded.evidence).read_bytes() == answer
    assert office.state(key) == State.SENT and office.ledger.events(CAMPAIGN, key)[-1].to_state == "replied"
    assert list(office.folder("INBOX").values()) == [answer]  # for the person who answers it
    assert office.collect().replied == []  # read once


def test_a_bounce_of_another_campaign_or_of_none_is_left_alone_and_listed(office: Office) -> None:
    other = "nhac-no-2023"  # a campaign of the same ledger: its message, really claimed and finished
    ledger, clock = office.ledger, office.clock
    from outreach.accounts import Actor
    from outreach.delivery.ledger import ApprovalRequest

    ledger.approve(other, [ApprovalRequest("employers/TA00009", "QLT", "ab" * 32)], Actor("Người duyệt"), clock())
    ledger.claim(other, "employers/TA00009", Attempt("email", "<khac-1@bhxh-khanhhoa.example.vn>",
                                                     ("dv9@example.vn",), (), {}), clock())
    ledger.finish(other, "employers/TA00009", Outcome("sent", 250, "ok"), clock())
    foreign = dsn(b"Message-ID: <khac-1@bhxh-khanhhoa.example.vn>\r\nSubject: x\r\n\r\n", "dv9@example.vn",
                  to=SENDERS["QLT"][0])
    stranger = dsn(b"Message-ID: <not-ours@elsewhere.example>\r\nSubject: x\r\n\r\n", "who@example.vn",
                   to=SENDERS["QLT"][0])
    office.deliver(foreign)
    office.deliver(stranger)

    report = office.collect(CAMPAIGN)

    assert [(f.campaign, f.key) for f in report.other_campaign] == [(other, "employers/TA00009")]
    assert [f.subject for f in report.unmatched] == ["Undelivered Mail Returned to Sender"]
    assert report.bounced == [] and ledger.delivery(other, "employers/TA00009").state == State.SENT
    assert sorted(office.folder("INBOX").values()) == sorted([foreign, stranger])  # both left in place

    assert office.collect(CAMPAIGN).unmatched == []  # listed once; the other campaign's is still waiting
    everything = office.collect()  # not limited to one campaign: the other campaign's bounce is acted on
    assert [(f.campaign, f.key) for f in everything.bounced] == [(other, "employers/TA00009")]
    assert list(office.folder("INBOX").values()) == [stranger]


# ---------------------------------------------------------------------------- nothing twice, nothing missed


def test_collect_stopped_half_way_processes_nothing_twice(office: Office) -> None:
    sent = office.sent()
    bounces = {key: dsn(original, f"dv{key[-1]}@example.vn", envelope_sender=envelope_sender)
               for key, (envelope_sender, original) in sent.items()}
    for raw in bounces.values():
        office.deliver(raw)

    first = office.collect(limit=2)
    # The run stopped here; then the server hands the two handled ones back (a client's undo, a restore).
    for raw in office.folder(PROCESSED).values():
        office.deliver(raw)
    second = office.collect()

    assert len(first.bounced) == 2 and len(second.bounced) == 2
    assert {f.key for f in first.bounced + second.bounced} == set(bounces)
    for key in bounces:
        assert [e.to_state for e in office.ledger.events(CAMPAIGN, key)].count("bounced") == 1
    assert len(office.ledger.inbound(CAMPAIGN)) == 4 and office.folder("INBOX") == {}


def test_a_killed_collect_processes_nothing_twice_and_misses_nothing(office: Office) -> None:
    """``outreach collect`` killed (SIGKILL) a few messages after a random one was recorded, then run
    again until done: each notification acted on once, none missed, all moved. A kill can come late
    (a loaded machine lets the command run on): the run had recorded everything and was moving it,
    putting bounced letters on paper, or done. That is one more kill point; then more notifications
    arrive, until four kills have landed with messages left to record."""
    sent = office.sent()
    delays = 5  # with a bounce, six notifications per delivery
    for index in range(1 + delays):
        _arrive(office, sent, "failed" if index == 0 else "delayed")
    (office.root / "config.toml").write_text(_toml(office), encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "outreach", "--root", str(office.root), "collect"]
    seeded = random.Random(17)
    half_way: list[int] = []  # messages recorded when each run killed with some left to record died
    for _ in range(40):
        total, recorded = (1 + delays) * len(sent), len(office.ledger.inbound(CAMPAIGN))
        if recorded >= total - 3:
            if len(half_way) >= 4:
                break
            _arrive(office, sent, "delayed")  # a late kill: the mail goes on arriving
            delays += 1
            continue
        target = recorded + seeded.randint(1, 3)
        process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while process.poll() is None and len(office.ledger.inbound(CAMPAIGN)) < target:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"outreach collect had not recorded {target} messages after 120 s")
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        code = process.wait()
        assert code in (0, -signal.SIGKILL), process.stderr.read().decode()  # killed or done, no error
        if code == -signal.SIGKILL and (killed := len(office.ledger.inbound(CAMPAIGN))) < total:
            half_way.append(killed)
    assert subprocess.run(command, env=environment, capture_output=True).returncode == 0

    assert len(half_way) >= 4, half_way  # killed half-way, each time something was left to move
    _each_once(office, sent, delays)


class Killed(BaseException):
    """SIGKILL laid out in-process at a chosen point: nothing after it runs, nothing catches it."""


def _arrive(office: Office, sent: dict[str, tuple[str, bytes]], action: str) -> None:
    """One notification per delivery: a bounce ("failed") or a delay ("delayed"), each its own bytes."""
    for key, (envelope_sender, original) in sent.items():
        office.deliver(dsn(original, f"dv{key[-1]}@example.vn", action=action,
                           status="5.1.1" if action == "failed" else "4.4.1", envelope_sender=envelope_sender))


def _each_once(office: Office, sent: dict[str, tuple[str, bytes]], delays: int) -> None:
    """Every notification acted on once, none missed, each moved once, none left behind."""
    total = (1 + delays) * len(sent)
    for key in sent:
        states = [e.to_state for e in office.ledger.events(CAMPAIGN, key)]
        assert states.count("bounced") == 1 and states.count("delayed") == delays, (key, states)
        assert states.count("printed") == 1, (key, states)  # bounced: on paper, once
    assert len(office.ledger.inbound(CAMPAIGN)) == total
    assert office.folder("INBOX") == {} and len(office.folder(PROCESSED)) == total


def _killed_at(office: Office, patch: pytest.MonkeyPatch, owner: object, name: str, after: bool) -> None:
    """Collect, killed on reaching ``owner.name``: before it runs, or once it has."""
    real = getattr(owner, name)

    def dies(*args, **kwargs):
        if after:
            real(*args, **kwargs)
        raise Killed

    with patch.context() as scope:
        scope.setattr(owner, name, dies)
        with pytest.raises(Killed):
            office.collect()


@pytest.mark.parametrize("owner, name, after, inbox", [
    ("outreach.delivery.collect", "_move", False, 8),  # recorded, not moved
    ("outreach.delivery.collect", "_move", True, 0),  # moved by the server, its answer never read
    ("outreach.delivery.supplementary", "_labels", True, 0),  # bounced letters in the bundle, not yet printed
], ids=["recorded-not-moved", "moved-answer-lost", "bundle-written-not-printed"])
def test_a_collect_killed_at_a_laid_out_point_is_completed_once_by_the_next(
        office: Office, monkeypatch, owner: str, name: str, after: bool, inbox: int) -> None:
    sent = office.sent()
    _arrive(office, sent, "failed")
    _arrive(office, sent, "delayed")
    _killed_at(office, monkeypatch, importlib.import_module(owner), name, after)
    assert len(office.ledger.inbound(CAMPAIGN)) == 8 and len(office.folder("INBOX")) == inbox

    again = office.collect()

    assert again.bounced == again.delayed == [] and not again.errors
    _each_once(office, sent, delays=1)


WITHOUT_MOVE = "imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n"


@pytest.mark.parametrize("office, command", [(WITHOUT_MOVE, "STORE"), (WITHOUT_MOVE, "EXPUNGE")],
                         indirect=["office"], ids=["copied-not-marked", "marked-not-expunged"])
def test_without_move_a_collect_killed_between_copy_and_expunge_copies_nothing_twice(
        office: Office, monkeypatch, command: str) -> None:
    """A server without MOVE: COPY, mark deleted, UID EXPUNGE; the run killed between two of them."""
    sent = office.sent()
    _arrive(office, sent, "failed")
    _arrive(office, sent, "delayed")
    real = imaplib.IMAP4.uid

    def uid(imap: imaplib.IMAP4, name: str, *args):
        if name == command:
            raise Killed
        return real(imap, name, *args)

    with monkeypatch.context() as scope:
        scope.setattr(imaplib.IMAP4, "uid", uid)
        with pytest.raises(Killed):
            office.collect()
    assert len(office.folder("INBOX")) == len(office.folder(PROCESSED)) == 8  # copied, still here

    again = office.collect()

    assert again.bounced == again.delayed == [] and not again.errors
    _each_once(office, sent, delays=1)


@pytest.mark.parametrize("office", ["imap_capability = IMAP4rev1 LITERAL+\n"], indirect=True)
def test_without_move_or_uidplus_a_handled_message_is_copied_once_and_left_marked_deleted(office: Office) -> None:
    """No UID EXPUNGE: an EXPUNGE would take whatever else is marked deleted, so the mark stays."""
    sent = office.sent()
    _arrive(office, sent, "failed")
    office.collect()
    _arrive(office, sent, "delayed")
    office.collect()
    office.collect()

    assert len(office.folder(PROCESSED)) == 8
    with office.imap.client(USER) as imap:
        imap.select("INBOX", readonly=True)
        assert len(imap.uid("SEARCH", None, "DELETED")[1][0].split()) == 8
        assert imap.uid("SEARCH", None, "UNDELETED")[1] == [b""]


def test_a_new_uidvalidity_misses_nothing_and_repeats_nothing(tmp_path: Path, office: Office) -> None:
    config = _with_folder(office, "Bounces")
    sent = office.sent()
    (first_sender, first), (second_sender, second) = sent["employers/TA00001"], sent["employers/TA00002"]
    early = dsn(first, "dv1@example.vn", envelope_sender=first_sender)
    office.deliver(early, "Bounces")
    assert [f.key for f in collect(config, office.ledger, clock=office.clock).bounced] == ["employers/TA00001"]
    before = office.imap.uidvalidity(USER, "Bounces")

    office.imap.recreate(USER, "Bounces")  # restored from a backup: new UIDVALIDITY, UIDs from 1 again
    time.sleep(1.1)  # UIDVALIDITY is a time: let the new one differ even on a fast machine
    office.imap.recreate(USER, "Bounces")
    office.deliver(early, "Bounces")  # the restore brought back what had been handled
    late = dsn(second, "dv2@example.vn", envelope_sender=second_sender)
    office.deliver(late, "Bounces")  # UID 2 in the new folder: at or below the old cursor's UID
    assert office.imap.uidvalidity(USER, "Bounces") != before

    report = collect(config, office.ledger, clock=office.clock)

    assert [f.key for f in report.bounced] == ["employers/TA00002"]
    assert [e.to_state for e in office.ledger.events(CAMPAIGN, "employers/TA00001")].count("bounced") == 1
    assert office.folder("Bounces") == {}


def test_every_scheduler_tick_collects_too(office: Office) -> None:
    from outreach.schedule import tick

    _, original = office.sent()["employers/TA00002"]
    office.deliver(reply(original, "dv2@example.vn", SENDERS["QLT"][0], "Đã nhận."))
    lines: list[str] = []

    report = tick(office.config, office.clock(), log=lines.append, sleep=office.clock.sleep)

    assert [f.key for f in report.collected.replied] == ["employers/TA00002"]
    assert "hộp thư: 1 thư trả lời" in lines[0]
    assert office.ledger.replied_keys(CAMPAIGN) == frozenset({"employers/TA00002"})


def test_a_second_collect_while_one_runs_is_refused_and_reads_nothing(office: Office) -> None:
    """`outreach collect` by hand while the scheduler's tick collects: the second would read the same
    new messages and copy them into the processed folder twice."""
    from outreach.errors import UserError
    from outreach.schedule import tick
    from outreach.workspace import Workspace, held_alone

    _, original = office.sent()["employers/TA00002"]
    office.deliver(reply(original, "dv2@example.vn", SENDERS["QLT"][0], "Đã nhận."))
    with held_alone(Workspace(office.config.root).collect_lock, lambda holder: AssertionError(holder)):
        with pytest.raises(UserError, match="đang được một lượt thu thập khác đọc"):
            office.collect()
        lines: list[str] = []
        tick(office.config, office.clock(), log=lines.append, sleep=office.clock.sleep)  # it says so, and sends on
        assert "không đọc được hộp thư: Hộp thư đang được một lượt thu thập khác đọc" in lines[0]
        assert office.ledger.replied_keys(CAMPAIGN) == frozenset() and len(office.folder("INBOX")) == 1
    assert [f.key for f in office.collect().replied] == ["employers/TA00002"]


def test_the_collect_command_lists_what_it_found_in_vietnamese(office: Office, capsys) -> None:
    from outreach.cli import main

    (office.root / "config.toml").write_text(_toml(office), encoding="utf-8")
    _, original = office.sent()["employers/TA00003"]
    office.deliver(reply(original, "dv3@example.vn", SENDERS["QLT"][0], "Chúng tôi sẽ liên hệ lại."))
    office.deliver(dsn(b"Message-ID: <la@elsewhere.example>\r\n\r\n", "ai@example.vn", to=SENDERS["QLT"][0]))

    assert main(["--root", str(office.root), "collect", CAMPAIGN]) == 0

    out = capsys.readouterr().out
    assert f"Đã đọc 1 hộp thư: {USER}@127.0.0.1:{office.imap.port}." in out
    assert "Người nhận trả lời: 1" in out and "employers/TA00003: Chúng tôi sẽ liên hệ lại. [khớp theo: Message-ID]" in out
    assert "Không khớp thư nào, để nguyên trong hộp thư: 1" in out
    assert main(["--root", str(office.root), "collect"]) == 0 and "Không có thư mới." in capsys.readouterr().out


# ---------------------------------------------------------------------------- uncertain sends


def test_an_uncertain_send_found_in_the_sent_folder_is_resolved_as_sent(office: Office, tmp_path: Path) -> None:
    from outreach.accounts import Actor
    from outreach.delivery.ledger import ApprovalRequest

    ledger, clock = office.ledger, office.clock
    for key, message_id in (("employers/TA00007", "<u-7@bhxh-khanhhoa.example.vn>"),
                            ("employers/TA00008", "<u-8@bhxh-khanhhoa.example.vn>")):
        ledger.approve(CAMPAIGN, [ApprovalRequest(key, "QLT", "cd" * 32)], Actor("Người duyệt"), clock())
        ledger.claim(CAMPAIGN, key, Attempt("email", message_id, ("dv@example.vn",), (), {}), clock())
        ledger.finish(CAMPAIGN, key, Outcome("uncertain", None, "", error="mất kết nối"), clock())
    _add_drafts(office, ["TA00007", "TA00008"])
    copy = (b"Message-ID: <u-7@bhxh-khanhhoa.example.vn>\r\nFrom: phongqlt@bhxh-khanhhoa.example.vn\r\n"
            b"Subject: =?utf-8?q?C=C3=B4ng_v=C4=83n?=\r\n\r\nKinh gui\r\n")
    office.deliver(copy, "Sent")

    report = office.collect()

    assert [f.key for f in report.confirmed_sent] == ["employers/TA00007"]
    assert ledger.delivery(CAMPAIGN, "employers/TA00007").state == State.SENT
    assert ledger.delivery(CAMPAIGN, "employers/TA00008").state == State.UNCERTAIN  # still for a person
    event = ledger.events(CAMPAIGN, "employers/TA00007")[-1]
    assert (event.from_state, event.to_state, event.actor) == ("uncertain", "sent", "outreach")
    assert "Sent" in event.detail
    (kept,) = ledger.inbound(CAMPAIGN, "employers/TA00007")
    assert (office.root / kept.evidence).read_bytes() == copy
    assert list(office.folder("Sent").values()) == [copy]  # the Sent folder is only read


def test_an_archive_bcc_copy_settles_an_uncertain_send_and_is_moved_away(tmp_path: Path, monkeypatch) -> None:
    """A blind copy to the archive address (an extra RCPT TO, the bytes unchanged) arrives in the
    mailbox: for a send that went uncertain it is the evidence it went out; any copy is moved."""
    archive = "phongqlt+luu@bhxh-khanhhoa.example.vn"
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    handler = CutAfterData(tmp_path / "sink", cut_for="dv1@example.vn")
    with DovecotServer.start({USER: PASSWORD}) as imap, SmtpSink(None, port=0, handler=handler) as sink:
        data = config_data(sink.port)
        data["departments"]["QLT"]["mailbox"] = mailbox_config(imap.port, archive_bcc=archive)
        root = tmp_path / "work"
        manifest, _ = make_outbox(root, employers(2), data)
        config, clock = parse_config(data, root), Clock()
        with Ledger.open(root) as ledger:
            approve(root, ledger, manifest, "Nguyễn Thị Duyệt", clock=clock)
            send_campaign(config, manifest, ledger, clock=clock, sleep=clock.sleep)
            stored = sorted((tmp_path / "sink" / "new").iterdir())
            assert len(stored) == 2
            copies = []
            for path in stored:
                _, envelope_to, message = path.read_bytes().split(b"\r\n", 2)
                assert envelope_to.decode().endswith(f", {archive}")  # the archive is an envelope recipient only
                assert archive.encode() not in message
                copies.append(message)
            assert ledger.delivery(CAMPAIGN, "employers/TA00001").state == State.UNCERTAIN  # the line was cut
            for message in copies:
                imap.append(USER, "INBOX", message)

            report = collect(config, ledger, clock=clock)

            assert [f.key for f in report.confirmed_sent] == ["employers/TA00001"]
            assert ledger.delivery(CAMPAIGN, "employers/TA00001").state == State.SENT
            assert ledger.delivery(CAMPAIGN, "employers/TA00002").state == State.SENT
            assert report.replied == [] and report.unmatched == []
            assert imap.messages(USER, "INBOX") == {} and len(imap.messages(USER, PROCESSED)) == 2


# ---------------------------------------------------------------------------- nobody without a letter


def test_bounced_and_refused_letters_go_on_paper_in_the_supplementary_bundle(office: Office) -> None:
    import pikepdf

    from outreach.accounts import Actor
    from outreach.delivery import post
    from outreach.delivery.ledger import ApprovalRequest

    ledger, clock = office.ledger, office.clock
    refused = "employers/TA00006"  # every address refused at send time: 550 at RCPT
    ledger.approve(CAMPAIGN, [ApprovalRequest(refused, "QLT", "ef" * 32)], Actor("Người duyệt"), clock())
    ledger.claim(CAMPAIGN, refused, Attempt("email", "<r-6@bhxh-khanhhoa.example.vn>", ("sai@example.vn",), (), {}),
                 clock())
    ledger.finish(CAMPAIGN, refused, Outcome("failed", 550, "5.1.1 <sai@example.vn>: User unknown",
                                             "RCPT TO:<sai@example.vn>", "Máy chủ từ chối thư"), clock())
    _add_drafts(office, ["TA00006"], source=("recipients/employers.xlsx", 8))
    envelope_sender, original = office.sent()["employers/TA00001"]
    office.deliver(dsn(original, "dv1@example.vn", envelope_sender=envelope_sender))

    report = office.collect()

    (added,) = report.supplements
    assert added.bundle == f"outbox/{CAMPAIGN}/print/ban-in-bo-sung-{CAMPAIGN}.pdf"
    assert added.added == added.letters == ["employers/TA00001", refused]
    with pikepdf.open(office.root / added.bundle) as bundle:
        assert len(bundle.pages) == 4  # two one-page letters, each on a sheet of its own
    labels = subprocess.run(["pdftotext", str(office.root / added.labels), "-"], capture_output=True, text=True).stdout
    assert "Công ty TNHH Hải Sản Số 1" in labels and "Công ty TA00006" in labels
    (correction,) = [c for c in added.corrections if c.key == refused]
    assert (correction.file, correction.row, correction.column) == ("recipients/employers.xlsx", 8, "Email")
    assert "employers.xlsx, dòng 8, cột Email" in correction.line and "550" in correction.line
    for key in added.added:
        delivery = ledger.delivery(CAMPAIGN, key)
        assert (delivery.state, delivery.channel, delivery.where) == (State.PRINTED, "paper", added.bundle)

    assert office.collect().supplements == []  # nothing new: the bundle stays as it is
    changed_sender, changed = office.sent()["employers/TA00002"]
    office.deliver(dsn(changed, "dv2@example.vn", envelope_sender=changed_sender))
    letter = office.root / office.manifest.drafts[1].folder / "letter.pdf"
    letter.write_bytes(letter.read_bytes() + b"\n% rebuilt since it was sent\n")
    later = office.collect()
    assert later.supplements[0].added == [] and "không còn là công văn đã gửi" in later.errors[0]
    assert ledger.delivery(CAMPAIGN, "employers/TA00002").state == State.BOUNCED  # for a person to print
    (office.root / added.bundle).unlink()  # a rebuild clears print/: the next collect writes it again
    assert office.collect().supplements[0].letters == added.letters
    from outreach.outbox.manifest import read_manifest

    post(ledger, read_manifest(office.root, CAMPAIGN), "Trần Văn Bưu", on=dt.date(2023, 1, 9), clock=clock)
    assert {ledger.delivery(CAMPAIGN, key).state for key in added.added} == {State.POSTED}


def test_end_to_end_a_real_mta_bounces_an_unknown_user_and_collect_ties_it(tmp_path: Path, monkeypatch) -> None:
    """Sent through Exim on loopback; Exim finds dv3@example.vn unknown, writes its own RFC 3464
    bounce to the tagged return path and delivers it into the sender's Dovecot mailbox."""
    from mtaserver import EximServer

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with DovecotServer.start({USER: PASSWORD}) as imap, \
            EximServer.start(sender=SENDERS["QLT"][0], recipient_domain="example.vn", known=["dv1", "dv2"],
                             maildir=imap.maildir(USER)) as mta:
        data = config_data(mta.port)
        data["departments"]["QLT"]["mailbox"] = mailbox_config(imap.port)
        root = tmp_path / "work"
        manifest, _ = make_outbox(root, employers(3), data)
        config, clock = parse_config(data, root), Clock()
        with Ledger.open(root) as ledger:
            approve(root, ledger, manifest, "Nguyễn Thị Duyệt", clock=clock)
            sent = send_campaign(config, manifest, ledger, clock=clock, sleep=clock.sleep)
            assert len(sent.sent) == 3  # the relay took all three: the unknown user is found later
            bounced = []
            deadline = time.monotonic() + 30
            while not bounced and time.monotonic() < deadline:
                bounced = collect(config, ledger, clock=clock).bounced
                time.sleep(0.2)
            assert bounced, mta.log()

            (found,) = bounced
            assert (found.key, found.status) == ("employers/TA00003", "5.0.0")
            assert found.clues == "đường trả về (VERP), ENVID, Message-ID, Final-Recipient"
            evidence = (root / found.evidence).read_bytes()
            assert b"Reporting-MTA: dns; mx.outreach-test.example" in evidence
            assert b"%PDF" not in evidence and b"application/pdf" not in evidence  # RET=HDRS: headers only
            assert [e.to_state for e in ledger.events(CAMPAIGN, "employers/TA00003")][-2:] == ["bounced", "printed"]
            assert {ledger.delivery(CAMPAIGN, k).state for k in ("employers/TA00001", "employers/TA00002")} == \
                {State.SENT}


# ---------------------------------------------------------------------------- config and mistakes


def test_mailbox_config_is_parsed_once_with_its_defaults(office: Office) -> None:
    box = office.config.departments["QLT"].mailbox
    assert (box.host, box.port, box.security, box.username, box.folder, box.processed_folder, box.sent_folder) == \
        ("127.0.0.1", office.imap.port, "none", USER, "INBOX", PROCESSED, "Sent")
    assert office.config.departments["TTPT"].mailbox is None
    data = config_data(2525)
    data["district_offices"] = {"NT": {"name": "BHXH thành phố Nha Trang", "sender": "nt@bhxh.example.vn",
                                       "smtp": "sink", "mailbox": {"host": "imap.example.vn", "username": "nt",
                                                                   "password_env": "X"}}}
    nt = parse_config(data, office.root).district_offices["NT"].mailbox
    assert (nt.security, nt.port, nt.folder) == ("ssl", 993, "INBOX")


@pytest.mark.parametrize("mailbox, message", [
    ({"password": "lo"}, "không được ghi mật khẩu trong tệp cấu hình"),
    ({"security": "tls"}, "giá trị 'tls' không hợp lệ"),
    ({"processed_folder": "INBOX"}, "trùng với thư mục đang đọc"),
    ({"archive_bcc": "lưu trữ"}, "không phải địa chỉ e-mail"),
    ({"fodler": "INBOX"}, "có phải ý là 'folder'"),  # a mistyped key is not silently ignored
])
def test_mailbox_mistakes_are_said_with_their_key_and_the_fix(mailbox: dict, message: str) -> None:
    data = config_data(2525)
    data["departments"]["QLT"]["mailbox"] = {**mailbox_config(1143), **mailbox}
    with pytest.raises(UserError, match=message) as error:
        parse_config(data, Path("/tmp"))
    assert "departments.QLT.mailbox" in error.value.message and "Cách sửa" in error.value.message


def test_no_password_goes_out_unencrypted_to_another_host(office: Office) -> None:
    data = config_data(2525)
    data["departments"]["QLT"]["mailbox"] = mailbox_config(office.imap.port, host="imap.example.vn")
    config = parse_config(data, office.root)
    with pytest.raises(UserError, match="không mã hóa"):
        collect(config, office.ledger)


def test_a_wrong_password_is_a_vietnamese_message(office: Office, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "sai")
    with pytest.raises(UserError, match="từ chối đăng nhập hộp thư phongqlt"):
        office.collect()


# ---------------------------------------------------------------------------- helpers


def _with_folder(office: Office, folder: str) -> Config:
    data = config_data(2525)
    data["departments"]["QLT"]["mailbox"] = mailbox_config(office.imap.port, folder=folder)
    return parse_config(data, office.root)


def _toml(office: Office) -> str:
    data = json.loads((office.root / "config.json").read_text(encoding="utf-8"))
    data["departments"]["QLT"]["mailbox"] = mailbox_config(office.imap.port)
    return toml_text(data)


def _add_drafts(office: Office, codes: list[str], source: tuple[str, int] = ("", 0)) -> None:
    """Drafts for deliveries written straight into the ledger (with TA00001's letter), so their
    sender and list row are known."""
    from dataclasses import replace

    from outreach.outbox.manifest import write_manifest

    template = office.manifest.drafts[0]
    extra = tuple(replace(template, code=code, name=f"Công ty {code}", source_file=source[0], source_row=source[1])
                  for code in codes)
    write_manifest(office.root, replace(office.manifest, drafts=office.manifest.drafts + extra))




# ---------------------------------------------------------------------------- what staff see


def test_bounces_and_replies_show_on_the_recipient_page_and_in_the_report(office: Office, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from outreach.delivery import campaign_status, write_delivery_report
    from outreach.web import create_app

    sent = office.sent()
    bounced_sender, bounced = sent["employers/TA00001"]
    office.deliver(dsn(bounced, "dv1@example.vn", envelope_sender=bounced_sender))
    _, answered = sent["employers/TA00002"]
    office.deliver(reply(answered, "dv2@example.vn", SENDERS["QLT"][0], "Đơn vị xin gia hạn đến 20/01."))
    office.collect()
    data = json.loads((office.root / "config.json").read_text(encoding="utf-8"))
    data["campaigns"] = {CAMPAIGN: {"subject": "đôn đốc", "drafting_unit": "QLT", "template": "templates/cv.docx"}}
    (office.root / "config.toml").write_text(toml_text(data), encoding="utf-8")
    client = create_app(office.root, testing=True).test_client()

    page = client.get(f"/campaigns/{CAMPAIGN}/recipients/TA00002").get_data(as_text=True)
    assert "Đơn vị xin gia hạn đến 20/01." in page and "thư trả lời của người nhận" in page
    page = client.get(f"/campaigns/{CAMPAIGN}/recipients/TA00001").get_data(as_text=True)
    assert "Bị trả lại" in page and "5.1.1" in page and "User unknown" in page

    assert "Đã trả lời" in client.get(f"/campaigns/{CAMPAIGN}").get_data(as_text=True)

    path = write_delivery_report(office.ledger, office.manifest, tmp_path / "bao-cao.xlsx")
    rows = {row[0]: row for row in load_workbook(path).active.iter_rows(min_row=2, values_only=True)}
    assert rows["TA00001"][5] == "đã in, chờ gửi bưu điện" and "5.1.1" in rows["TA00001"][-2]
    assert rows["TA00002"][6] == "Đã trả lời"
    assert rows["TA00002"][-1].endswith("dv2@example.vn: Đơn vị xin gia hạn đến 20/01.")
    assert campaign_status(office.ledger, office.manifest).answers == {"replied": 1, "unanswered": 2}
