"""A throw-away PKI and SoftHSM2 token, every name marked "chỉ dùng thử", so that the demo (and the
tests) sign letters the way an office does: the leader's key on a PKCS#11 token, the agency's in
a PKCS#12 file, both certified by a root that only this folder trusts.

Nothing here is fit for real letters: the keys are made on this machine, the PINs are written in
``pins.txt`` beside them, and no one outside trusts the root.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, ImageDraw, ImageFont

from ..errors import UserError
from ..config import Pkcs11Key, Pkcs12Key, SigningConfig

MARK = "chỉ dùng thử"
SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN_LABEL = f"LANHDAO {MARK}"
SLUG = "chi-dung-thu"
KEY_LABEL = f"lanh-dao-{SLUG}"
LEADER_PIN_ENV = "OUTREACH_DEMO_LEADER_PIN"
AGENCY_PIN_ENV = "OUTREACH_DEMO_AGENCY_PIN"
DEMO_PIN = "123456"
DEMO_SO_PIN = "12345678"
SEAL_MM = 36
BLUE = (16, 48, 170, 255)
RED = (210, 24, 24, 255)


@dataclass(frozen=True)
class Issued:
    key: rsa.RSAPrivateKey | None  # None: the key lives on a token
    certificate: x509.Certificate


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_root(common_name: str = f"CA gốc ({MARK})", days: int = 3650) -> Issued:
    key = new_key()
    name = _name(common_name, MARK)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256()))
    return Issued(key, certificate)


def issue(root: Issued, common_name: str, public_key, *, organisation: str = MARK, time_stamping: bool = False,
          not_before: dt.datetime | None = None, days: int = 730, crl_url: str = "") -> x509.Certificate:
    """A signer's certificate (digital signature + non-repudiation), or a TSA's (time stamping)."""
    assert root.key is not None
    start = not_before or dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    builder = (
        x509.CertificateBuilder().subject_name(_name(common_name, organisation)).issuer_name(root.certificate.subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, not time_stamping, False, False, False, False, False, False, False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False))
    if time_stamping:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder.sign(root.key, hashes.SHA256())


def write_pem(path: Path, certificate: x509.Certificate) -> Path:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def write_pkcs12(path: Path, issued: Issued, chain: list[x509.Certificate], password: str) -> Path:
    assert issued.key is not None
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"co-quan", issued.key, issued.certificate, chain, serialization.BestAvailableEncryption(password.encode())))
    return path


# --- SoftHSM2 -------------------------------------------------------------------------------

def softhsm_config(folder: Path) -> Path:
    """A private SoftHSM2 configuration and token folder; SOFTHSM2_CONF must name it before the
    module is first loaded in a process (SoftHSM reads it once)."""
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
                    encoding="utf-8")
    return conf


def init_token(conf: Path, label: str, pin: str, so_pin: str = DEMO_SO_PIN) -> None:
    """A new token in the configuration's folder. A process that has already loaded the SoftHSM
    module does not see tokens made after that: make every token first."""
    try:
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin],
                       env={**os.environ, "SOFTHSM2_CONF": str(conf)}, check=True, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise UserError("Chưa cài SoftHSM2 (token ký số giả lập). Cách sửa: sudo apt-get install softhsm2 "
                        "(scripts/setup.sh cài sẵn).") from None


def key_on_token(label: str, pin: str, key_label: str, module: Path = SOFTHSM_MODULE):
    """A key pair made on the token (the private key never leaves it); returns the public key."""
    import pkcs11
    from pkcs11.util.rsa import encode_rsa_public_key

    token = pkcs11.lib(str(module)).get_token(token_label=label)
    with token.open(user_pin=pin, rw=True) as session:
        public, _ = session.generate_keypair(pkcs11.KeyType.RSA, 2048, label=key_label, id=key_label.encode(),
                                             store=True)
        return serialization.load_der_public_key(encode_rsa_public_key(public))


def certificate_on_token(label: str, pin: str, key_label: str, certificate: x509.Certificate,
                         module: Path = SOFTHSM_MODULE) -> None:
    """Store the certificate under the key's label: pyHanko finds the certificate by that label."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    token = pkcs11.lib(str(module)).get_token(token_label=label)
    with token.open(user_pin=pin, rw=True) as session:
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.LABEL: key_label, Attribute.ID: key_label.encode(),
            Attribute.SUBJECT: certificate.subject.public_bytes(),
            Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
        })


# --- images ---------------------------------------------------------------------------------

