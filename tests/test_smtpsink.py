"""The local test mail server: loopback only, free port on request, stores exactly what it receives."""

from __future__ import annotations

import mailbox
import re
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

from outreach.delivery.sink import SmtpSink

MESSAGE = (
    b"From: a@example.vn\r\nTo: b@example.vn\r\nSubject: =?utf-8?b?VGjhu60=?=\r\n\r\n"
    b".line starting with a dot\r\n..two dots\r\nlast line\r\n"
)


def _stored(maildir: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted((maildir / "new").iterdir())]


def test_free_port_loopback_and_exact_bytes(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail", port=0) as sink:
        assert sink.port not in (0, 8025)
        assert sink._controller.server.sockets[0].getsockname()[0] == "127.0.0.1"
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            client.ehlo()
            assert client.mail("a@example.vn")[0] == 250
            assert client.rcpt("b@example.vn")[0] == 250
            assert client.rcpt("c@example.vn")[0] == 250
            code, reply = client.data(MESSAGE)
    assert code == 250
    key = re.fullmatch(rb"2\.0\.0 Ok: queued as (\S+)", reply).group(1).decode()
    assert key in mailbox.Maildir(tmp_path / "mail", create=False)
    (stored,) = _stored(tmp_path / "mail")
    envelope = b"Return-Path: <a@example.vn>\r\nX-Outreach-Envelope-To: b@example.vn, c@example.vn\r\n"
    assert stored == envelope + MESSAGE


def test_two_sinks_get_different_ports(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "one", port=0) as one, SmtpSink(tmp_path / "two", port=0) as two:
        assert one.port != two.port
        assert one.url == f"smtp://127.0.0.1:{one.port}"


def test_run_sink_serves_until_ctrl_c(tmp_path: Path) -> None:
    code = f"from outreach.delivery.sink import run_sink; run_sink({str(tmp_path / 'mail')!r}, port=0)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        port = int(re.search(r"smtp://127\.0\.0\.1:(\d+)", line).group(1))
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.sendmail("a@example.vn", ["b@example.vn"], MESSAGE)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Maildir" in line
    assert "Đã dừng" in output
    assert process.returncode == 0
    assert _stored(tmp_path / "mail")[0].endswith(MESSAGE)


def test_sink_stops_listening(tmp_path: Path) -> None:
    sink = SmtpSink(tmp_path / "mail", port=0).start()
    port = sink.port
    sink.stop()
    time.sleep(0.05)
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=2).close()
    except OSError:
        return
    raise AssertionError("the sink still accepts connections after stop()")
