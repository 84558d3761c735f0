"""Approval and delivery against a real aiosmtpd on loopback: exactly once, evidence, retries, pauses."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import threading
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, AuthResult
from openpyxl import load_workbook

from outreach.accounts import Actor
from outreach.cli import main
from outreach.config import Config, parse_config
from outreach.delivery import (
    Attempt,
    CampaignPaused,
    IllegalTransition,
    Ledger,
    MaildirHandler,
    Outcome,
    RetryPolicy,
    SendInProgress,
    SmtpSink,
    approve,
    approved_copy_path,
    PaperLetter,
    campaign_status,
    post,
    resolve,
    resume,
    revoke,
    send_campaign,
    send_test_copy,
    write_delivery_report,
)
from outreach.delivery.sink import SERVER_NAME, _Controller as SinkController
from outreach.errors import UserError
from outreach.outbox.manifest import Manifest, Skip, read_manifest, sha256_file
from outreach.outbox.messages import decoded_header, parse_message
from factories import CAMPAIGN, SENDERS, START, SUBJECT, Clock, Recipient, config_data, employers, make_outbox


# ---------------------------------------------------------------------------- fixtures


class FaultHandler(MaildirHandler):
    """Stores like the sink, but answers chosen recipients with scripted faults, one per attempt.

    ``rcpt`` / ``data``: address -> list of replies ("451 …", "550 …", or "DROP" to cut the line).
    A DATA fault is keyed by the first recipient; "DROP" at DATA stores the message, then cuts the
    line before replying (the sender cannot know it arrived); "CUT" at DATA (see FaultSMTP) cuts
    the line in the middle of the message data, before the final dot: nothing is stored.
    """

    def __init__(self, maildir: Path) -> None:
        super().__init__(maildir)
        self.rcpt: dict[str, list[str]] = {}
        self.data: dict[str, list[str]] = {}
        self.delay_s = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = _next(self.rcpt, address)
        if reply == "DROP":
            server.transport.close()
            return "421 4.4.2 closing"
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        reply = _next(self.data, envelope.rcpt_tos[0])
        if reply and reply != "DROP":
            return reply
        key = self.store(envelope)
        if reply == "DROP":
            server.transport.close()
            return "250 never heard"
        await asyncio.sleep(self.delay_s)
        return f"250 2.0.0 Ok: queued as {key}"


def _next(faults: dict[str, list[str]], address: str) -> str:
    queue = faults.get(address)
    return queue.pop(0) if queue else ""


class FaultSMTP(SMTP):
    """aiosmtpd's server, able to cut the line while the message data comes in (a "CUT" at DATA)."""

    async def smtp_DATA(self, arg: str) -> None:
        queue = self.event_handler.data.get(self.envelope.rcpt_tos[0] if self.envelope.rcpt_tos else "")
        if not queue or queue[0] != "CUT":
            return await super().smtp_DATA(arg)
        queue.pop(0)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.readuntil(b"\r\n")  # the first line of the message, then no more
        self.transport.close()
        raise ConnectionResetError("cut before the final dot")  # ends aiosmtpd's loop over what is buffered


class FaultServer(SinkController):
    def factory(self) -> FaultSMTP:
        return FaultSMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class Outbox:
    root: Path
    config: Config
    manifest: Manifest
    ledger: Ledger
    maildir: Path
    handler: FaultHandler
    clock: Clock
    pdfs: dict[str, bytes]

    def approve(self, keys=None, by="Nguyễn Thị Duyệt"):
        return approve(self.root, self.ledger, self.manifest, by, keys, clock=self.clock)

    def send(self, **options):
        options.setdefault("clock", self.clock)
        options.setdefault("sleep", self.clock.sleep)
        return send_campaign(self.config, self.manifest, self.ledger, **options)

    def state(self, key: str) -> str:
        return self.ledger.delivery(CAMPAIGN, key).state

    def received(self) -> list[tuple[str, bytes]]:
        """(envelope recipients, message bytes) for every stored message."""
        messages = []
        new = self.maildir / "new"
        for path in sorted(new.iterdir()) if new.exists() else []:
            data = path.read_bytes()
            _, envelope_to, message = data.split(b"\r\n", 2)
            messages.append((envelope_to.decode().split(": ", 1)[1], message))
        return messages

    def received_for(self, key: str) -> tuple[str, bytes]:
        """(envelope recipients, message bytes) of the one stored message of draft ``key``.  Found by
        Message-ID: Maildir names do not sort in arrival order (their microseconds are not zero-padded)."""
        wanted = str(parse_message(self.eml(key))["Message-ID"])
        (found,) = [(to, message) for to, message in self.received()
                    if str(parse_message(message)["Message-ID"]) == wanted]
        return found

    def eml(self, key: str) -> bytes:
        (draft,) = [d for d in self.manifest.drafts if d.key == key]
        return draft.eml_path(self.root).read_bytes()

    def received_by_key(self) -> Counter[str]:
        """How many times each draft's message (by its Message-ID) was received."""
        ids = {str(parse_message(d.eml_path(self.root).read_bytes())["Message-ID"]): d.key
               for d in self.manifest.drafts if d.to}
        return Counter(ids[str(parse_message(message)["Message-ID"])] for _, message in self.received())


