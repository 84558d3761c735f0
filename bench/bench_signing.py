"""Throughput of `outreach sign`: N letters signed by the leader and then the agency, both keys on a
SoftHSM2 token, through the real path (signature block found in the letter's text, pyHanko's
incremental signature, message.eml rebuilt with the signed bytes, manifest updated).

    .venv/bin/python bench/bench_signing.py 200
    .venv/bin/python bench/bench_signing.py 10000 --tsa     # with a local RFC 3161 server

One real letter is built by LibreOffice (bench/out/signing-N) and copied into N drafts with their
messages. Prints, per role and for both: signatures/s, letters/s, CPU per letter of every process
(this one, the signing workers, pdftotext), and the time spent inside the token's own signing
call, then what a real token (0.1-0.7 s a signature) would make of 10,000 letters: the token's
time plus what the code adds. The machine's speed varies (3x hour to hour when shared), so the
same run also measures a baseline, a bare pyHanko signature of the same letter with a key in
memory (no image, no field, no message), and prints the CPU per letter as a multiple of it: that
ratio is the figure to compare between runs and machines.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from outreach.sign import demo_pki as pki  # noqa: E402

PIN = "123456"


def make_office(n: int, out: Path) -> Path:
    from outreach.config import load_config
    from outreach.delivery import Ledger
    from outreach.outbox import build_campaign, issue_document_number
    from outreach.outbox import read_manifest, write_manifest

    root = out / f"signing-{n}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for item in ("config.toml", "templates", "recipients"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / item)
    config = load_config(root)
    from outreach.accounts import Actor

    issue_document_number(config, "vssid-2022", dt.date(2023, 1, 5), Actor("Lê Văn Thư"))
    with Ledger.open(root) as ledger:
        build_campaign(config, "vssid-2022", ledger, only=["YK34396"], progress=False)
    manifest = read_manifest(root, "vssid-2022")
    (model,) = manifest.drafts
    source = root / model.folder
    drafts = []
    for index in range(n):
        code = f"B{index:06d}"
        folder = source.parent / code
        folder.mkdir()
        for name in ("letter.pdf", "message.eml"):
            shutil.copy(source / name, folder / name)
        drafts.append(dataclasses.replace(model, code=code, folder=str(folder.relative_to(root))))
    write_manifest(root, dataclasses.replace(manifest, drafts=tuple(drafts)))
    shutil.rmtree(source)
    return root


def make_tokens(folder: Path, leader: str, agency: str):
    """Both keys on SoftHSM2 tokens (made on the token), certified by a throw-away root."""
    from outreach.config import Pkcs11Key, SigningConfig

    conf = pki.softhsm_config(folder)
    os.environ["SOFTHSM2_CONF"] = str(conf)
    root = pki.make_root()
    tokens = (("LANHDAO", leader), ("COQUAN", agency))
    for label, _ in tokens:
        pki.init_token(conf, label, PIN)
    for label, name in tokens:
        certificate = pki.issue(root, name, pki.key_on_token(label, PIN, label.lower()))
        pki.certificate_on_token(label, PIN, label.lower(), certificate)
    root_pem = pki.write_pem(folder / "root.pem", root.certificate)
    os.environ["BENCH_PIN"] = PIN
    return SigningConfig(
        required=True, trust_roots=(root_pem,),
        leader=Pkcs11Key("leader", pki.signature_image(folder / "chu-ky.png"), pki.SOFTHSM_MODULE, "LANHDAO",
                         "lanhdao", "BENCH_PIN"),
        agency=Pkcs11Key("agency", pki.seal_image(folder / "con-dau.png"), pki.SOFTHSM_MODULE, "COQUAN",
                         "coquan", "BENCH_PIN"))


def baseline_ms(letter: bytes, rounds: int = 30) -> float:
    """CPU of one bare pyHanko signature (PAdES, RSA-2048 key in memory, sha256) of ``letter``."""
    from asn1crypto import keys as asn1_keys, x509 as asn1_x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    class Signer(signers.SimpleSigner):  # the stock one parses its key again for every signature
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    root = pki.make_root()
    key = pki.new_key()
    der = serialization.Encoding.DER
    signer = Signer(signing_cert=asn1_x509.Certificate.load(pki.issue(root, "baseline", key.public_key()).public_bytes(der)),
                    signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
                        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())), cert_registry=None)
    metadata = signers.PdfSignatureMetadata(field_name="Baseline", subfilter=SigSeedSubFilter.PADES)

    def sign() -> bytes:
        return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(letter)), metadata, signer=signer).getvalue()

    sign()
    start = time.process_time()
    for _ in range(rounds):
        sign()
    return 1000 * (time.process_time() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=200)
    parser.add_argument("--tsa", action="store_true", help="time-stamp every signature (local TSA)")
    args = parser.parse_args()

    from outreach.config import load_config
    from outreach.sign.batch import sign_campaign

    out = ROOT / "bench" / "out"
    root = make_office(args.n, out)
    config = load_config(root)
    signing = make_tokens(root / "pki", config.signer.name, config.agency.issuing_body)
    tsa = pki.LocalTimestampServer(pki.make_root()) if args.tsa else None
    if tsa is not None:
        signing = dataclasses.replace(signing, tsa_url=tsa.url)
    config = dataclasses.replace(config, signing=signing)
    letter = next((root / "outbox" / "vssid-2022").glob("*/*/letter.pdf")).read_bytes()
    # The baseline before each role and after both: the machine's speed drifts during a long run.
    baselines = [baseline_ms(letter)]
    totals = {"seconds": 0.0, "cpu": 0.0, "token": 0.0, "signatures": 0, "tsa": 0.0}
    parallel = False
    results = []
    for role in ("leader", "agency"):
        if role != "leader":
            baselines.append(baseline_ms(letter))
        cpu, tsa_cpu = _cpu(), tsa.cpu_seconds if tsa else 0.0
        report = sign_campaign(config, "vssid-2022", role, progress=False)
        cpu, tsa_cpu = _cpu() - cpu, (tsa.cpu_seconds if tsa else 0.0) - tsa_cpu
        results.append((role, report, cpu, tsa_cpu))
    baselines.append(baseline_ms(letter))
    base = sum(baselines) / len(baselines)
    print(f"baseline: a bare pyHanko signature of this letter takes {base:.1f} ms of CPU "
          f"(mean of {', '.join(f'{b:.1f}' for b in baselines)}: before, between and after the roles)")
    for role, report, cpu, tsa_cpu in results:
        assert len(report.signed) == args.n and not report.skipped, report.skipped[:3]
        letters = len(report.signed)
        workers = getattr(report, "workers", 0)  # the same bench runs on code from before the workers
        parallel = parallel or workers > 1
        token_cpu = getattr(report, "device_cpu_seconds", report.device_seconds)
        print(f"{role:7s}: {letters} letters in {report.seconds:.1f} s = {report.signatures / report.seconds:.1f} "
              f"signatures/s ({workers or 1} process{'es' if workers > 1 else ''}); CPU {1000 * cpu / letters:.1f} "
              f"ms/letter = {1000 * cpu / letters / base:.2f} x baseline; token {1000 * report.device_seconds / letters:.2f} "
              f"ms/letter ({1000 * token_cpu / letters:.2f} ms of CPU)"
              + (f"; the local TSA's own CPU {1000 * tsa_cpu / letters:.1f} ms/letter" if tsa else ""))
        for key, value in (("seconds", report.seconds), ("cpu", cpu), ("token", token_cpu),
                           ("signatures", report.signatures), ("tsa", tsa_cpu)):
            totals[key] += value
    n = args.n
    # What the code adds beyond the token, per letter: its CPU (SoftHSM signs inside this process,
    # so its share is taken out), which is what a real token's wait would come on top of.
    # The local TSA answers in this process too: its work is a real TSA's, not the code's.
    added = (totals["cpu"] - totals["token"] - totals["tsa"]) / n
    cores = len(os.sched_getaffinity(0))
    print(f"both   : {n / totals['seconds']:.1f} letters/s ({totals['signatures'] / totals['seconds']:.1f} signatures/s) "
          f"wall on this machine; CPU {1000 * totals['cpu'] / n:.1f} ms/letter = {1000 * totals['cpu'] / n / base:.2f} x "
          f"baseline (= {n / totals['cpu']:.1f} letters/s per core, {cores * n / totals['cpu']:.0f} on {cores} idle cores); "
          f"the token's own CPU {1000 * totals['token'] / n:.1f} ms/letter; "
          + (f"the local TSA's {1000 * totals['tsa'] / n:.1f} ms/letter; " if tsa else "") +
          f"the code adds {1000 * added:.1f} ms of CPU per letter (two signatures)")
    for token_s in (0.1, 0.3, 0.7):
        # One token signs one signature at a time; with workers, their CPU runs while it does, so
        # the token sets the pace unless the code's share of a letter, spread over the cores, is longer.
        per_letter = max(2 * token_s, added / cores) if parallel else 2 * token_s + added
        hours = 10_000 * per_letter / 3600
        print(f"  10,000 letters with a token taking {token_s:.1f} s a signature: {hours:.1f} h")


def _cpu() -> float:
    """CPU of this process and of the children it waited for (pdftotext)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
