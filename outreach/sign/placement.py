"""Where the visible signatures go, found from the PDF's own text (poppler's ``pdftotext -bbox-layout``).

Decree 30, Appendix I: the signer's image (blue) is centred between the title line and the name
(box 7c); the agency's seal (red, at its real size) covers about the left third of the signer's
image (box 8); a separate appendix carries, at the top right of its first page, the number and
the signing time in Times New Roman 10, black, and no image. The block is searched from the last
page back, so a letter whose signature block moved to another page is still signed in the right place.
"""

from __future__ import annotations

import contextlib
import html
import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image

from ..config import Signer
from ..errors import UserError

MM = 72 / 25.4
SEAL_DEFAULT_MM = 35.0  # a seal image without its resolution is taken as a 35 mm seal
SIGNATURE_FILL = 0.9  # the signer's image takes this share of the space between title and name
APPENDIX_GAP = 4.0  # points between the appendix's text block and the page's first text

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
_LINE = re.compile(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', re.S)
_WORD = re.compile(r"<word [^>]*>(.*?)</word>", re.S)


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF user space: points, origin at the bottom left of the page."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2

    def rounded(self) -> tuple[int, int, int, int]:
        return round(self.x1), round(self.y1), round(self.x2), round(self.y2)


@dataclass(frozen=True)
class TextLine:
    text: str  # NFC, single spaces
    box: Box


@dataclass(frozen=True)
class PageText:
    width: float
    height: float
    lines: tuple[TextLine, ...]


@dataclass(frozen=True)
class SignatureBlock:
    page: int  # 0-based
    title: Box  # the line just above the signature space (the signer's title)
    name: Box  # the signer's name under it


@dataclass(frozen=True)
class Placement:
    """Where both signatures of one letter go."""

    page: int
    leader: Box
    agency: Box


def page_texts(pdf: Path, first: int = 1, last: int | None = None) -> list[PageText]:
    """Every text line of pages ``first``..``last`` (1-based; all by default) with its box, in PDF coordinates."""
    pages = ["-f", str(first)] + (["-l", str(last)] if last else [])
    try:
        out = subprocess.run(["pdftotext", "-bbox-layout", "-enc", "UTF-8", *pages, str(pdf), "-"], capture_output=True,
                             check=True, timeout=60).stdout.decode("utf-8")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise UserError(f"Không đọc được chữ trong {pdf} để tìm chỗ ký ({error}). Cách sửa: tạo lại bản thảo.") from None
    texts = []
    for chunk in out.split("<page ")[1:]:
        size = _PAGE.match("<page " + chunk)
        width, height = float(size.group(1)), float(size.group(2))
        lines = []
        for x1, y1, x2, y2, inner in _LINE.findall(chunk):
            text = " ".join(html.unescape(w) for w in _WORD.findall(inner))
            box = Box(float(x1), height - float(y2), float(x2), height - float(y1))
            lines.append(TextLine(_normal(text), box))
        texts.append(PageText(width, height, tuple(lines)))
    return texts


def pages_from_last(pdf: Path, count: int) -> Iterator[tuple[int, PageText]]:
    """(0-based index, text) of each page, the last first, read one page at a time: the signature
    block is nearly always on the last page, and reading only that one is a quarter of the work."""
    for index in range(count - 1, -1, -1):
        (page,) = page_texts(pdf, index + 1, index + 1)
        yield index, page


def last_pages(letters: Sequence[tuple[Path, int]]) -> list[PageText | None]:
    """The last page's text of each (letter, page count), read by one pdftotext over a file of those
    pages: a pdftotext costs ~7 ms of CPU to start, more than reading a page; None for a letter
    whose page could not be copied (its own pages are read then, see :func:`pages_from_last`)."""
    taken: list[bool] = []
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="outreach-ky-"))
        together = stack.enter_context(pikepdf.new())
        for letter, pages in letters:
            try:
                # Open until the copy is saved: a copied page's streams are read from its file then.
                source = stack.enter_context(pikepdf.open(letter))
                together.pages.append(source.pages[pages - 1])
                taken.append(True)
            except (pikepdf.PdfError, IndexError, OSError):
                taken.append(False)
        if not any(taken):
            return [None] * len(letters)
        path = Path(folder) / "trang-cuoi.pdf"
        together.save(path)
        texts = iter(page_texts(path))
    return [next(texts) if ok else None for ok in taken]