@pytest.fixture
def outbox_factory(tmp_path: Path):
    sinks: list[FaultServer] = []
    ledgers: list[Ledger] = []

    def factory(recipients: list[Recipient], **schedule: int) -> Outbox:
        handler = FaultHandler(tmp_path / "maildir")
        sink = FaultServer(handler, hostname="127.0.0.1", port=0, server_hostname=SERVER_NAME)
        sink.start()
        sinks.append(sink)
        data = config_data(sink.port, **schedule)
        root = tmp_path / "work"
        manifest, pdfs = make_outbox(root, recipients, data)
        ledger = Ledger.open(root)
        ledgers.append(ledger)
        return Outbox(root, parse_config(data, root), manifest, ledger, handler.maildir, handler, Clock(), pdfs)

    yield factory
    for ledger in ledgers:
        ledger.close()
    for sink in sinks:
        sink.stop()


# ---------------------------------------------------------------------------- sending


def test_approved_messages_arrive_exactly_once_with_evidence(outbox_factory) -> None:
    commune = Recipient("communes", "22333", "Ủy ban nhân dân Phường Vĩnh Hòa", ("ubnd.vinhhoa@example.vn",),
                        cc=("nhatrang@bhxh-khanhhoa.example.vn",), sender="TTPT")
    box = outbox_factory([commune, *employers(2)])
    box.approve()
    report = box.send()

    assert report.sent == ["communes/22333", "employers/TA00001", "employers/TA00002"]
    assert not (report.failed or report.retrying or report.uncertain or report.skipped)
    assert box.received_by_key() == Counter({d.key: 1 for d in box.manifest.drafts})
    envelope_to, message = box.received_for("communes/22333")
    eml = box.eml("communes/22333")
    assert message == eml  # the approved bytes, unchanged
    assert envelope_to == "ubnd.vinhhoa@example.vn, nhatrang@bhxh-khanhhoa.example.vn"

    received = parse_message(message)
    assert received["Subject"] == SUBJECT
    assert decoded_header(received, "From") == f"{SENDERS['TTPT'][1]} <{SENDERS['TTPT'][0]}>"
    (attachment,) = received.iter_attachments()
    assert attachment.get_filename() == "Công văn số 05 – Ủy ban nhân dân Phường Vĩnh Hòa.pdf"
    assert attachment.get_content() == box.pdfs["communes/22333"]

    delivery = box.ledger.delivery(CAMPAIGN, "communes/22333")
    assert delivery.state == "sent" and delivery.attempts == 1
    assert delivery.code == 250 and delivery.reply.startswith("2.0.0 Ok: queued as ")
    assert delivery.channel == "email" and delivery.where == "DATA"
    assert delivery.message_id == str(received["Message-ID"])
    assert delivery.to == ("ubnd.vinhhoa@example.vn",) and delivery.cc == ("nhatrang@bhxh-khanhhoa.example.vn",)
    assert delivery.file_hashes["message.eml"] == delivery.message_sha256
    assert delivery.file_hashes["letter.pdf"] == sha256_file(box.root / box.manifest.drafts[0].folder / "letter.pdf")
    assert delivery.approved_by == "Nguyễn Thị Duyệt" and delivery.sent_at == START.isoformat(timespec="milliseconds")
    assert approved_copy_path(box.root, box.manifest.drafts[0], delivery.message_sha256).read_bytes() == eml
    assert [e.to_state for e in box.ledger.events(CAMPAIGN, "communes/22333")] == ["approved", "sending", "sent"]

    again = box.send()
    assert again.sent == [] and box.received_by_key() == Counter({d.key: 1 for d in box.manifest.drafts})


def test_each_sender_uses_its_own_smtp_profile(outbox_factory, tmp_path: Path) -> None:
    box = outbox_factory([*employers(1), Recipient("communes", "22333", "UBND Phường Vĩnh Hòa", ("ubnd@example.vn",),
                                                   sender="TTPT")])
    with SmtpSink(tmp_path / "other", port=0) as other:
        data = config_data(box.config.smtp["sink"].port)
        data["smtp"]["other"] = {"host": "127.0.0.1", "port": other.port, "security": "none"}
        data["departments"]["TTPT"]["smtp"] = "other"
        box.config = parse_config(data, box.root)
        box.approve()
        assert box.send().sent == ["employers/TA00001", "communes/22333"]
    assert [to for to, _ in box.received()] == ["dv1@example.vn"]
    (stored,) = [p.read_bytes() for p in (tmp_path / "other" / "new").iterdir()]
    assert stored.startswith(f"Return-Path: <{SENDERS['TTPT'][0]}>\r\nX-Outreach-Envelope-To: ubnd@example.vn".encode())


