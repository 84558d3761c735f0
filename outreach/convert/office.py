"""The LibreOffice processes behind conversion: one per worker, each on a user profile of its own.

Two ways to drive one, chosen once per converter by ``open_office``:

* bridged, wherever a Python with LibreOffice's ``uno`` module exists (Debian's ``python3-uno``,
  installed by scripts/setup.sh): LibreOffice keeps running between calls, driven by
  ``office_bridge.py``.  Starting LibreOffice costs about a second, about as much as converting
  a chunk of 25 five-page letters, so this is paid once per worker instead of once per chunk;
* launched, otherwise: one ``soffice --convert-to`` process per call.

Either way every call is bounded by ``timeout_s``, starting LibreOffice included.  When a call
runs out of time or LibreOffice stops, the whole process group is killed, the profile (which a
killed LibreOffice may leave locked or half-written) is reset, and ``OfficeFailure`` is raised;
a bridged office starts afresh on its next call.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import functools
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from outreach.errors import UserError

__all__ = ["INSTALL_COMMAND", "Office", "OfficeFailure", "find_soffice", "find_uno_python", "open_office"]

INSTALL_COMMAND = "sudo apt-get install -y libreoffice-writer-nogui python3-uno fonts-liberation2"

# Named destinations let conversion find each letter's pages in a merged PDF.  Should Writer
# insert a blank page to keep a restarted page 1 on a right-hand page, ExportBlankPages=false
# keeps it out of the PDF, as it is out of a letter converted on its own.
PDF_FILTER_DATA = {"ExportBookmarksToPDFDestination": True, "ExportBlankPages": False}

# Settings every office's fresh profile starts with, as LibreOffice itself stores them.  While
# idle after loading, Writer collects each word of a document for its autocompletion list; for
# a document that is only converted that is wasted: 15 % of LibreOffice's CPU in a bench run
# (perf), and the CPU of LibreOffice and pdftotext for 600 letters fell from 34.0 to 28.2 s.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Writer/AutoFunction/Completion">\
<prop oor:name="CollectWords" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

_BRIDGE = Path(__file__).with_name("office_bridge.py")


class OfficeFailure(Exception):
    """A call did not finish: it ran out of time, or LibreOffice stopped (``detail`` may say
    why, in LibreOffice's words)."""

    def __init__(self, timed_out: bool, detail: str = "") -> None:
        super().__init__(detail or ("timed out" if timed_out else "LibreOffice stopped"))
        self.timed_out = timed_out
        self.detail = detail


def find_soffice() -> str:
    """Path of the LibreOffice ``soffice`` program, or a UserError telling how to install it."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in (
        "/usr/lib/libreoffice/program/soffice",
        "/opt/libreoffice/program/soffice",
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    raise UserError(
        "Không tìm thấy LibreOffice (lệnh soffice) để chuyển thư sang PDF. "
        f"Cài LibreOffice và phông Liberation bằng lệnh: {INSTALL_COMMAND}"
    )


@functools.cache
def find_uno_python(soffice: str) -> str | None:
    """A Python that can import LibreOffice's ``uno`` module: the one LibreOffice bundles, or
    the system's; None if there is none (or not on POSIX, where the bridge's pipes need
    ``select``)."""
    if os.name != "posix":
        return None
    bundled = Path(os.path.realpath(soffice)).parent / "python"
    for candidate in (str(bundled), "/usr/bin/python3", shutil.which("python3")):
        if candidate and os.access(candidate, os.X_OK):
            try:
                probe = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=60,
                                       env=_foreign_python_environment())
            except (OSError, subprocess.TimeoutExpired):
                continue
            if probe.returncode == 0:
                return candidate
    return None


def _office_environment() -> dict[str, str]:
    """This environment, with LibreOffice's malloc kept to one arena and jemalloc's where it is
    installed, unless the user chose otherwise.

    glibc gives threads that allocate arenas of their own and keeps memory freed there for
    later use.  LibreOffice allocates on more than one thread; with one arena each office stays
    lower (20 conversions of a 25-letter chunk: 205 → 177 MB RSS in the same time, two arenas
    gave no gain; over 10,000 letters: 120 MB PSS each instead of 156–186 MB).  While converting,
    a quarter of LibreOffice's CPU went to glibc's malloc and free (perf); with jemalloc its CPU
    per letter fell by 17–20 % in a build (against this process's CPU in the same run), for about
    20 MB more of the tree's memory.  tcmalloc saved as much but took 190 MB more."""
    environment = {"MALLOC_ARENA_MAX": "1", **os.environ}
    jemalloc = _jemalloc()
    if jemalloc and "LD_PRELOAD" not in os.environ:
        environment.update(LD_PRELOAD=jemalloc, MALLOC_CONF=os.environ.get("MALLOC_CONF", "narenas:1"))
    return environment


@functools.cache
def _jemalloc() -> str | None:
    return ctypes.util.find_library("jemalloc")


def _foreign_python_environment() -> dict[str, str]:
    """The office's environment without what points a Python at our own interpreter's files:
    the bridge runs under another Python (LibreOffice's or the system's)."""
    return {name: value for name, value in _office_environment().items()
            if name not in ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV")}


_LEFTOVER = re.compile(r"^(?:outreach-lo-|outreach-chunk-)(\d+)-")
PIPE_GRACE_S = 60.0
_OFFICE_PIPE = re.compile(r"^OSL_PIPE_(\d+)_(?:outreach-|SingleOfficeIPC_)")


def owned_prefix(prefix: str) -> str:
    """A temporary name that says which process owns it, so a later run can tell it was left behind."""
    return f"{prefix}{os.getpid()}-"


def sweep_leftovers(*folders: Path) -> list[Path]:
    """Remove what a killed build left in the temp folders: LibreOffice profiles, chunk folders and
    LibreOffice's pipe sockets, whose owning process (in the name) no longer runs. A SIGKILL gives
    a process no chance to clean up; the next one does it."""
    removed = []
    for folder in folders or {Path(tempfile.gettempdir()), Path("/tmp")}:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = _LEFTOVER.match(entry.name)
            if match is None or _running(int(match.group(1))):
                if not _stale_office_pipe(entry):
                    continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _stale_office_pipe(entry: Path) -> bool:
    """One of our LibreOffice's pipe sockets that nothing listens on any more (its office was killed)."""
    match = _OFFICE_PIPE.match(entry.name)
    if match is None or int(match.group(1)) != os.getuid():
        return False
    try:  # an office starting now binds its socket a moment before it listens: leave young ones be
        if entry.lstat().st_mtime > time.time() - PIPE_GRACE_S:
            return False
    except OSError:
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(entry))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    return True


def open_office(soffice: str, timeout_s: float) -> Office:
    python = find_uno_python(soffice)
    if python is None:
        return LaunchedOffice(soffice, timeout_s)
    return BridgedOffice(soffice, timeout_s, python)


class Office:
    """One LibreOffice at a time on a profile of its own; use as a context manager."""

    def __init__(self, soffice: str, timeout_s: float) -> None:
        self._soffice = soffice
        self._timeout_s = timeout_s
        sweep_leftovers()
        self._home = Path(tempfile.mkdtemp(prefix=owned_prefix("outreach-lo-")))
        self.profile = self._home / "profile"

    def __enter__(self) -> Office:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        shutil.rmtree(self._home, ignore_errors=True)

    def convert(self, inputs: Sequence[Path], outdir: Path) -> str:
        """Write ``outdir/<input's stem>.pdf`` for each input; returns what LibreOffice said
        about the ones it could not convert.  Raises OfficeFailure."""
        raise NotImplementedError

    def close(self) -> None:
        """Let LibreOffice finish; kill it if it does not."""

    def _prepare_profile(self) -> None:
        """Gives a new (or reset) profile our settings before LibreOffice creates the rest."""
        settings = self.profile / "user" / "registrymodifications.xcu"
        if not settings.exists():
            settings.parent.mkdir(parents=True, exist_ok=True)
            settings.write_text(_PROFILE_SETTINGS, encoding="utf-8")

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        # soffice is a launcher; the real work is in its children, all in this process group.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()
        shutil.rmtree(self.profile, ignore_errors=True)


class LaunchedOffice(Office):
    """One ``soffice --convert-to`` process per call."""

    def convert(self, inputs: Sequence[Path], outdir: Path) -> str:
        export = {name: {"type": "boolean", "value": str(value).lower()}
                  for name, value in PDF_FILTER_DATA.items()}
        command = [
            self._soffice,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless", "--nologo", "--nodefault", "--norestore",
            "--convert-to", f"pdf:writer_pdf_Export:{json.dumps(export)}", "--outdir", str(outdir),
            *map(str, inputs),
        ]
        self._prepare_profile()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            env=_office_environment(),
        )
        try:
            _, stderr = process.communicate(timeout=self._timeout_s)
        except subprocess.TimeoutExpired:
            self._kill(process)
            raise OfficeFailure(timed_out=True) from None
        return stderr.decode(errors="replace")


