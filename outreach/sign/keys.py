"""Signing keys: a PKCS#11 token (python-pkcs11 through pyHanko) or a PKCS#12 file, opened once per
batch and checked before any file is touched.

The checks are the ones that would otherwise surface half-way through 10,000 letters: the PIN (or
password) is right, the key signs and its signature verifies with the certificate (a key that
does not match its certificate makes signatures nobody can verify), the certificate is valid
today, carries non-repudiation, and chains to one of ``[signing] trust_roots``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import getpass
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys, pem, x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign import pkcs11 as p11
from pyhanko.sign.general import SigningError, get_pyca_cryptography_hash
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import UserError
from ..config import ROLE_LABELS, KeySource, Pkcs11Key, Pkcs12Key
from .speedups import PreparedPackaging

VN = dt.timezone(dt.timedelta(hours=7), "+07:00")
KEY_USAGE = frozenset({"non_repudiation"})  # what pyHanko's validation asks of a signer by default
_PROBE = b"outreach: key and certificate belong together"


@dataclass
class DeviceClock:
    """Time spent inside the key's own signing calls (the token's share of a batch): its wall time,
    what a real token makes the batch wait, and the CPU this process spent in them, which is the
    token's own work only for a token emulated in-process (SoftHSM2, the bench)."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    signatures: int = 0

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start
            self.cpu_seconds += time.process_time() - cpu
            self.signatures += 1

    def reset(self) -> None:
        self.seconds, self.cpu_seconds, self.signatures = 0.0, 0.0, 0


class _TokenSigner(PreparedPackaging, p11.PKCS11Signer):
    clock: DeviceClock

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        with self.clock.timed():
            return await super().async_sign_raw(data, digest_algorithm)


class _FileSigner(PreparedPackaging, SimpleSigner):
    """pyHanko's SimpleSigner parses the private key again for every signature (~0.1 s for RSA,
    the key checks of cryptography); this one keeps the parsed key."""

    clock: DeviceClock
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        with self.clock.timed():
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(self.private_key, rsa.RSAPrivateKey):
                return self.private_key.sign(data, padding.PKCS1v15(), hash_algorithm)
            if mechanism == "ecdsa" and isinstance(self.private_key, ec.EllipticCurvePrivateKey):
                return self.private_key.sign(data, ec.ECDSA(hash_algorithm))
            return super().sign_raw(data, digest_algorithm)


@dataclass
class SigningKey:
    """An opened, checked key: the pyHanko signer, its certificate and the trust it was checked with."""

    source: KeySource
    signer: _TokenSigner | _FileSigner
    certificate: asn1_x509.Certificate
    clock: DeviceClock

    @property
    def holder(self) -> str:
        return certificate_name(self.certificate)


def certificate_name(certificate: asn1_x509.Certificate) -> str:
    """The subject's common name (a person's or an agency's name), else the whole subject."""
    subject = certificate.subject.native
    return str(subject.get("common_name") or certificate.subject.human_friendly)


def load_trust_roots(paths: tuple[Path, ...]) -> list[asn1_x509.Certificate]:
    if not paths:
        raise UserError("config.toml: [signing] chưa có trust_roots. Cách sửa: viết trust_roots = "
                        '["certs/root.pem"] (chứng thư gốc của tổ chức cấp chứng thư số).')
    roots = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            raise UserError(f"Không đọc được chứng thư gốc {path} ([signing] trust_roots). "
                            "Cách sửa: kiểm tra đường dẫn (tính từ thư mục làm việc).") from None
        blocks = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        try:
            roots += [asn1_x509.Certificate.load(der) for der in blocks if der]
            for root in roots:
                root.native  # parse now: a broken file is named here, not deep inside a validation
        except ValueError:
            raise UserError(f"{path} không phải chứng thư X.509 (PEM hoặc DER). "
                            "Cách sửa: xuất lại chứng thư gốc dạng .pem hoặc .cer.") from None
    return roots