def test_unapproved_and_changed_messages_are_not_sent(outbox_factory) -> None:
    box = outbox_factory(employers(3))
    box.approve(["employers/TA00001", "employers/TA00002"])
    eml = box.manifest.drafts[1].eml_path(box.root)
    eml.write_bytes(eml.read_bytes() + b"\r\n")  # one byte pair more than what was approved

    report = box.send()

    assert report.sent == ["employers/TA00001"]
    (problem,) = report.skipped
    assert problem.key == "employers/TA00002" and "đã thay đổi sau khi được duyệt" in problem.message
    assert problem.reason is Skip.CHANGED
    assert box.state("employers/TA00002") == "approved"
    assert box.ledger.delivery(CAMPAIGN, "employers/TA00003") is None
    assert box.received_by_key() == Counter({"employers/TA00001": 1})
    approved = box.ledger.delivery(CAMPAIGN, "employers/TA00002").message_sha256
    kept = approved_copy_path(box.root, box.manifest.drafts[1], approved).read_bytes()
    assert hashlib.sha256(kept).hexdigest() == approved  # the approved bytes outlive the change


def test_an_approval_refused_for_one_draft_approves_and_keeps_nothing(outbox_factory) -> None:
    box = outbox_factory(employers(40))
    eml = box.manifest.drafts[29].eml_path(box.root)
    eml.write_bytes(eml.read_bytes() + b"\r\n")

    with pytest.raises(UserError, match="Không duyệt thư nào vì") as refused:
        box.approve()

    assert "employers/TA00030" in refused.value.message and "employers/TA00029" not in refused.value.message
    assert box.ledger.deliveries(CAMPAIGN) == {}
    assert not list((box.root / "outbox" / CAMPAIGN / "approved").rglob("*.eml"))  # no copy of unapproved bytes
    eml.write_bytes(eml.read_bytes()[:-2])
    assert len(box.approve()) == 40  # then each one read, checked and kept once, in manifest order
    kept = sorted(p.name.split("-")[0] for p in (box.root / "outbox" / CAMPAIGN / "approved").rglob("*.eml"))
    assert kept == [d.code for d in box.manifest.drafts]


def test_a_message_rebuilt_during_the_rate_limit_wait_is_not_sent(outbox_factory) -> None:
    box = outbox_factory(employers(2), messages_per_minute=6)
    box.approve()
    eml = box.manifest.drafts[1].eml_path(box.root)
    original = eml.read_bytes()

    def build_replaces_it(seconds: float) -> None:  # TA00002 is read and checked, then waits its turn
        eml.write_bytes(original.replace(b"Subject:", b"Subject: (moi)", 1))
        box.clock.sleep(seconds)

    report = box.send(sleep=build_replaces_it)

    assert report.sent == ["employers/TA00001"]
    (problem,) = report.skipped
    assert problem.key == "employers/TA00002" and "vừa được tạo lại" in problem.message
    assert box.state("employers/TA00002") == "approved"
    assert box.received_by_key() == Counter({"employers/TA00001": 1})


def test_recipients_changed_in_manifest_are_refused(outbox_factory) -> None:
    box = outbox_factory(employers(2))
    box.approve()
    first = box.manifest.drafts[0]
    box.manifest = replace(box.manifest, drafts=(replace(first, cc=("them@example.vn",)), *box.manifest.drafts[1:]))

    report = box.send()

    assert report.sent == ["employers/TA00002"]
    assert "khác người nhận ghi trong thư đã duyệt" in report.skipped[0].message
    assert report.skipped[0].reason is Skip.RECIPIENTS
    assert box.state("employers/TA00001") == "approved"


def test_approval_checks_bytes_and_refuses_what_cannot_be_approved(outbox_factory) -> None:
    paper = Recipient("employers", "TA09999", "Hộ kinh doanh không có e-mail", ())
    box = outbox_factory([*employers(2), paper])

    approved = box.approve()  # all, the letter on paper too: nothing goes out unapproved
    assert [d.key for d in approved] == ["employers/TA00001", "employers/TA00002", "employers/TA09999"]
    letter = box.manifest.drafts[2].path(box.root, "letter.pdf")
    assert (approved[2].channel, approved[2].message_sha256) == ("paper", sha256_file(letter))  # bound to the PDF
    assert {d.channel for d in approved[:2]} == {"email"}
    assert box.approve() == []  # idempotent
    with pytest.raises(UserError, match="Cần ghi tên người duyệt"):
        box.approve(by="  ")
    revoke(box.ledger, box.manifest, "Trưởng phòng", ["employers/TA09999"], "in lại", clock=box.clock)
    letter.write_bytes(letter.read_bytes() + b"\n")
    with pytest.raises(UserError, match="letter.pdf đã thay đổi sau khi tạo bản thảo"):
        box.approve(["employers/TA09999"])

    eml = box.manifest.drafts[0].eml_path(box.root)
    eml.write_bytes(eml.read_bytes() + b"\r\n")
    with pytest.raises(UserError, match="message.eml đã thay đổi sau khi tạo bản thảo"):
        box.approve(["employers/TA00001"])

    box.send()  # TA00001 changed after approval: skipped; TA00002 sent
    with pytest.raises(UserError, match="đã gửi lúc"):
        box.approve(["employers/TA00002"])
    with pytest.raises(UserError, match="không hủy duyệt được"):
        revoke(box.ledger, box.manifest, "Trưởng phòng", ["employers/TA00002"], clock=box.clock)
    (revoked,) = revoke(box.ledger, box.manifest, "Trưởng phòng", ["employers/TA00001"], "sai số liệu", clock=box.clock)
    assert revoked.state == "revoked"
    assert box.send().sent == []
    assert box.ledger.approvals(CAMPAIGN, "employers/TA00001")[-1].revoke_note == "sai số liệu"