class BridgedOffice(Office):
    """LibreOffice kept running between calls, driven through office_bridge.py."""

    def __init__(self, soffice: str, timeout_s: float, python: str) -> None:
        super().__init__(soffice, timeout_s)
        self._python = python
        self._log = self._home / "bridge.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._unread = b""

    def convert(self, inputs: Sequence[Path], outdir: Path) -> str:
        deadline = time.monotonic() + self._timeout_s
        if self._process is None:
            self._start(deadline)
        request = {
            "inputs": [str(Path(path).absolute()) for path in inputs],
            "outdir": str(Path(outdir).absolute()),
            "filter": "writer_pdf_Export",
            "filter_data": PDF_FILTER_DATA,
        }
        try:
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            self._fail(timed_out=False)
        return "\n".join(self._read(deadline)["errors"].values())

    def close(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        with contextlib.suppress(BrokenPipeError):  # the bridge may be gone already
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._kill(process)
        process.stdout.close()

    def _start(self, deadline: float) -> None:
        self._prepare_profile()
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [self._python, str(_BRIDGE), self._soffice, self.profile.as_uri()],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
                env=_foreign_python_environment(),
            )
        self._unread = b""
        self._read(deadline)  # {"ready": true}

    def _read(self, deadline: float) -> dict:
        stdout = self._process.stdout.fileno()
        while b"\n" not in self._unread:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([stdout], [], [], remaining)[0]:
                self._fail(timed_out=True)
            data = os.read(stdout, 1 << 16)
            if not data:
                self._fail(timed_out=False)
            self._unread += data
        line, _, self._unread = self._unread.partition(b"\n")
        return json.loads(line)

    def _fail(self, timed_out: bool) -> NoReturn:
        process, self._process = self._process, None
        self._kill(process)  # its communicate() also closes the pipes
        lines = self._log.read_text(errors="replace").strip().splitlines()
        raise OfficeFailure(timed_out, "" if timed_out or not lines else lines[-1])


class OfficePool:
    """The workers' LibreOffice processes, lent out for one call at a time."""

    def __init__(self) -> None:
        self._idle: queue.SimpleQueue[Office] = queue.SimpleQueue()

    def put(self, office: Office) -> None:
        self._idle.put(office)

    def convert(self, inputs: Sequence[Path], outdir: Path) -> str:
        office = self._idle.get()
        try:
            return office.convert(inputs, outdir)
        finally:
            self._idle.put(office)
