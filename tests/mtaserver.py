"""A real MTA for tests: Debian's Exim (``exim4-daemon-light``, scripts/setup.sh installs it), run as
an ordinary daemon with its own config file (``-C``) and spool on a free loopback port.

It accepts every recipient at RCPT time, as a relay does, and only then routes: the addresses of
``known`` are delivered (to nothing), any other address of ``recipient_domain`` is unknown, so Exim
itself writes the bounce, its genuine RFC 3464 report, and delivers it to the envelope sender: a
sender address of ``sender_domain`` (with any ``+suffix``) goes into ``maildir``, which a Dovecot of
tests/imapserver.py serves. Exim run with ``-C`` gives up root and runs as its own user (as root)
or as the caller, so the spool, log and Maildir are made writable for it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from imapserver import free_port, serving

EXIM = shutil.which("exim4") or shutil.which("exim") or "/usr/sbin/exim4"
MISSING = ("Exim is not installed: the end-to-end bounce test needs Debian's exim4-daemon-light "
           "(scripts/setup.sh installs it: apt-get install -y --no-install-recommends exim4-daemon-light).")


def _config(root: Path, user: str, sender_domain: str, sender_local: str, recipient_domain: str,
            known: Sequence[str], maildir: Path) -> str:
    return f"""
primary_hostname = mx.outreach-test.example
domainlist local_domains = {sender_domain} : {recipient_domain}
local_interfaces = 127.0.0.1
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
never_users =
host_lookup =
tls_advertise_hosts =
dsn_advertise_hosts = *
acl_smtp_rcpt = accept_all
keep_environment =

begin acl
accept_all:
  accept

begin routers
sender_mailbox:
  driver = accept
  domains = {sender_domain}
  local_parts = {sender_local}
  local_part_suffix = +*
  local_part_suffix_optional
  transport = maildir
known_recipients:
  driver = accept
  domains = {recipient_domain}
  local_parts = {" : ".join(known)}
  transport = discard

begin transports
maildir:
  driver = appendfile
  directory = {maildir}
  maildir_format
  envelope_to_add
  return_path_add
  user = {user}
  mode = 0666
discard:
  driver = appendfile
  file = /dev/null
  user = {user}

begin retry
* * F,1m,1m
"""


@dataclass
class EximServer:
    root: Path
    port: int
    process: subprocess.Popen | None

    host = "127.0.0.1"

    @classmethod
    @contextlib.contextmanager
    def start(cls, *, sender: str, recipient_domain: str, known: Sequence[str],
              maildir: Path) -> Iterator["EximServer"]:
        if not os.path.exists(EXIM):
            raise AssertionError(MISSING)
        user = "Debian-exim" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        root = Path(tempfile.mkdtemp(prefix="ex", dir="/tmp"))
        for folder in ("spool", "log"):
            (root / folder).mkdir()
            os.chmod(root / folder, 0o777)
        os.chmod(root, 0o755)
        local, domain = sender.split("@")
        (root / "exim.conf").write_text(_config(root, user, domain, local, recipient_domain, known, maildir))
        port = free_port()
        server = cls(root, port, None)
        # -bdf: the daemon in the foreground, so the PID started is the server's and stopping it stops Exim
        # (-bd would fork it into the background and leave it running after the test).
        command = [EXIM, "-C", str(root / "exim.conf"), "-bdf", "-odi", "-oX", f"127.0.0.1:{port}"]
        with serving(root, command, server._greets, server.log) as process:
            server.process = process
            yield server

    def _greets(self) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=2) as client:
            client.noop()

    def log(self) -> str:
        path = self.root / "log" / "mainlog"
        return path.read_text(errors="replace") if path.exists() else ""