def test_temporary_failures_retry_with_backoff_then_succeed(outbox_factory) -> None:
    box = outbox_factory(employers(4))
    box.handler.rcpt["dv1@example.vn"] = ["451 4.3.0 Hệ thống bận, thử lại sau"]
    box.handler.data["dv2@example.vn"] = ["421 4.7.0 Too many messages, closing"]
    box.handler.rcpt["dv3@example.vn"] = ["DROP"]
    box.handler.rcpt["dv4@example.vn"] = ["550 5.1.1 <dv4@example.vn>: Recipient address rejected: User unknown"]
    box.approve()

    first = box.send()

    assert first.sent == []
    assert [p.key for p in first.retrying] == ["employers/TA00001", "employers/TA00002", "employers/TA00003"]
    (failed,) = first.failed
    assert failed.key == "employers/TA00004" and "550 5.1.1 <dv4@example.vn>: Recipient address rejected" in failed.message
    delivery = box.ledger.delivery(CAMPAIGN, "employers/TA00001")
    assert delivery.state == "retrying" and delivery.code == 451 and "Hệ thống bận" in delivery.reply
    assert delivery.where == "RCPT TO:<dv1@example.vn>"
    assert delivery.next_attempt_at == (START + dt.timedelta(minutes=5)).isoformat(timespec="milliseconds")
    assert box.ledger.delivery(CAMPAIGN, "employers/TA00004").reply.startswith("5.1.1 <dv4@example.vn>")
    assert box.received() == []

    box.clock.advance(minutes=1)
    early = box.send()
    assert early.sent == [] and {p.key for p in early.skipped} == {p.key for p in first.retrying}
    assert all("Chờ gửi lại sau" in p.message and p.reason is Skip.RETRY_LATER for p in early.skipped)

    box.clock.advance(minutes=5)
    later = box.send()
    assert later.sent == ["employers/TA00001", "employers/TA00002", "employers/TA00003"]
    assert box.ledger.delivery(CAMPAIGN, "employers/TA00001").attempts == 2
    assert box.state("employers/TA00004") == "failed"
    assert box.received_by_key() == Counter({"employers/TA00001": 1, "employers/TA00002": 1, "employers/TA00003": 1})


def test_temporary_failure_gives_up_after_max_attempts(outbox_factory) -> None:
    box = outbox_factory(employers(1))
    box.handler.rcpt["dv1@example.vn"] = ["452 4.2.2 Mailbox full"] * 3
    box.approve()
    for minutes in (0, 5, 10):
        box.clock.advance(minutes=minutes)
        report = box.send(retry=RetryPolicy(max_attempts=3))
    assert report.failed[0].message.startswith("Lỗi tạm thời lặp lại 3 lần")
    delivery = box.ledger.delivery(CAMPAIGN, "employers/TA00001")
    assert delivery.state == "failed" and delivery.attempts == 3 and "Mailbox full" in delivery.reply


def test_campaign_pauses_after_consecutive_failures_until_resumed(outbox_factory) -> None:
    box = outbox_factory(employers(5))
    for index in range(1, 4):
        box.handler.rcpt[f"dv{index}@example.vn"] = ["554 5.7.1 Relay access denied"]
    box.approve()

    report = box.send(retry=RetryPolicy(pause_after_failures=3))

    assert len(report.failed) == 3 and report.sent == []
    assert report.paused.startswith("Tự động tạm dừng sau 3 lần gửi không thành công liên tiếp")
    assert box.state("employers/TA00004") == "approved"
    assert box.ledger.pause_state(CAMPAIGN).paused
    with pytest.raises(CampaignPaused, match="đang tạm dừng") as refused:
        box.send(retry=RetryPolicy(pause_after_failures=3))
    assert "outreach resume" in refused.value.message

    resume(box.ledger, CAMPAIGN, "Trưởng phòng", clock=box.clock)
    assert box.send(retry=RetryPolicy(pause_after_failures=3)).sent == ["employers/TA00004", "employers/TA00005"]
    assert [e.to_state for e in box.ledger.events(CAMPAIGN, "")] == ["paused", "resumed"]


def test_connection_refused_leaves_the_rest_untouched(outbox_factory) -> None:
    box = outbox_factory(employers(3))
    data = config_data(1)  # nothing listens on port 1
    box.config = parse_config(data, box.root)
    box.approve()

    report = box.send()

    (retrying,) = report.retrying
    assert retrying.key == "employers/TA00001" and "máy chủ thư 127.0.0.1:1: ConnectionRefusedError" in retrying.message
    assert [p.key for p in report.skipped] == ["employers/TA00002", "employers/TA00003"]
    assert "Không kết nối được máy chủ thư 127.0.0.1:1" in report.skipped[0].message
    assert {p.reason for p in report.skipped} == {Skip.UNREACHABLE}
    assert box.state("employers/TA00002") == "approved"
    # what staff read says what happened and what to do, beside the evidence's English
    explained = "từ chối kết nối: không có dịch vụ thư nào đang chạy ở địa chỉ và cổng này"
    assert explained in retrying.message and explained in report.skipped[0].message
    assert explained in box.ledger.delivery(CAMPAIGN, "employers/TA00001").last_error


