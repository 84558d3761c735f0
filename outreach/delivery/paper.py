"""Paper, the ``paper`` channel: approved letters into print bundles that staff print and post.

A recipient without a usable e-mail gets the same trail as one with: approved (bound to the sha256
of ``letter.pdf``) -> printed (which bundle, which pages) -> posted by a named person on a date
(``outreach posted``). What ``build`` leaves in ``print/`` is a preview of every letter without
e-mail, approved or not; what is printed for posting comes from here:

* one bundle per sender and send run, ``paper/lo-in-NN-<sender>.pdf``, holding the approved bytes
  of each letter and nothing unapproved, each letter on fresh sheets; written once and kept (the
  next run takes the next number), so a recorded page range stays true;
* ``deliver`` keeps the letter in a staging folder (fsync) before it answers, so a letter the ledger
  calls printed is in its bundle even if the process dies before ``close`` writes it: the next
  session of the campaign writes that bundle first.
"""

from __future__ import annotations

import os
import re
import shutil
from io import BytesIO
from pathlib import Path

import pikepdf

from ..config import Sender
from ..errors import UserError
from ..outbox import sheet_pages, write_bundle
from ..outbox import Draft
from ..outbox import Envelope
from .messenger import PAPER, Handover, Result

BUNDLE_PREFIX = "lo-in-"  # "lô in": a print batch
_NUMBERED = re.compile(rf"^\.?{BUNDLE_PREFIX}(\d+)-")


class PaperMessenger:
    """Letters of one campaign into its bundles folder (``Workspace.paper_bundles``)."""

    name = PAPER
    paced = False  # nothing to overload: no quota, no rate, no --limit

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def envelope(self, draft: Draft, data: bytes) -> Envelope | str:
        if not data.startswith(b"%PDF-"):
            return (f"{draft.folder}/{draft.payload} không phải tệp PDF; thư không được in. "
                    "Cách sửa: chạy lại build rồi duyệt lại.")
        return Envelope("", (draft.name,))

    def check(self, sender: Sender) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"Không tạo được thư mục bản in {self.folder} ({error}). "
                            "Cách sửa: kiểm tra quyền ghi của thư mục làm việc.") from None

    def open(self, sender: Sender) -> "_BundleSession":
        self.folder.mkdir(parents=True, exist_ok=True)
        complete_bundles(self.folder)
        taken = [int(match[1]) for path in self.folder.iterdir() if (match := _NUMBERED.match(path.name))]
        code = re.sub(r"[^A-Za-z0-9_]+", "-", sender.code).strip("-") or "gui"
        return _BundleSession(self.folder, f"{BUNDLE_PREFIX}{max(taken, default=0) + 1:02d}-{code}")


class _BundleSession:
    """One sender's bundle: letters staged as they come, the bundle written at close."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.folder = folder
        self.stem = stem
        self.staging = folder / f".{stem}"
        self.ranges: list[tuple[int, int]] = []
        self.next_page = 1

    @property
    def bundle(self) -> str:
        """The bundle as staff find it: relative to the campaign folder, e.g. ``paper/lo-in-01-QLT.pdf``."""
        return f"{self.folder.name}/{self.stem}.pdf"

    def deliver(self, handover: Handover) -> Result:
        try:
            with pikepdf.open(BytesIO(handover.data)) as letter:
                pages = len(letter.pages)
        except pikepdf.PdfError as error:
            return Result("permanent", None, f"letter.pdf không đọc được ({error})", self.bundle)
        if not pages:
            return Result("permanent", None, "letter.pdf không có trang nào", self.bundle)
        first, last = self.next_page, self.next_page + pages - 1
        try:
            self._stage(len(self.ranges) + 1, handover.data)
        except OSError as error:
            return Result("temporary", None, f"không ghi được bản in ({error})", self.bundle, unreachable=True)
        self.ranges.append((first, last))
        self.next_page += sheet_pages(pages)
        where = f"{self.bundle}, {_pages(first, last)}"
        return Result("accepted", None, f"xếp vào bản in {where}", where)

    def close(self) -> None:
        if not self.ranges:
            return
        written = _write(self.staging, self.folder / f"{self.stem}.pdf")
        # Each recorded range was computed as its letter came; the bundle must agree, page for page.
        assert written == self.ranges, (written, self.ranges)

    def _stage(self, index: int, data: bytes) -> None:
        self.staging.mkdir(exist_ok=True)
        part = self.staging / f"{index:05d}.pdf"
        temporary = part.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(part)
        directory = os.open(self.staging, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def complete_bundles(folder: Path) -> list[Path]:
    """Write the bundles of sessions that died before closing, from their staged letters."""
    written = []
    for staging in sorted(path for path in folder.glob(f".{BUNDLE_PREFIX}*") if path.is_dir()):
        target = folder / f"{staging.name[1:]}.pdf"
        if target.exists():  # written, the staging not yet removed
            shutil.rmtree(staging)
        else:
            _write(staging, target)
            written.append(target)
    return written


def bundles(folder: Path) -> list[Path]:
    """The campaign's written bundles, in the order they were made."""
    if not folder.is_dir():
        return []
    found = [(int(match[1]), path) for path in folder.glob(f"{BUNDLE_PREFIX}*.pdf")
             if (match := _NUMBERED.match(path.name))]
    return [path for _, path in sorted(found)]


def _write(staging: Path, target: Path) -> list[tuple[int, int]]:
    parts = sorted(staging.glob("*.pdf"))
    try:
        ranges = write_bundle((part.read_bytes() for part in parts), target)
    except OSError as error:
        raise UserError(f"Không ghi được bản in {target} ({error}). Các thư đã xếp vào bản in vẫn ở {staging}; "
                        "lần gửi sau sẽ ghi lại bản in. Cách sửa: kiểm tra chỗ trống trên đĩa.") from None
    shutil.rmtree(staging)
    return ranges


def _pages(first: int, last: int) -> str:
    return f"trang {first}" if first == last else f"trang {first}–{last}"


def bundle_of(where: str) -> str:
    """The bundle a printed letter's ``where`` names, as staff find it (``paper/lo-in-01-QLT.pdf,
    trang 3–4`` -> ``paper/lo-in-01-QLT.pdf``); "" for any other ``where``."""
    bundle = where.partition(", ")[0]
    name = bundle.rpartition("/")[2]
    return bundle if _NUMBERED.match(name) and name.endswith(".pdf") else ""
