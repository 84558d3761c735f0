"""`outreach send` killed at random moments, restarted, then settled by a person: each recipient once.

The sink runs in its own process (a kill of the sender never touches it) and is the truth of what
was delivered; the ledger must agree with it once a person has resolved what the kills left
uncertain, the way staff would: look for the message in the mail server, then `resolve`.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from factories import CAMPAIGN, Clock, config_data, employers, make_outbox
from outreach.delivery import Ledger, approve
from outreach.outbox.messages import parse_message
from outreach.workspace import Workspace

KILLS = 6
SEED = 20  # issue 20
RECIPIENTS = 40

SINK_SCRIPT = """
import asyncio, sys
from pathlib import Path
from outreach.delivery import MaildirHandler, SmtpSink

class Slow(MaildirHandler):  # the reply comes 30 ms after the message is stored: kills land in between
    async def handle_DATA(self, server, session, envelope):
        key = self.store(envelope)
        await asyncio.sleep(0.03)
        return f"250 2.0.0 Ok: queued as {key}"

with SmtpSink(None, port=0, handler=Slow(Path(sys.argv[1]))) as sink:
    print(sink.port, flush=True)
    sys.stdin.read()
"""


def outreach(root: Path, *args: str, **options) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "OUTREACH_SMTP_URL"}
    return subprocess.Popen([sys.executable, "-m", "outreach", "--root", str(root), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **options)


def run(root: Path, *args: str) -> int:
    process = outreach(root, *args)
    out, err = process.communicate(timeout=60)
    assert not err.strip(), err.decode()
    return process.returncode


def received(maildir: Path) -> Counter[str]:
    """How many times the server stored each Message-ID."""
    new = maildir / "new"
    stored = [path.read_bytes().split(b"\r\n", 2)[2] for path in new.iterdir()] if new.exists() else []
    return Counter(str(parse_message(message)["Message-ID"]) for message in stored)


def integrity(ledger_path: Path) -> str:
    with sqlite3.connect(ledger_path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def leftovers(root: Path) -> list[str]:
    """Processes other than the sink still running with this working folder in their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and str(root) in command:
            found.append(f"{entry.name}: {command}")
    return found


def test_kills_of_send_leave_every_recipient_delivered_exactly_once(tmp_path: Path) -> None:
    maildir = tmp_path / "maildir"
    sink = subprocess.Popen([sys.executable, "-c", SINK_SCRIPT, str(maildir)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(sink.stdout.readline())
        root = tmp_path / "work"
        manifest, _ = make_outbox(root, employers(RECIPIENTS), config_data(port))
        ledger_path = Workspace(root).ledger
        with Ledger.open(root) as ledger:
            approve(root, ledger, manifest, "Nguyễn Thị Duyệt", clock=Clock())

        chance = random.Random(SEED)
        killed_while_sending = 0
        for _ in range(KILLS):
            process = outreach(root, "send", CAMPAIGN)
            time.sleep(chance.uniform(0.3, 2.0))  # start-up is ~0.5 s: some kills land before any message
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                killed_while_sending += 1
            process.communicate(timeout=30)
            assert process.returncode in (-signal.SIGKILL, 0, 3)
            assert integrity(ledger_path) == "ok"
            assert leftovers(root) == []  # nothing of the killed process is left running

        assert run(root, "send", CAMPAIGN) in (0, 3)  # to the end: 3 if the kills left some uncertain
        with Ledger.open(root) as ledger:
            deliveries = ledger.deliveries(CAMPAIGN)
        assert {d.state for d in deliveries.values()} <= {"sent", "uncertain"}
        arrived = received(maildir)
        uncertain = {key: d.message_id for key, d in deliveries.items() if d.state == "uncertain"}
        for key, message_id in uncertain.items():  # a person looks in the mail server, then decides
            decision = "sent" if arrived[message_id] else "resend"
            assert run(root, "resolve", CAMPAIGN, key, decision, "--by", "Trần Văn Kiểm",
                       "--note", "Đối chiếu với thư trên máy chủ") == 0
        assert run(root, "send", CAMPAIGN) == 0

        with Ledger.open(root) as ledger:
            deliveries = ledger.deliveries(CAMPAIGN)
        assert {key: d.state for key, d in deliveries.items()} == {d.key: "sent" for d in manifest.drafts}
        assert received(maildir) == Counter({d.message_id: 1 for d in deliveries.values()})  # ledger = server
        assert integrity(ledger_path) == "ok"
        print(f"{killed_while_sending} of {KILLS} runs killed, {len(uncertain)} uncertain settled by a person "
              f"({sum(1 for m in uncertain.values() if arrived[m])} had arrived)")
    finally:
        sink.stdin.close()
        sink.wait(timeout=10)
    assert sink.returncode == 0 and leftovers(tmp_path) == []