def test_starttls_profile_refuses_a_server_without_tls(outbox_factory) -> None:
    box = outbox_factory(employers(2))
    data = config_data(box.config.smtp["sink"].port)
    data["smtp"]["sink"]["security"] = "starttls"
    box.config = parse_config(data, box.root)
    box.approve()

    report = box.send()

    assert "STARTTLS" in report.retrying[0].message and report.sent == [] and box.received() == []
    assert box.state("employers/TA00002") == "approved"


def test_drop_after_final_dot_is_uncertain_and_never_resent(outbox_factory) -> None:
    box = outbox_factory(employers(3))
    box.handler.data["dv2@example.vn"] = ["DROP"]
    box.approve()

    report = box.send()

    assert report.sent == ["employers/TA00001", "employers/TA00003"]
    (uncertain,) = report.uncertain
    assert uncertain.key == "employers/TA00002" and "KHÔNG được gửi lại tự động" in uncertain.message
    box.clock.advance(hours=1)
    assert box.send().sent == []
    assert box.received_by_key() == Counter({d.key: 1 for d in box.manifest.drafts})  # it did arrive

    with pytest.raises(UserError, match="Cần ghi lý do"):
        resolve(box.ledger, CAMPAIGN, "employers/TA00002", "sent", "Trần Văn Kiểm", " ", clock=box.clock)
    with pytest.raises(IllegalTransition):
        resolve(box.ledger, CAMPAIGN, "employers/TA00001", "resend", "Trần Văn Kiểm", "nhầm", clock=box.clock)
    settled = resolve(box.ledger, CAMPAIGN, "employers/TA00002", "sent", "Trần Văn Kiểm",
                      "Đã thấy thư trong hộp thư thử nghiệm", clock=box.clock)
    assert settled.state == "sent" and settled.sent_at == settled.started_at
    last = box.ledger.events(CAMPAIGN, "employers/TA00002")[-1]
    assert (last.from_state, last.to_state, last.actor, last.detail) == (
        "uncertain", "sent", "Trần Văn Kiểm", "Đã thấy thư trong hộp thư thử nghiệm")


def test_drop_before_final_dot_is_retried_for_nothing_was_delivered(outbox_factory) -> None:
    box = outbox_factory(employers(3), messages_per_minute=60)  # a pause long enough for the whole grace
    box.handler.data["dv2@example.vn"] = ["CUT"]
    box.approve()

    report = box.send()

    assert report.sent == ["employers/TA00001", "employers/TA00003"] and report.uncertain == []
    (retrying,) = report.retrying
    assert retrying.key == "employers/TA00002" and "trước dấu chấm kết thúc" in retrying.message
    assert "sau khi đã gửi xong nội dung thư" not in retrying.message
    assert box.received_by_key() == Counter({"employers/TA00001": 1, "employers/TA00003": 1})
    box.clock.advance(minutes=5)
    assert box.send().sent == ["employers/TA00002"]
    assert box.received_by_key() == Counter({d.key: 1 for d in box.manifest.drafts})


def test_send_exits_3_while_a_message_is_uncertain_and_every_later_run_says_so(outbox_factory, capsys,
                                                                               monkeypatch) -> None:
    box = outbox_factory(employers(2))
    box.handler.data["dv2@example.vn"] = ["DROP"]
    box.approve()
    monkeypatch.delenv("OUTREACH_SMTP_URL", raising=False)
    root = ["--root", str(box.root)]

    assert main([*root, "send", CAMPAIGN]) == 3
    assert "CẦN NGƯỜI QUYẾT ĐỊNH: 1 thư chưa chắc chắn đã đến nơi (employers/TA00002)" in capsys.readouterr().out
    for later in (["send", CAMPAIGN], ["status", CAMPAIGN]):  # nothing new to send: it is still said
        assert main([*root, *later]) == (3 if later[0] == "send" else 0)
        out = capsys.readouterr().out
        assert "1 thư chưa chắc chắn" in out and f"outreach resolve {CAMPAIGN} MÃ sent" in out

    assert main([*root, "resolve", CAMPAIGN, "TA00002", "sent", "--by", "Trần Văn Kiểm",
                 "--note", "Thấy thư trong hộp thư thử nghiệm"]) == 0
    assert main([*root, "send", CAMPAIGN]) == 0
    assert "chưa chắc chắn" not in capsys.readouterr().out


def test_resolve_resend_sends_again_on_a_persons_decision(outbox_factory) -> None:
    box = outbox_factory(employers(1))
    box.handler.data["dv1@example.vn"] = ["DROP"]
    box.approve()
    box.send()
    assert box.state("employers/TA00001") == "uncertain"
    resolve(box.ledger, CAMPAIGN, "employers/TA00001", "resend", "Trần Văn Kiểm", "Máy chủ báo không nhận được",
            clock=box.clock)
    assert box.send().sent == ["employers/TA00001"]
    assert box.ledger.delivery(CAMPAIGN, "employers/TA00001").attempts == 2


