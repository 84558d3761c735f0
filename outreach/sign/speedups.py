"""Work pyHanko repeats for every signature that a batch of 10,000 letters needs to do once.

Measured on the bench letter (one core, SoftHSM2): the signing-certificate-v2 attribute, rebuilt
and re-encoded by asn1crypto for each signature, twice, cost ~14 ms of a leader's 31 ms; the
signature or seal image, split into colour and alpha and deflated again for each file, ~2-4 ms;
the previous signature's /Contents, a hex string read one byte at a time by pyHanko's tokenizer
(5 times per signature: the certification check reads it), ~5 ms of the agency's signature; the
CMS SignedData assembled by asn1crypto from the certificate, issuer, serial number and algorithm
objects, each copied and re-encoded per signature (~3 ms of asn1crypto for ~1 ms of RSA).
What is cached here is the same bytes pyHanko would have produced, so signatures do not change.
"""

from __future__ import annotations

import binascii
import re
from pathlib import Path

from asn1crypto import cms, core, tsp, x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.images import PdfImage, pil_image
from pyhanko.pdf_utils.writer import BasePdfFileWriter, PdfFileWriter
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec
from pyhanko.sign.general import as_signing_certificate_v2

_HEX_BODY = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*")
_WHITESPACE = b" \n\r\t\f\x00"
_pyhanko_read_hex_string = generic.read_hex_string_from_stream


def read_hex_string(stream) -> generic.ByteStringObject | generic.TextStringObject:
    """pyHanko's ``read_hex_string_from_stream`` with the body taken in one slice: the same
    result; anything unusual (a comment, a bad digit, the end of the file) is left to pyHanko's."""
    start = stream.tell()
    head = stream.read(1)
    body = bytearray()
    while True:
        block = stream.read(16384)
        end = block.find(b">")
        if end < 0 and block:
            body += block
            continue
        if end >= 0:
            body += block[:end]
        break
    if end < 0 or not _HEX_BODY.fullmatch(body) or head != b"<":
        stream.seek(start)
        return _pyhanko_read_hex_string(stream)
    stream.seek(start + 1 + len(body) + 1)
    digits = bytes(body).translate(None, _WHITESPACE)
    return generic.pdf_string(binascii.unhexlify(digits + b"0" * (len(digits) % 2)))


def install() -> None:
    """Put the fast hex-string reader in pyHanko's object parser (signing and verifying alike)."""
    generic.read_hex_string_from_stream = read_hex_string


class _SigningCertificate(CMSAttributeProvider):
    attribute_type = "signing_certificate_v2"

    def __init__(self, der: bytes) -> None:
        self.der = der

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        # Loaded from bytes, asn1crypto keeps and writes those bytes instead of encoding anew.
        return tsp.SigningCertificateV2.load(self.der)


class PadesSignedAttributes(SignedAttributeProviderSpec):
    """The signed attributes of a PAdES signature (besides content type and digest, which pyHanko
    adds): the signing-certificate-v2 attribute, encoded once per key. pyHanko's own spec for
    PAdES (``CAdESSignedAttributeProviderSpec`` with ``is_pades``) yields just this attribute when
    no CAdES extras are asked for, and this program asks for none."""

    def __init__(self, certificate: asn1_x509.Certificate) -> None:
        self.der = as_signing_certificate_v2(certificate).dump()

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str):
        yield _SigningCertificate(self.der)


