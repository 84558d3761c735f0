"""Digital signatures on the letters (Decree 30/2020, Article 5): the leader's, then the agency's,
each an incremental PAdES signature from a PKCS#11 token or a PKCS#12 file, placed where the decree
puts them; verified by anyone, and required before approval when ``[signing] required = true``.

* ``keys``: open a token or a file once per batch, and check PIN, certificate and chain first;
* ``placement``: where the signature block is, from the PDF's own text;
* ``signing``: one signature (image, field, time stamp) with pyHanko;
* ``batch``: ``sign_campaign``, a whole campaign in one role, the manifest kept in step;
* ``verify``: what ``outreach verify`` and the web page report, per signature;
* ``gate``: what approval refuses when signatures are required;
* ``demo_pki``: a throw-away PKI and SoftHSM2 token for the demo (marked "chỉ dùng thử").

The ``[signing]`` section itself is parsed with the rest of config.toml (``outreach.config.signing``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .gate import SigningGate, signing_gate

if TYPE_CHECKING:
    from .batch import SignReport, sign_campaign
    from .demo_pki import MARK, demo_signing
    from .verify import PdfCheck, Verifier, letter_signatures, verifier_for

__all__ = [
    "MARK",
    "PdfCheck",
    "SignReport",
    "SigningGate",
    "Verifier",
    "demo_signing",
    "letter_signatures",
    "sign_campaign",
    "signing_gate",
    "verifier_for",
]

# pyHanko, asn1crypto and the PKCS#11 bindings cost ~70 MB and a second to import: approval needs
# only the gate, which loads them when a signature is really checked; the rest loads on first use.
_LAZY = {"SignReport": "batch", "sign_campaign": "batch", "MARK": "demo_pki", "demo_signing": "demo_pki",
         "PdfCheck": "verify", "Verifier": "verify", "letter_signatures": "verify", "verifier_for": "verify"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