def read_secret(source: KeySource) -> str:
    """The PIN or password: from its environment variable, else asked once (never stored)."""
    value = os.environ.get(source.secret_env, "") if source.secret_env else ""
    if value:
        return value
    what = "mã PIN" if isinstance(source, Pkcs11Key) else "mật khẩu"
    if not sys.stdin.isatty():
        raise UserError(f"Chưa có {what} cho khóa ký của {ROLE_LABELS[source.role]} ({source.describe()}). "
                        f"Cách sửa: đặt {what} vào biến môi trường {source.secret_env or '(pin_env/password_env)'} "
                        "hoặc chạy lệnh trong cửa sổ dòng lệnh để được hỏi.")
    return getpass.getpass(f"Nhập {what} của {ROLE_LABELS[source.role]} ({source.describe()}): ")


@contextlib.contextmanager
def open_key(source: KeySource, trust_roots: list[asn1_x509.Certificate], *, secret: str | None = None,
             now: dt.datetime | None = None) -> Iterator[SigningKey]:
    """Log in once and check the key (see the module doc); the session closes on exit."""
    secret = read_secret(source) if secret is None else secret
    clock = DeviceClock()
    with contextlib.ExitStack() as stack:
        if isinstance(source, Pkcs11Key):
            signer = _open_token(source, secret, stack)
        else:
            signer = _open_file(source, secret)
        signer.clock = clock
        key = SigningKey(source, signer, signer.signing_cert, clock)
        check_key(key, trust_roots, now or dt.datetime.now(dt.timezone.utc))
        clock.reset()  # the probe is not part of the batch
        yield key


def reinitialise_after_fork(source: KeySource) -> None:
    """In a forked worker: a PKCS#11 library the parent had initialised (a test or the bench that
    made its token in-process) must be initialised again before the child uses it (PKCS#11 v2.40,
    5.4); one loaded only now is simply started once more."""
    if isinstance(source, Pkcs11Key) and source.module.is_file():
        import pkcs11

        pkcs11.lib(str(source.module)).reinitialize()


def _open_token(source: Pkcs11Key, pin: str, stack: contextlib.ExitStack) -> _TokenSigner:
    import pkcs11.exceptions as p11_errors

    who = f"{ROLE_LABELS[source.role]} ({source.describe()})"
    if not source.module.is_file():
        raise UserError(f"Không có thư viện PKCS#11 {source.module} của token ký số. Cách sửa: cài phần mềm "
                        "token của nhà cung cấp (hoặc softhsm2 để thử) và sửa pkcs11_module trong [signing].")
    try:
        session = p11.open_pkcs11_session(str(source.module), token_criteria=p11.TokenCriteria(label=source.token_label),
                                          user_pin=pin)
    except p11_errors.PinIncorrect:
        raise UserError(f"Mã PIN của token ký số {who} không đúng; chưa ký thư nào. Cách sửa: nhập lại đúng "
                        f"mã PIN (biến môi trường {source.pin_env}); nhập sai nhiều lần token sẽ bị khóa.") from None
    except p11_errors.PinLocked:
        raise UserError(f"Token ký số {who} đã bị khóa vì nhập sai mã PIN nhiều lần. "
                        "Cách sửa: mở khóa token bằng phần mềm của nhà cung cấp (mã PUK/SO PIN).") from None
    except (p11_errors.PinLenRange, p11_errors.PinInvalid, p11_errors.ArgumentsBad):
        raise UserError(f"Mã PIN của token ký số {who} không hợp lệ (độ dài hoặc ký tự). "
                        "Cách sửa: kiểm tra lại mã PIN.") from None
    except p11.PKCS11Error:
        raise UserError(f"Không tìm thấy token ký số có nhãn '{source.token_label}' ({ROLE_LABELS[source.role]}). "
                        "Cách sửa: cắm token, kiểm tra token_label trong [signing].") from None
    stack.callback(session.close)
    signer = _TokenSigner(session, key_label=source.key_label, other_certs_to_pull=None)
    try:
        signer.signing_cert
        asyncio.run(signer.ensure_objects_loaded())
    except (p11.PKCS11Error, SigningError, StopIteration):
        raise UserError(f"Token '{source.token_label}' không có khóa và chứng thư cùng nhãn '{source.key_label}' "
                        f"({ROLE_LABELS[source.role]}). Cách sửa: sửa key_label trong [signing] cho đúng nhãn trên token.") from None
    return signer


