"""A real Dovecot IMAP server for tests: Debian's ``dovecot-imapd`` (scripts/setup.sh installs it),
started as an ordinary process with its own config file and Maildir, on a free loopback port,
plaintext login allowed (loopback only). Stopped by the PID it was started with.

    with DovecotServer.start(users={"phongqlt": "secret"}) as server:
        server.append("phongqlt", "INBOX", raw_bytes)
        server.port ...

Run as root (CI), Dovecot refuses to run its login and mail processes as root: they run as the
package's ``dovenull`` and ``dovecot`` users, so the server's folder is a short one under /tmp that
those users can reach (pytest's tmp_path is private to root, and Dovecot's sockets need a path
under ~100 characters). Run as anyone else, everything runs as that user.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MISSING = ("Dovecot is not installed: the IMAP tests need Debian's dovecot-imapd "
           "(scripts/setup.sh installs it: apt-get install -y --no-install-recommends dovecot-imapd).")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM the server this test started (by its PID), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def serving(folder: Path, command: list[str], answers: Callable[[], None], log: Callable[[], str]) -> Iterator[subprocess.Popen]:
    """The server of ``command`` running (once it answers) until the block ends; then stopped and its
    folder removed."""
    try:
        process = start_daemon(command, answers, log)
        try:
            yield process
        finally:
            stop_process(process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def start_daemon(command: list[str], answers: Callable[[], None], log: Callable[[], str],
                 timeout_s: float = 15.0) -> subprocess.Popen:
    """Start a server and wait until ``answers`` stops raising OSError (it is up), or fail saying why."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            answers()
            return process
        except (OSError, imaplib.IMAP4.error):
            if process.poll() is not None:
                raise AssertionError(f"{command[0]} exited: {process.stderr.read().decode()} {log()}") from None
            time.sleep(0.1)
    stop_process(process)
    raise AssertionError(f"{command[0]} did not answer in {timeout_s} s: {log()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config(root: Path, port: int, login_user: str, internal_user: str, mail_user: str) -> str:
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/lib
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_user}
default_login_user = {login_user}
first_valid_uid = 1
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


@dataclass
class DovecotServer:
    root: Path
    port: int
    users: Mapping[str, str]
    process: subprocess.Popen | None

    host = "127.0.0.1"

    @classmethod
    @contextlib.contextmanager
    def start(cls, users: Mapping[str, str], settings: str = "") -> Iterator[DovecotServer]:
        """``settings``: more lines of dovecot.conf (say, what the server offers: ``imap_capability``)."""
        if not os.path.exists(DOVECOT):
            raise AssertionError(MISSING)
        root = Path(tempfile.mkdtemp(prefix="dv", dir="/tmp"))
        if os.geteuid() == 0:
            login_user, internal_user, mail_user = "dovenull", "dovecot", "dovecot"
        else:
            login_user = internal_user = mail_user = pwd.getpwuid(os.geteuid()).pw_name
        (root / "home").mkdir()
        (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in users.items()))
        if os.geteuid() == 0:
            os.chmod(root, 0o755)
            shutil.chown(root / "home", mail_user, mail_user)
            os.chmod(root / "passwd", 0o644)
        port = free_port()
        (root / "dovecot.conf").write_text(_config(root, port, login_user, internal_user, mail_user) + settings)
        server = cls(root, port, users, None)
        with serving(root, [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], server._login, server.log) as process:
            server.process = process
            yield server

    def _login(self) -> None:
        with self.client(next(iter(self.users))):
            pass

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @contextlib.contextmanager
    def client(self, user: str) -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(user, self.users[user])
            yield imap
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()

    # ------------------------------------------------------------------ what a test does to a mailbox

    def maildir(self, user: str) -> Path:
        """The user's INBOX as a Maildir, open to a local MTA delivering into it as another user."""
        with self.client(user) as imap:
            imap.select("INBOX")  # Dovecot makes the Maildir on first use
        maildir = self.root / "home" / user / "Maildir"
        for folder in (maildir, *(maildir / sub for sub in ("cur", "new", "tmp"))):
            folder.mkdir(exist_ok=True)
            os.chmod(folder, 0o777)
        os.chmod(self.root / "home" / user, 0o755)
        return maildir


    def append(self, user: str, folder: str, raw: bytes) -> int:
        """Deliver one message into ``folder`` (created if missing); returns its UID."""
        with self.client(user) as imap:
            imap.create(f'"{folder}"')
            status, data = imap.append(f'"{folder}"', None, None, raw)
            assert status == "OK", data
            return int(data[0].split(b"]")[0].split()[-1])

    def messages(self, user: str, folder: str) -> dict[int, bytes]:
        """UID -> raw bytes of every message in ``folder`` (empty if the folder does not exist)."""
        with self.client(user) as imap:
            if imap.select(f'"{folder}"', readonly=True)[0] != "OK":
                return {}
            _, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
            found = {}
            for item in data:
                if isinstance(item, tuple):
                    uid = int(item[0].split(b"UID ")[1].split()[0].rstrip(b")"))
                    found[uid] = item[1]
            return found

    def uidvalidity(self, user: str, folder: str) -> int:
        with self.client(user) as imap:
            imap.select(f'"{folder}"', readonly=True)
            return int(imap.response("UIDVALIDITY")[1][0])

    def recreate(self, user: str, folder: str) -> None:
        """Delete and create ``folder`` again: a new UIDVALIDITY, as after a server's restore or migration."""
        with self.client(user) as imap:
            assert imap.delete(f'"{folder}"')[0] == "OK"
            assert imap.create(f'"{folder}"')[0] == "OK"
