"""One signature on one PDF, as an incremental update (pyHanko): the bytes before it stay as they were.

The leader's signature comes first and certifies the letter (DocMDP, form filling allowed): the
same update creates the agency's empty signature field over the left third of the leader's
image, so the agency's later signature only fills a field the certification foresaw, and any
other change after the leader signed shows as breaking the certification. Both are PAdES
(``ETSI.CAdES.detached``): B-B always, B-T with ``[signing] tsa_url``, B-LT (validation data in
the document's DSS) when the signer's certificate names where its revocation data is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import os
import subprocess
import tempfile
from functools import cached_property
from pathlib import Path

from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.stamp import StaticStampStyle, TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from ..errors import UserError
from .keys import VN, SigningKey
from .placement import Box, Placement
from .speedups import PadesSignedAttributes, PreparedImage, install

install()

# fontTools says, for every appendix, that it drops a table no PDF reader uses.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

LEADER_FIELD = "ChuKyLanhDao"
AGENCY_FIELD = "ChuKyCoQuan"
FIELD_ROLES = {LEADER_FIELD: "leader", AGENCY_FIELD: "agency"}
APPENDIX_FONT_SIZE = 10
_FIT = layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
                                  margins=layout.Margins(), inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT)
_TOP_RIGHT = layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MAX, y_align=layout.AxisAlignment.ALIGN_MAX,
                                        margins=layout.Margins(), inner_content_scaling=layout.InnerScaling.NO_SCALING)


def iso_vn(moment: dt.datetime) -> str:
    """ISO 8601 in Vietnam time, as the decree asks: 2025-10-28T11:28:17+07:00."""
    return moment.astimezone(VN).isoformat(timespec="seconds")


def times_new_roman() -> Path:
    """Times New Roman, or the metric-compatible face fontconfig gives for it (Liberation Serif),
    as a copy scaled to 1000 units per em: pyHanko writes the glyph widths of an embedded font in
    the font's own units, which PDF reads as thousandths, so a 2048-unit TrueType font comes out
    with every letter twice as far apart."""
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", "Times New Roman"], capture_output=True, text=True,
                               check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if not found.lower().endswith((".ttf", ".otf")) or not Path(found).is_file():
        raise UserError("Không tìm thấy phông Times New Roman (hoặc Liberation Serif) để ghi số và thời gian ký "
                        "lên phụ lục. Cách sửa: cài gói fonts-liberation2 (sudo apt-get install fonts-liberation2).")
    return _thousand_units(Path(found))


def _thousand_units(font_file: Path) -> Path:
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    font = TTFont(str(font_file))
    if font["head"].unitsPerEm == 1000:
        return font_file
    stat = font_file.stat()
    scaled = Path(tempfile.gettempdir()) / f"outreach-{font_file.stem}-{stat.st_size}-{stat.st_mtime_ns}-1000.ttf"
    if not scaled.is_file():
        scale_upem(font, 1000)
        staged = scaled.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(staged))
        staged.replace(scaled)
    return scaled


def _names_revocation_data(key: SigningKey) -> bool:
    """Whether the certificate says where its revocation data is (CRL or OCSP): then B-LT is possible."""
    certificate = key.certificate
    return bool(certificate.crl_distribution_points or certificate.ocsp_urls)


class RoleSigner:
    """One role's key, appearance and pyHanko signers, built once and reused over a batch, with one
    event loop for the batch: pyHanko's synchronous ``sign_pdf`` starts a new loop for every
    signature, with a new thread for the token's call and, with a TSA, a new HTTP session (~1 ms of
    CPU a signature without time stamps). Close it (or use it as a context manager) after the batch."""

    def __init__(self, key: SigningKey, trust_roots: list, tsa_url: str = "", image: Path | None = None,
                 font: Path | None = None) -> None:
        self.key, self.trust_roots, self.image, self.font = key, trust_roots, image, font
        # Every signature this program makes is PAdES (see _metadata): its attributes, encoded once.
        self.key.signer.signed_attr_prov_spec = PadesSignedAttributes(self.key.certificate)
        self._loop = asyncio.Runner()
        self._tsa_session = LazySession()  # opened on the first time stamp, in the batch's loop
        self.timestamper = HTTPTimeStamper(tsa_url, timeout=30, session=self._tsa_session) if tsa_url else None

    def run(self, coroutine):
        """Run ``coroutine`` in the batch's event loop."""
        return self._loop.run(coroutine)

    def close(self) -> None:
        async def release() -> None:
            await self._tsa_session.close()
            validation = self.__dict__.get("_validation")
            if validation is not None:
                await validation.aclose()
        try:
            self.run(release())
        finally:
            self._loop.close()

    def __enter__(self) -> RoleSigner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @cached_property
    def _validation(self) -> ValidationContext | None:
        # One context for the batch: the revocation data it fetches is cached, not fetched per letter.
        if not _names_revocation_data(self.key):
            return None
        return ValidationContext(trust_roots=self.trust_roots, allow_fetching=True)

    @cached_property
    def _reserved(self) -> int:
        """Room for the CMS: certificates, signature and attributes, plus a time-stamp token."""
        certificates = sum(len(c.dump()) for c in [self.key.certificate, *self.key.signer.cert_registry])
        return 2 * ((certificates + 4096 + (12288 if self.timestamper else 0)) // 2)  # pyHanko wants it even

    def _metadata(self, field: str, certify: bool, permissions: MDPPerm = MDPPerm.FILL_FORMS):
        validation = self._validation
        return signers.PdfSignatureMetadata(
            field_name=field, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES, certify=certify,
            docmdp_permissions=permissions, embed_validation_info=validation is not None,
            validation_context=validation)

    @cached_property
    def _image_style(self) -> StaticStampStyle:
        assert self.image is not None
        return StaticStampStyle(background=PreparedImage(self.image), border_width=0, background_opacity=1.0,
                                background_layout=_FIT)

    def _sign(self, signer: signers.PdfSigner, writer: IncrementalPdfFileWriter, **options) -> bytes:
        return self.run(signer.async_sign_pdf(writer, bytes_reserved=self._reserved, **options)).getvalue()

    def sign_leader(self, data: bytes, placement: Placement) -> bytes:
        """Certify the letter with the signer's image, and create the agency's (empty) field."""
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        fields.append_signature_field(writer, SigFieldSpec(AGENCY_FIELD, on_page=placement.page,
                                                           box=placement.agency.rounded()))
        signer = signers.PdfSigner(self._metadata(LEADER_FIELD, certify=True), self.key.signer,
                                   timestamper=self.timestamper, stamp_style=self._image_style,
                                   new_field_spec=SigFieldSpec(LEADER_FIELD, on_page=placement.page,
                                                               box=placement.leader.rounded()))
        return self._sign(signer, writer)

    def sign_agency(self, data: bytes) -> bytes:
        """Fill the agency's field the leader's signature created: the seal over the signer's image."""
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        signer = signers.PdfSigner(self._metadata(AGENCY_FIELD, certify=False), self.key.signer,
                                   timestamper=self.timestamper, stamp_style=self._image_style)
        return self._sign(signer, writer, existing_fields_only=True)

    @cached_property
    def _appendix_style(self) -> TextStampStyle:
        assert self.font is not None
        font = GlyphAccumulatorFactory(str(self.font), font_size=APPENDIX_FONT_SIZE)
        return TextStampStyle(stamp_text="%(number)s\n%(signed_at)s", border_width=0, background=None,
                              text_box_style=TextBoxStyle(font=font, font_size=APPENDIX_FONT_SIZE,
                                                          text_color=(0, 0, 0)),
                              inner_content_layout=_TOP_RIGHT)

    def appendix_text_size(self, number: str) -> tuple[float, float]:
        """Width and height of the appendix's two lines (number, then the time) in TNR 10."""
        from fontTools.ttLib import TTFont

        assert self.font is not None
        font = TTFont(str(self.font), lazy=True)
        widths, cmap, units = font["hmtx"].metrics, font.getBestCmap(), font["head"].unitsPerEm
        sample = iso_vn(dt.datetime(2000, 12, 28, 18, 58, 58, tzinfo=VN))
        width = max(sum(widths[cmap.get(ord(c), ".notdef")][0] for c in line) for line in (number, sample))
        return width * APPENDIX_FONT_SIZE / units + 12, 2 * APPENDIX_FONT_SIZE * 1.2 + 12  # with the stamp's margins

    def sign_appendix(self, data: bytes, box: Box, number: str) -> bytes:
        """The agency's signature on a separate appendix: no image, the number and signing time shown."""
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        signer = signers.PdfSigner(self._metadata(AGENCY_FIELD, certify=True, permissions=MDPPerm.NO_CHANGES),
                                   self.key.signer, timestamper=self.timestamper, stamp_style=self._appendix_style,
                                   new_field_spec=SigFieldSpec(AGENCY_FIELD, on_page=0, box=box.rounded()))
        return self._sign(signer, writer, appearance_text_params={
            "number": number, "signed_at": iso_vn(dt.datetime.now(dt.timezone.utc))})