SEND_SCRIPT = """
import json, sys
from pathlib import Path
from outreach.config import parse_config
from outreach.delivery import Ledger, send_campaign
from outreach.outbox.manifest import read_manifest

root = Path(sys.argv[1])
config = parse_config(json.loads((root / "config.json").read_text(encoding="utf-8")), root)
with Ledger.open(root) as ledger:
    report = send_campaign(config, read_manifest(root, sys.argv[2]), ledger)
print(json.dumps(report.as_json()))
"""


def test_killed_mid_send_then_rerun_every_recipient_exactly_once(outbox_factory) -> None:
    box = outbox_factory(employers(8))
    box.approve()
    box.handler.delay_s = 0.2  # each message is stored, then the reply waits 0.2 s
    process = subprocess.Popen([sys.executable, "-c", SEND_SCRIPT, str(box.root), CAMPAIGN],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(box.received()) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    in_flight = [key for key, d in box.ledger.deliveries(CAMPAIGN).items() if d.state == "sending"]
    assert in_flight == ["employers/TA00003"]  # killed while waiting for the reply to the 3rd message

    box.handler.delay_s = 0.0
    report = box.send(clock=lambda: dt.datetime.now(dt.timezone.utc))

    assert report.interrupted == in_flight
    states = Counter(d.state for d in box.ledger.deliveries(CAMPAIGN).values())
    assert states["sent"] + states["uncertain"] == 8 and states["uncertain"] == len(in_flight)
    assert box.received_by_key() == Counter({d.key: 1 for d in box.manifest.drafts})  # none twice, none skipped
    assert box.send(clock=lambda: dt.datetime.now(dt.timezone.utc)).sent == []
    assert box.received_by_key() == Counter({d.key: 1 for d in box.manifest.drafts})


def test_second_sender_process_is_refused(outbox_factory) -> None:
    box = outbox_factory(employers(1))
    box.approve()
    with Ledger.open(box.root) as other, other.send_lock(CAMPAIGN):
        with pytest.raises(SendInProgress, match="đang được gửi bởi một tiến trình khác"):
            box.send()
    assert box.send().sent == ["employers/TA00001"]


# ---------------------------------------------------------------------------- pacing


def test_daily_quota_and_rate_limit_with_injected_clock(outbox_factory) -> None:
    box = outbox_factory(employers(5), daily_quota=3, messages_per_minute=6)
    box.approve()

    first = box.send()

    assert first.sent == ["employers/TA00001", "employers/TA00002", "employers/TA00003"]
    assert [p.key for p in first.skipped] == ["employers/TA00004", "employers/TA00005"]
    assert "Đã đủ hạn mức 3 thư/ngày" in first.skipped[0].message
    assert {p.reason for p in first.skipped} == {Skip.QUOTA}
    assert box.clock.slept == [10.0, 10.0]  # 6 per minute: 10 s apart
    starts = [box.ledger.delivery(CAMPAIGN, f"employers/TA0000{i}").started_at for i in (1, 2, 3)]
    assert starts == [(START + dt.timedelta(seconds=s)).isoformat(timespec="milliseconds") for s in (0, 10, 20)]

    assert box.send().sent == []  # same day: quota still used up
    box.clock.advance(hours=15)  # 00:20 next day in Khánh Hòa (UTC+7)
    assert box.send().sent == ["employers/TA00004", "employers/TA00005"]
    assert box.clock.slept == [10.0, 10.0, 10.0]  # the first of a new run also waits for the last one


def test_limit_and_department(outbox_factory) -> None:
    box = outbox_factory([*employers(3), Recipient("communes", "22333", "UBND Phường Vĩnh Hòa", ("ubnd@example.vn",),
                                                   sender="TTPT")])
    box.approve()
    assert box.send(department="TTPT").sent == ["communes/22333"]
    assert box.send(limit=2).sent == ["employers/TA00001", "employers/TA00002"]
    with pytest.raises(UserError, match="Không có phòng/đơn vị gửi 'XYZ'"):
        box.send(department="XYZ")


def test_dry_run_touches_nothing(outbox_factory) -> None:
    box = outbox_factory(employers(3))
    box.approve()
    before = box.ledger.events(CAMPAIGN)
    eml = box.manifest.drafts[2].eml_path(box.root)
    eml.write_bytes(eml.read_bytes() + b"\r\n")

    report = box.send(dry_run=True, limit=5)

    assert report.would_send == ["employers/TA00001", "employers/TA00002"] and report.sent == []
    assert [p.key for p in report.skipped] == ["employers/TA00003"]
    assert box.ledger.events(CAMPAIGN) == before and box.received() == []


# ---------------------------------------------------------------------------- test copy, status, report


def test_test_copy_goes_to_the_tester_only_and_leaves_the_ledger_alone(outbox_factory) -> None:
    box = outbox_factory([Recipient("communes", "22333", "Ủy ban nhân dân Phường Vĩnh Hòa",
                                    ("ubnd@example.vn",), cc=("nhatrang@bhxh-khanhhoa.example.vn",), sender="TTPT")])
    draft = box.manifest.drafts[0]

    result = send_test_copy(box.config, draft, "kiemtra@bhxh-khanhhoa.example.vn")

    ((envelope_to, message),) = box.received()
    original = parse_message(draft.eml_path(box.root).read_bytes())
    copy = parse_message(message)
    assert envelope_to == "kiemtra@bhxh-khanhhoa.example.vn"
    assert copy["To"] == "kiemtra@bhxh-khanhhoa.example.vn" and copy["Cc"] is None
    assert copy["Subject"] == "[BẢN THỬ] " + SUBJECT
    assert copy["Message-ID"] != original["Message-ID"] and result.message_id == copy["Message-ID"]
    assert decoded_header(copy, "From") == decoded_header(original, "From")
    assert [a.get_content() for a in copy.iter_attachments()] == [a.get_content() for a in original.iter_attachments()]
    assert box.ledger.deliveries(CAMPAIGN) == {} and box.ledger.events(CAMPAIGN) == []


def test_status_counts_and_excel_report(outbox_factory, tmp_path: Path) -> None:
    paper = Recipient("employers", "TA09999", "Hộ kinh doanh Bà Ba", (), district="Huyện Cam Lâm")
    box = outbox_factory([*employers(3), paper])
    box.handler.rcpt["dv2@example.vn"] = ["550 5.1.1 User unknown"]
    box.approve(["employers/TA00001", "employers/TA00002"])
    box.send()

    status = campaign_status(box.ledger, box.manifest)
    assert status.total == {"sent": 1, "failed": 1, "drafted": 2}
    assert status.by_audience == {"employers": status.total}
    assert status.by_district["Huyện Cam Lâm"] == {"drafted": 1}
    assert status.paper == (PaperLetter("employers/TA09999", "Hộ kinh doanh Bà Ba", "drafted", "", "", None),)
    box.approve(["employers/TA09999"])
    assert box.send().printed == ["employers/TA09999"]
    post(box.ledger, box.manifest, "Lê Văn Bưu", on=dt.date(2023, 1, 9), clock=box.clock)
    (paper_letter,) = campaign_status(box.ledger, box.manifest).paper
    assert paper_letter == PaperLetter("employers/TA09999", "Hộ kinh doanh Bà Ba", "posted",
                                       "paper/lo-in-01-QLT.pdf, trang 1", "Lê Văn Bưu", "2023-01-09")

    path = write_delivery_report(box.ledger, box.manifest, tmp_path / "bao-cao.xlsx")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    header = rows[0]
    assert header[:6] == ("Mã", "Tên", "Nhóm", "Địa chỉ e-mail", "Đồng gửi (Cc)", "Trạng thái")
    assert {"Thời gian gửi", "Message-ID", "Phản hồi máy chủ", "SHA-256 các tệp", "Người duyệt",
            "Thời gian duyệt"} <= set(header)
    by_code = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    sent = by_code["TA00001"]
    assert sent["Trạng thái"] == "đã gửi" and sent["Người duyệt"] == "Nguyễn Thị Duyệt"
    assert sent["Thời gian gửi"] == dt.datetime(2023, 1, 9, 9, 0)  # local time
    assert sent["Phản hồi máy chủ"].startswith("250 2.0.0 Ok: queued as")
    assert sent["Message-ID"] == box.ledger.delivery(CAMPAIGN, "employers/TA00001").message_id
    assert "message.eml: " in sent["SHA-256 các tệp"] and "letter.pdf: " in sent["SHA-256 các tệp"]
    assert by_code["TA00002"]["Trạng thái"] == "thất bại" and "User unknown" in by_code["TA00002"]["Phản hồi máy chủ"]
    assert by_code["TA00003"]["Trạng thái"] == "chưa duyệt" and by_code["TA00003"]["Kênh gửi"] == "E-mail"
    on_paper = by_code["TA09999"]
    assert (on_paper["Trạng thái"], on_paper["Kênh gửi"], on_paper["Bản in (tệp, trang)"], on_paper["Người gửi bưu điện"],
            on_paper["Ngày gửi bưu điện"]) == ("đã gửi bưu điện", "Bản giấy", "paper/lo-in-01-QLT.pdf, trang 1",
                                               "Lê Văn Bưu", dt.datetime(2023, 1, 9))
    assert on_paper["Thời gian gửi"] is None and on_paper["Phản hồi máy chủ"] is None  # no server on paper
    assert on_paper["Người duyệt"] == "Nguyễn Thị Duyệt" and "letter.pdf: " in on_paper["SHA-256 các tệp"]


def test_a_name_that_looks_like_a_formula_stays_text_in_the_delivery_report(outbox_factory, tmp_path: Path) -> None:
    box = outbox_factory([Recipient("employers", "TA00001", '=HYPERLINK("http://x.example","Bấm vào")', ()),
                          Recipient("employers", "TA00002", "@SUM(1+1)", ())])
    path = write_delivery_report(box.ledger, box.manifest, tmp_path / "bao-cao.xlsx")
    sheet = load_workbook(path).active
    names = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert names["TA00001"].value == '=HYPERLINK("http://x.example","Bấm vào")' and names["TA00001"].data_type == "s"
    assert names["TA00002"].value == "@SUM(1+1)" and names["TA00002"].data_type == "s"


# ---------------------------------------------------------------------------- ledger rules


def test_ledger_enforces_transitions_and_keeps_events_append_only(outbox_factory) -> None:
    box = outbox_factory(employers(1))
    box.approve()
    with pytest.raises(IllegalTransition, match="không thể chuyển từ trạng thái 'đã duyệt, chờ gửi' sang 'đã gửi'"):
        box.ledger.finish(CAMPAIGN, "employers/TA00001", Outcome("sent", 250, "ok"), START)
    with pytest.raises(IllegalTransition):
        box.ledger.resolve(CAMPAIGN, "employers/TA00001", "sent", Actor("A"), "b", START)
    with sqlite3.connect(box.ledger.path) as db:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM events")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE events SET actor = 'x'")
    assert read_manifest(box.root, CAMPAIGN) == box.manifest