class PreparedImage(PdfImage):
    """A PNG as an image XObject (with its alpha as /SMask) deflated once, copied into each file."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        scratch = PdfFileWriter()
        image = pil_image(self.image, scratch).get_object()
        smask = image.get("/SMask")
        self._smask = _encoded(smask.get_object()) if smask is not None else None
        self._pixels = _encoded(image)

    @property
    def image_ref(self) -> generic.IndirectObject:
        assert self.writer is not None
        reference = self._image_ref
        if reference is None or reference.get_pdf_handler() is not self.writer:
            self._image_ref = reference = _add_image(self.writer, self._pixels, self._smask)
        return reference


def _encoded(stream: generic.StreamObject) -> tuple[dict, bytes]:
    return {k: v for k, v in stream.items() if k != "/SMask"}, stream.encoded_data


def _add_image(writer: BasePdfFileWriter, pixels: tuple[dict, bytes],
               smask: tuple[dict, bytes] | None) -> generic.IndirectObject:
    entries = dict(pixels[0])
    if smask is not None:
        entries[generic.pdf_name("/SMask")] = writer.add_object(
            generic.StreamObject(dict(smask[0]), encoded_data=smask[1]))
    return writer.add_object(generic.StreamObject(entries, encoded_data=pixels[1]))



class PreparedPackaging:
    """A pyHanko signer whose CMS SignedData is put together from DER encoded once per key: what
    does not change from one signature to the next (version, algorithms, certificates, signer
    identifier) is taken from pyHanko's own first packaging, and each later signature only adds
    its signed attributes, signature value and unsigned attributes (the time stamp) around them.
    The bytes are those pyHanko writes (a test compares them); anything but a plain detached
    signature is left to pyHanko."""

    def _package_signature(self, *, digest_algorithm: str, cms_version, signed_attrs: cms.CMSAttributes,
                           signature: bytes, unsigned_attrs: cms.CMSAttributes | None,
                           encap_content_info) -> cms.ContentInfo:
        prepared = self.__dict__.setdefault("_prepared_packaging", {})
        detached = encap_content_info in (None, _DETACHED) and not self.attribute_certs  # type: ignore[attr-defined]
        parts = prepared.get((digest_algorithm, cms_version)) if detached else None
        if parts is None:
            packaged = super()._package_signature(  # type: ignore[misc]
                digest_algorithm=digest_algorithm, cms_version=cms_version, signed_attrs=signed_attrs,
                signature=signature, unsigned_attrs=unsigned_attrs, encap_content_info=encap_content_info)
            if detached:
                prepared[(digest_algorithm, cms_version)] = _Packaging.of(packaged)
            return packaged
        return parts.package(signed_attrs, signature, unsigned_attrs)


_DETACHED = {"content_type": "data"}  # what pyHanko passes for a PDF signature (the content is the PDF)


class _Packaging:
    def __init__(self, content_type: bytes, signed_data_head: bytes, signer_head: bytes,
                 signature_algorithm: bytes) -> None:
        self.content_type, self.signed_data_head = content_type, signed_data_head
        self.signer_head, self.signature_algorithm = signer_head, signature_algorithm

    @classmethod
    def of(cls, packaged: cms.ContentInfo) -> _Packaging:
        signed_data = packaged["content"]
        (signer,) = signed_data["signer_infos"]
        return cls(packaged["content_type"].dump(),
                   _fields(signed_data, "version", "digest_algorithms", "encap_content_info", "certificates", "crls"),
                   _fields(signer, "version", "sid", "digest_algorithm"), signer["signature_algorithm"].dump())

    def package(self, signed_attrs: cms.CMSAttributes, signature: bytes,
                unsigned_attrs: cms.CMSAttributes | None) -> cms.ContentInfo:
        signer = self.signer_head + _implicit(0, signed_attrs) + self.signature_algorithm + _der(0x04, signature)
        if unsigned_attrs is not None:
            signer += _implicit(1, unsigned_attrs)
        signed_data = _der(0x30, self.signed_data_head + _der(0x31, _der(0x30, signer)))
        return cms.ContentInfo.load(_der(0x30, self.content_type + _der(0xA0, signed_data)))


def _fields(value: core.Sequence, *names: str) -> bytes:
    return b"".join(value[name].dump() for name in names if not isinstance(value[name], core.Void))


def _implicit(number: int, attributes: cms.CMSAttributes) -> bytes:
    """A SET OF as a context-specific [number] IMPLICIT field: the same content, the tag replaced."""
    encoded = attributes.dump()
    return bytes([0xA0 | number]) + encoded[1:]


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content
