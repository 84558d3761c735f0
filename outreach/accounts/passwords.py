"""Password hashing with scrypt (Python's ``hashlib``, from OpenSSL): no extra dependency.

A stored hash reads ``scrypt$<log2 n>$<r>$<p>$<salt>$<hash>`` (base64), so its cost can be raised
later without invalidating the hashes already stored: each is checked with its own parameters.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

# OWASP's scrypt minimum is n=2^17 with r=8; 2^15 keeps a login near 0.3 s on the office's small
# server, and the lockout bounds how many guesses an attacker gets online.
LOG2_N, R, P = 15, 8, 1
MIN_LENGTH = 8
_MAXMEM = 256 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2 ** log2_n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${LOG2_N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, LOG2_N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log2_n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _derive(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, base64.b64decode(expected))


@functools.cache
def dummy_hash() -> str:
    """Checked when the login is unknown, so an unknown login takes as long to refuse as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))