def test_two_connections_claim_each_message_once(outbox_factory) -> None:
    box = outbox_factory(employers(40))
    box.approve()
    won: list[list[str]] = [[], []]

    def claim_all(slot: int) -> None:
        with Ledger.open(box.root) as ledger:
            for draft in box.manifest.drafts:
                try:
                    ledger.claim(CAMPAIGN, draft.key, Attempt("email", "<id>", draft.to, (), {}), START)
                    won[slot].append(draft.key)
                except IllegalTransition:
                    pass

    threads = [threading.Thread(target=claim_all, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won[0] + won[1]) == sorted(d.key for d in box.manifest.drafts)  # each exactly once
    assert all(d.state == "sending" and d.attempts == 1 for d in box.ledger.deliveries(CAMPAIGN).values())


class _Accounts:
    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = tuple(v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password))
        self.logins.append(login)
        return AuthResult(success=login == ("qlt", "mat-khau-dung"))


def test_login_with_password_from_environment(outbox_factory, tmp_path: Path, monkeypatch) -> None:
    box = outbox_factory(employers(2))
    accounts = _Accounts()
    server = SmtpSink(tmp_path / "auth-mail", port=0, authenticator=accounts, auth_require_tls=False).start()
    try:
        data = config_data(server.port)
        data["smtp"]["sink"].update(username="qlt", password_env="OUTREACH_TEST_SMTP_PASSWORD",
                                    allow_plaintext_auth=True)  # this test server has no TLS
        box.config = parse_config(data, box.root)
        box.approve()
        monkeypatch.setattr("outreach.delivery.smtp._keyring_password", lambda username: None)
        monkeypatch.delenv("OUTREACH_TEST_SMTP_PASSWORD", raising=False)
        with pytest.raises(UserError, match="OUTREACH_TEST_SMTP_PASSWORD"):
            box.send()
        assert box.state("employers/TA00001") == "approved" and accounts.logins == []

        monkeypatch.setenv("OUTREACH_TEST_SMTP_PASSWORD", "mật-khẩu")
        with pytest.raises(UserError, match="mật khẩu không dấu"):
            box.send()
        monkeypatch.setenv("OUTREACH_TEST_SMTP_PASSWORD", "mat-khau-dung")
        assert box.send().sent == ["employers/TA00001", "employers/TA00002"]
    finally:
        server.stop()
    assert accounts.logins == [("qlt", "mat-khau-dung")]  # one login for the whole batch
    assert len(list((tmp_path / "auth-mail" / "new").iterdir())) == 2


