"""Check the signatures of a PDF (pyHanko's validation): who signed, when, intact, trusted, covering
the whole file; and the approval gate that asks every attached PDF for the signatures it needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from ..config import ROLE_LABELS
from ..convert import signed_fields
from .keys import VN, certificate_name, load_trust_roots
from .signing import FIELD_ROLES

if TYPE_CHECKING:
    from ..config import Config
    from ..outbox import Draft

_ALLOWED_LATER = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)


@dataclass(frozen=True)
class SignatureCheck:
    field: str
    role: str  # "leader", "agency", or "" for a field this program did not make
    signer: str  # the certificate's common name
    certificate_sha256: str
    signed_at: dt.datetime | None  # Vietnam time: the time stamp's when there is one, else the signer's clock
    timestamped: bool
    intact: bool  # the signed bytes are unchanged and the signature verifies
    trusted: bool  # the certificate chains to a trust root and was valid when signing
    whole_file: bool  # covers the file, or everything added after it is permitted (later signatures)

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.whole_file

    def describe(self) -> str:
        role = ROLE_LABELS.get(self.role, f"trường {self.field}")
        when = f"{self.signed_at:%d/%m/%Y %H:%M:%S} (giờ Việt Nam{', có dấu thời gian' if self.timestamped else ''})" \
            if self.signed_at else "không rõ thời gian"
        return (f"chữ ký của {role}: {self.signer}, ký lúc {when}; "
                f"{'nguyên vẹn' if self.intact else 'KHÔNG nguyên vẹn'}, "
                f"{'tin cậy' if self.trusted else 'KHÔNG tin cậy'}, "
                f"{'phủ toàn bộ tệp' if self.whole_file else 'KHÔNG phủ toàn bộ tệp (có thay đổi sau khi ký)'}")


@dataclass(frozen=True)
class PdfCheck:
    name: str
    signatures: tuple[SignatureCheck, ...] = ()
    problem: str = ""  # why the file could not be checked at all

    @property
    def ok(self) -> bool:
        return not self.problem and bool(self.signatures) and all(s.ok for s in self.signatures)

    def valid_roles(self) -> set[str]:
        return {s.role for s in self.signatures if s.ok}




def signed_roles(path: Path) -> set[str]:
    """The roles whose signature field in this file is signed (unchecked)."""
    try:
        data = path.read_bytes()
    except OSError:
        return set()
    return {FIELD_ROLES[name] for name in signed_fields(data) if name in FIELD_ROLES}


class Verifier:
    """Validates PDFs against fixed trust roots; one validation context so chains are built once."""

    def __init__(self, trust_roots: list[asn1_x509.Certificate]) -> None:
        self.trust_roots = trust_roots
        self._cache: dict[str, PdfCheck] = {}

    def check(self, data: bytes, name: str = "") -> PdfCheck:
        digest = hashlib.sha256(data).hexdigest()
        cached = self._cache.get(digest)
        if cached is None:
            cached = self._cache[digest] = self._check(data, name)
        return cached if cached.name == name else PdfCheck(name, cached.signatures, cached.problem)

    def _check(self, data: bytes, name: str) -> PdfCheck:
        try:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            embedded = reader.embedded_regular_signatures
        except (PdfReadError, ValueError, KeyError) as error:
            return PdfCheck(name, problem=f"không đọc được tệp PDF ({error})")
        if not embedded:
            return PdfCheck(name, problem="không có chữ ký số")
        context = ValidationContext(trust_roots=self.trust_roots, allow_fetching=False, revocation_mode="soft-fail")
        checks = []
        for signature in embedded:
            try:
                status = validate_pdf_signature(signature, context)
            except (PdfReadError, ValueError, KeyError) as error:
                return PdfCheck(name, tuple(checks), f"chữ ký '{signature.field_name}' không đọc được ({error})")
            # Covered: the whole file, or every revision after it is a permitted one (the agency's
            # signature after the leader's; validation data added to the DSS after each).
            later_allowed = status.modification_level in _ALLOWED_LATER and status.docmdp_ok is not False
            whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
                status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and later_allowed)
            stamp = status.timestamp_validity
            moment = stamp.timestamp if stamp is not None else status.signer_reported_dt
            checks.append(SignatureCheck(
                field=signature.field_name,
                role=FIELD_ROLES.get(signature.field_name, ""),
                signer=certificate_name(status.signing_cert),
                certificate_sha256=hashlib.sha256(status.signing_cert.dump()).hexdigest(),
                signed_at=moment.astimezone(VN) if moment else None,
                timestamped=stamp is not None,
                intact=status.intact and status.valid,
                trusted=status.trusted and (stamp is None or (stamp.intact and stamp.valid and stamp.trusted)),
                whole_file=whole,
            ))
        return PdfCheck(name, tuple(checks))


def verifier_for(trust_roots: tuple[Path, ...]) -> Verifier:
    return Verifier(load_trust_roots(trust_roots))



def letter_signatures(config: "Config", draft: "Draft") -> PdfCheck | None:
    """The letter's signatures as `outreach verify` reports them (for the web page); None when
    ``[signing]`` names no trust roots."""
    path = draft.path(config.root, "letter.pdf")
    if not config.signing.trust_roots or not path.is_file():
        return None
    return verifier_for(config.signing.trust_roots).check(path.read_bytes(), "letter.pdf")
