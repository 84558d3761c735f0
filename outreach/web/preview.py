"""The letter and the e-mail as the recipient will get them: from ``message.eml``, byte for byte.

The letter shown is the PDF attached to ``message.eml`` (what approval hashes and delivery sends);
only a recipient without e-mail is shown ``letter.pdf`` (the print bundle's copy). Pages are drawn
to PNG by ``pdftoppm`` on demand and kept in ``outbox/.preview-cache/<sha256 of the PDF>/``, so a
rebuilt letter never shows a stale picture.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from ..errors import UserError
from ..convert import page_count
from ..outbox import Draft
from ..outbox import decoded_header, parse_message
from ..localtime import local_time

RENDER_DPI = 110
RENDER_TIMEOUT_S = 60


@dataclass(frozen=True)
class AttachmentView:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MessageView:
    sender: str
    to: str
    cc: str
    reply_to: str
    subject: str
    date: str
    message_id: str
    text: str
    html: str
    attachments: tuple[AttachmentView, ...]
    size: int
    sha256: str


def read_message(root: Path, draft: Draft) -> tuple[bytes, EmailMessage] | None:
    """The draft's ``message.eml`` bytes and parsed message; None for a paper recipient."""
    if not draft.to:
        return None
    try:
        data = draft.eml_path(root).read_bytes()
    except FileNotFoundError:
        return None
    return data, parse_message(data)


def message_view(data: bytes, message: EmailMessage) -> MessageView:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    attachments = tuple(
        AttachmentView(index, part.get_filename() or f"tep-{index + 1}", part.get_content_type(),
                       len(part.get_payload(decode=True) or b""))
        for index, part in enumerate(message.iter_attachments())
    )
    return MessageView(
        sender=decoded_header(message, "From"),
        to=decoded_header(message, "To"),
        cc=decoded_header(message, "Cc"),
        reply_to=decoded_header(message, "Reply-To"),
        subject=decoded_header(message, "Subject"),
        date=_date(decoded_header(message, "Date")),
        message_id=decoded_header(message, "Message-ID"),
        text=plain.get_content() if plain is not None else "",
        html=html.get_content() if html is not None else "",
        attachments=attachments,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _date(value: str) -> str:
    try:
        return local_time(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return value


def attachment(message: EmailMessage, index: int) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of the index-th attachment; KeyError if there is none."""
    for position, part in enumerate(message.iter_attachments()):
        if position == index:
            return part.get_filename() or f"tep-{index + 1}", part.get_content_type(), part.get_payload(decode=True) or b""
    raise KeyError(index)


def letter_pdf(root: Path, draft: Draft) -> bytes:
    """The letter as received: the first PDF attached to message.eml, else letter.pdf (paper)."""
    found = read_message(root, draft)
    if found is not None:
        for part in found[1].iter_attachments():
            if part.get_content_type() == "application/pdf":
                return part.get_payload(decode=True) or b""
    try:
        return draft.path(root, "letter.pdf").read_bytes()
    except FileNotFoundError:
        raise UserError(f"Không tìm thấy công văn của {draft.key} ({draft.folder}/letter.pdf). "
                        "Cách sửa: tạo lại bản thảo.") from None


class PageCache:
    """PNG pictures of PDF pages, addressed by the PDF's sha256."""

    def __init__(self, folder: Path, dpi: int = RENDER_DPI) -> None:
        self.folder = folder
        self.dpi = dpi
        self._lock = threading.Lock()
        self._page_locks: dict[tuple[str, int], threading.Lock] = {}
        self._counts: dict[str, int] = {}

    def store(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.folder / sha / "doc.pdf"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f"doc.{os.getpid()}.{threading.get_ident()}.tmp")
            temporary.write_bytes(data)
            temporary.replace(target)
        return sha

    def page_count(self, sha: str) -> int:
        if sha not in self._counts:
            self._counts[sha] = page_count(self.folder / sha / "doc.pdf")
        return self._counts[sha]

    def page_png(self, sha: str, page: int) -> Path:
        if not 1 <= page <= self.page_count(sha):
            raise KeyError(page)
        target = self.folder / sha / f"page-{page}.png"
        with self._lock:
            lock = self._page_locks.setdefault((sha, page), threading.Lock())
        with lock:
            if target.is_file():
                return target
            prefix = target.with_name(f"render-{page}-{threading.get_ident()}")
            try:
                subprocess.run(
                    ["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(self.dpi), "-png", "-singlefile",
                     str(self.folder / sha / "doc.pdf"), str(prefix)],
                    check=True, capture_output=True, timeout=RENDER_TIMEOUT_S,
                )
            except FileNotFoundError:
                raise UserError("Không tìm thấy chương trình pdftoppm để vẽ trang công văn. "
                                "Cách sửa: cài gói poppler-utils.") from None
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                raise UserError(f"Không vẽ được trang {page} của công văn ({error}).") from None
            prefix.with_suffix(".png").replace(target)
        return target