def test_a_password_goes_out_unencrypted_only_where_the_profile_allows_it(outbox_factory, tmp_path: Path,
                                                                          monkeypatch) -> None:
    box = outbox_factory(employers(1))
    accounts = _Accounts()
    # A server that would take AUTH over plain text: the client alone must refuse to send it.
    server = SmtpSink(tmp_path / "auth-mail", port=0, authenticator=accounts, auth_require_tls=False).start()
    monkeypatch.setenv("OUTREACH_TEST_SMTP_PASSWORD", "mat-khau-dung")
    try:
        box.approve()
        data = config_data(server.port)
        data["smtp"]["sink"].update(username="qlt", password_env="OUTREACH_TEST_SMTP_PASSWORD")
        box.config = parse_config(data, box.root)
        with pytest.raises(UserError, match='không mã hóa .security = "none".*allow_plaintext_auth = true'):
            box.send()

        data["smtp"]["sink"]["security"] = "starttls"  # staging points the profile at a plain server
        box.config = parse_config(data, box.root, smtp_url=f"smtp://127.0.0.1:{server.port}")
        with pytest.raises(UserError, match=f"OUTREACH_SMTP_URL=smtp://127.0.0.1:{server.port}"):
            box.send()
        assert accounts.logins == [] and box.state("employers/TA00001") == "approved"

        # The login inside OUTREACH_SMTP_URL is the one used (the profile has none), never shown.
        data["smtp"]["sink"] = {"host": "mail.example.vn", "port": 587, "security": "starttls",
                                "allow_plaintext_auth": True}
        box.config = parse_config(data, box.root, smtp_url=f"smtp://qlt:mat-khau-dung@127.0.0.1:{server.port}")
        assert "mat-khau-dung" not in repr(box.config)
        assert box.send().sent == ["employers/TA00001"]
    finally:
        server.stop()
    assert accounts.logins == [("qlt", "mat-khau-dung")]