def _open_file(source: Pkcs12Key, password: str) -> _FileSigner:
    who = f"{ROLE_LABELS[source.role]} ({source.describe()})"
    try:
        data = source.file.read_bytes()
    except OSError:
        raise UserError(f"Không đọc được tệp khóa ký {source.file} của {ROLE_LABELS[source.role]}. "
                        "Cách sửa: kiểm tra pkcs12 trong [signing] (đường dẫn tính từ thư mục làm việc).") from None
    try:
        private_key, certificate, others = pkcs12.load_key_and_certificates(data, password.encode("utf-8"))
    except ValueError:
        raise UserError(f"Mật khẩu của tệp khóa ký {who} không đúng (hoặc tệp không phải PKCS#12); chưa ký thư nào. "
                        f"Cách sửa: đặt đúng mật khẩu vào biến môi trường {source.password_env}.") from None
    if certificate is None or not isinstance(private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise UserError(f"Tệp {source.file} không có khóa RSA/ECDSA kèm chứng thư. "
                        "Cách sửa: xuất lại tệp .p12 có cả khóa riêng và chứng thư.")
    der = serialization.Encoding.DER
    signer = _FileSigner(
        signing_cert=asn1_x509.Certificate.load(certificate.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(private_key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c.public_bytes(der)) for c in others or ()]),
    )
    signer.private_key = private_key
    return signer


def check_key(key: SigningKey, trust_roots: list[asn1_x509.Certificate], now: dt.datetime) -> None:
    """Raise UserError (one line, with the fix) unless the key is fit to sign today."""
    who = f"{ROLE_LABELS[key.source.role]} ({key.holder})"
    certificate = x509.load_der_x509_certificate(key.certificate.dump())
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now < start:
        raise UserError(f"Chứng thư số của {who} chưa có hiệu lực (từ {start.astimezone(VN):%d/%m/%Y %H:%M}); "
                        "chưa ký thư nào. Cách sửa: chờ đến ngày hiệu lực hoặc kiểm tra đồng hồ máy tính.")
    if now > end:
        raise UserError(f"Chứng thư số của {who} đã hết hạn ngày {end.astimezone(VN):%d/%m/%Y}; chưa ký thư nào. "
                        "Cách sửa: gia hạn chứng thư với tổ chức cung cấp dịch vụ và nạp chứng thư mới vào token/tệp.")
    signature = key.signer.sign_raw(_PROBE, "sha256") if isinstance(key.signer, _FileSigner) else \
        asyncio.run(key.signer.async_sign_raw(_PROBE, "sha256"))
    if not _verifies(certificate.public_key(), signature):
        raise UserError(f"Khóa ký của {who} không khớp với chứng thư của nó: chữ ký tạo ra không kiểm tra được; "
                        "chưa ký thư nào. Cách sửa: chọn đúng khóa (key_label) hoặc nạp đúng chứng thư cho khóa này.")
    context = ValidationContext(trust_roots=trust_roots, moment=now, allow_fetching=False, revocation_mode="soft-fail")
    intermediates = list(key.signer.cert_registry)
    validator = CertificateValidator(key.certificate, intermediates, validation_context=context)
    try:
        asyncio.run(validator.async_validate_usage(set(KEY_USAGE)))
    except (PathBuildingError, PathValidationError):
        raise UserError(f"Chứng thư số của {who} không thuộc chuỗi tin cậy của [signing] trust_roots; "
                        "chưa ký thư nào. Cách sửa: thêm chứng thư gốc của tổ chức cấp chứng thư vào trust_roots.") from None
    except ValidationError:
        raise UserError(f"Chứng thư số của {who} không dùng để ký văn bản được (thiếu mục đích non-repudiation). "
                        "Cách sửa: dùng chứng thư ký số dành cho ký văn bản.") from None


def _verifies(public_key: object, signature: bytes) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, _PROBE, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, _PROBE, ec.ECDSA(hashes.SHA256()))
        else:
            return True  # other algorithms: the validation of the first signature will tell
    except InvalidSignature:
        return False
    return True