def pages_to_search(pdf: Path, count: int, last: PageText | None) -> Iterator[tuple[int, PageText]]:
    """The pages from the last, as :func:`pages_from_last`, with the last one's text already read."""
    if last is None:
        yield from pages_from_last(pdf, count)
        return
    yield count - 1, last
    yield from pages_from_last(pdf, count - 1)


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def find_signature_block(pages: Iterable[tuple[int, PageText]], signer: Signer) -> SignatureBlock:
    """The signer's name line and the title line above it, its last occurrence in the letter
    (``pages`` come last first, see :func:`pages_from_last`)."""
    name = _normal(signer.name).casefold()
    title = _normal(signer.title or signer.authority).casefold()
    for index, page in pages:
        for line in reversed(page.lines):
            if line.text.casefold() != name:
                continue
            above = [t for t in page.lines if t.text.casefold() == title and t.box.y1 > line.box.y2
                     and _overlaps(t.box, line.box)]
            if above:
                nearest = min(above, key=lambda t: t.box.y1 - line.box.y2)
                return SignatureBlock(index, nearest.box, line.box)
    raise UserError(f"Không tìm thấy khối chữ ký trong công văn (dòng chức vụ '{signer.title or signer.authority}' "
                    f"và dưới nó dòng họ tên '{signer.name}'). Cách sửa: giữ nguyên [signer] trong config.toml "
                    "và phần chữ ký của mẫu công văn, rồi tạo lại bản thảo.")


def _overlaps(a: Box, b: Box) -> bool:
    return a.x1 < b.x2 and b.x1 < a.x2


def image_size(path: Path) -> tuple[float, float]:
    """Width and height of a PNG in points at its recorded resolution (None when it has none)."""
    with Image.open(path) as image:
        dpi = image.info.get("dpi")
        width, height = image.size
    if not dpi or not dpi[0] or not dpi[1]:
        scale = SEAL_DEFAULT_MM * MM / max(width, height)
        return width * scale, height * scale
    return width * 72 / float(dpi[0]), height * 72 / float(dpi[1])


def place(block: SignatureBlock, signature: tuple[float, float], seal: tuple[float, float]) -> Placement:
    """The signer's image centred between title and name; the seal over its left third."""
    gap = block.title.y1 - block.name.y2
    width, height = signature
    scale = SIGNATURE_FILL * gap / height
    widest = 2 * max(block.title.width, block.name.width)
    if width * scale > widest:
        scale = widest / width
    width, height = width * scale, height * scale
    centre_x = (block.title.centre[0] + block.name.centre[0]) / 2
    centre_y = (block.title.y1 + block.name.y2) / 2
    leader = Box(centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2)
    seal_right = leader.x1 + leader.width / 3
    agency = Box(seal_right - seal[0], centre_y - seal[1] / 2, seal_right, centre_y + seal[1] / 2)
    return Placement(block.page, leader, agency)


def appendix_box(first_page: PageText, size: tuple[float, float]) -> Box:
    """Top right of page 1: right-aligned with the text, just above its first line."""
    lines = first_page.lines
    right = max((line.box.x2 for line in lines), default=first_page.width - 20 * MM)
    top = max((line.box.y2 for line in lines), default=first_page.height - 20 * MM)
    bottom = min(top + APPENDIX_GAP, first_page.height - size[1] - 5 * MM)
    return Box(right - size[0], bottom, right, bottom + size[1])
