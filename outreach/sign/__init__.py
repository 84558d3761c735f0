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

from .batch import SignReport, sign_campaign
from .demo_pki import MARK, demo_signing
from .gate import SigningGate, signing_gate
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