def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("LiberationSerif-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default()


def signature_image(path: Path, text: str = MARK) -> Path:
    """A blue handwriting-like stroke on a transparent background (300 dpi)."""
    image = Image.new("RGBA", (900, 300), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(40, 230), (170, 60), (260, 220), (380, 80), (470, 200), (620, 110), (860, 170)], fill=BLUE,
              width=14, joint="curve")
    draw.text((450, 285), text, fill=BLUE, font=_font(44), anchor="md")
    image.save(path, dpi=(300, 300))
    return path


def seal_image(path: Path, text: str = MARK.upper(), diameter_mm: float = SEAL_MM) -> Path:
    """A red round seal on a transparent background, its real size recorded as 300 dpi."""
    size = round(diameter_mm / 25.4 * 300)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse([6, 6, size - 6, size - 6], outline=RED, width=12)
    draw.ellipse([size * 0.16, size * 0.16, size * 0.84, size * 0.84], outline=RED, width=5)
    draw.text((size / 2, size / 2), text, fill=RED, font=_font(size // 9), anchor="mm")
    image.save(path, dpi=(300, 300))
    return path


# --- the demo's signing setup -------------------------------------------------------------

def demo_signing(folder: Path, leader_name: str, agency_name: str) -> SigningConfig:
    """The demo's [signing]: made in ``folder`` on first use, reused after (letters signed by a
    previous run stay verifiable). Sets SOFTHSM2_CONF and the PIN variables for this process."""
    conf = folder / "softhsm2.conf"
    os.environ["SOFTHSM2_CONF"] = str(conf)
    os.environ[LEADER_PIN_ENV] = os.environ[AGENCY_PIN_ENV] = DEMO_PIN
    root_pem, p12 = folder / f"ca-goc-{SLUG}.pem", folder / f"co-quan-{SLUG}.p12"
    if not (root_pem.is_file() and p12.is_file() and conf.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        softhsm_config(folder)
        init_token(conf, TOKEN_LABEL, DEMO_PIN)
        root = make_root()
        leader = issue(root, f"{leader_name} ({MARK})", key_on_token(TOKEN_LABEL, DEMO_PIN, KEY_LABEL))
        certificate_on_token(TOKEN_LABEL, DEMO_PIN, KEY_LABEL, leader)
        agency_key = new_key()
        agency = Issued(agency_key, issue(root, f"{agency_name} ({MARK})", agency_key.public_key()))
        write_pkcs12(p12, agency, [root.certificate], DEMO_PIN)
        signature_image(folder / f"chu-ky-{SLUG}.png")
        seal_image(folder / f"con-dau-{SLUG}.png")
        (folder / "pins.txt").write_text(f"Mã PIN token và mật khẩu tệp .p12 ({MARK}): {DEMO_PIN}\n", encoding="utf-8")
        write_pem(root_pem, root.certificate)  # last: its presence says the folder is complete
    return SigningConfig(
        required=True,
        trust_roots=(root_pem,),
        leader=Pkcs11Key("leader", folder / f"chu-ky-{SLUG}.png", SOFTHSM_MODULE, TOKEN_LABEL, KEY_LABEL,
                         LEADER_PIN_ENV),
        agency=Pkcs12Key("agency", folder / f"con-dau-{SLUG}.png", p12, AGENCY_PIN_ENV),
    )



class LocalTimestampServer:
    """An RFC 3161 time-stamp server on 127.0.0.1 (pyHanko's DummyTimeStamper answers), for tests
    and benches; GET returns ``crl``, the root's revocation list, when one is given."""

    def __init__(self, root: Issued, crl: bytes = b"") -> None:
        import http.server
        import threading
        import time

        from asn1crypto import keys, tsp, x509 as asn1_x509
        from pyhanko.sign.timestamps import DummyTimeStamper

        key = new_key()
        certificate = issue(root, f"Máy chủ dấu thời gian ({MARK})", key.public_key(), time_stamping=True)
        stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
            tsa_key=keys.PrivateKeyInfo.load(key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the connection open, as a real TSA does

            def do_POST(self):  # noqa: N802 (http.server's name)
                start = time.thread_time()
                request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
                self._answer("application/timestamp-reply", stamper.request_tsa_response(request).dump())
                with lock:
                    server.cpu_seconds += time.thread_time() - start

            def do_GET(self):  # noqa: N802
                self._answer("application/pkix-crl", crl)

            def _answer(self, kind: str, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        lock = threading.Lock()
        self.cpu_seconds = 0.0  # spent answering time-stamp requests (a bench counts it apart)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self.url = f"{self.base_url}/tsa"
        self.crl_url = f"{self.base_url}/root.crl"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
