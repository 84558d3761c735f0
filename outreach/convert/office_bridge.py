"""Keeps one LibreOffice running and converts files on request, so that starting LibreOffice
(about a second, about as much as converting a chunk) is paid once per worker instead of once per call.

Run by ``outreach.convert.office`` under a Python that has LibreOffice's ``uno`` module (on Debian the
system ``python3`` with ``python3-uno``), never imported by outreach itself:

    python3 office_bridge.py SOFFICE PROFILE_URL

It starts LibreOffice listening on a private pipe and writes ``{"ready": true}``.  Then, one JSON
line in, one JSON line out, until stdin closes:

    {"inputs": ["/abs/a.docx", ...], "outdir": "/abs/out", "filter": "writer_pdf_Export",
     "filter_data": {"ExportBlankPages": false}}
    {"errors": {"/abs/a.docx": "reason"}}          # every input not named was written

Each output is named after its input, as ``soffice --convert-to`` names it.  A file LibreOffice
cannot open or write is reported in ``errors``; if LibreOffice itself stops, this process exits
with the reason on stderr.  Its caller kills the whole process group on a timeout.  Reasons
are in Vietnamese: they end up in what staff read about a letter that could not be converted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.io import IOException
from com.sun.star.lang import IllegalArgumentException

CONNECT_TIMEOUT_S = 120
PARENT_CHECK_S = 0.5


def main() -> None:
    soffice, profile_url = sys.argv[1:3]
    parent = os.getppid()
    pipe = f"outreach-{os.getpid()}-{uuid.uuid4().hex}"
    office = subprocess.Popen(
        [soffice, f"-env:UserInstallation={profile_url}", "--headless", "--invisible",
         "--nologo", "--nodefault", "--norestore", "--nolockcheck",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    threading.Thread(target=_die_with_parent, args=(parent,), daemon=True).start()
    try:
        desktop = _connect(pipe, office)
        _reply({"ready": True})
        for line in sys.stdin:
            request = json.loads(line)
            _reply({"errors": _convert_all(desktop, request)})
    finally:
        # A reply outreach no longer reads ends here too (BrokenPipeError), before the watcher
        # thread may have woken: LibreOffice must not outlive this process.
        if os.getppid() != parent:
            _kill_group()
    try:
        desktop.terminate()
        office.wait(timeout=30)
    except Exception:  # LibreOffice gone or stuck on the way out: the caller kills the group
        pass


def _die_with_parent(parent: int) -> None:
    """If outreach is killed, take LibreOffice down with this process, at once, even in the
    middle of a conversion."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    _kill_group()


def _kill_group() -> None:
    # LibreOffice runs in this process's group: the group outreach kills on a timeout.
    os.killpg(0, signal.SIGKILL)


def _connect(pipe: str, office: subprocess.Popen):
    context = uno.getComponentContext()
    resolver = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", context)
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        try:
            remote = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if office.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"LibreOffice không khởi động được (mã thoát {office.poll()}).")
            time.sleep(0.05)
    return remote.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", remote)


def _convert_all(desktop, request: dict) -> dict[str, str]:
    store = (
        _property("FilterName", request["filter"]),
        _property("FilterData", uno.Any(
            "[]com.sun.star.beans.PropertyValue",
            tuple(_property(name, value) for name, value in request["filter_data"].items()),
        )),
    )
    errors = {}
    for source in request["inputs"]:
        target = os.path.join(request["outdir"], os.path.splitext(os.path.basename(source))[0] + ".pdf")
        try:
            _convert(desktop, source, target, store)
        except (IOException, IllegalArgumentException) as exc:
            errors[source] = exc.Message.strip() or type(exc).__name__
    return errors


def _convert(desktop, source: str, target: str, store: tuple) -> None:
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(source), "_blank", 0,
        (_property("Hidden", True), _property("ReadOnly", True)),
    )
    if document is None:
        raise IOException("LibreOffice không mở được tệp.", None)
    try:
        uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(target), store))
    finally:
        document.close(True)


def _property(name: str, value: object) -> PropertyValue:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
