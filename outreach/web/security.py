"""CSRF tokens, the host check and the security headers (logins and roles: :mod:`outreach.web.auth`).

* CSRF: one random token per session (``session["csrf"]``), put in every form as ``csrf_token``;
  every POST must carry it (compared in constant time) or is refused with 400.
* The recipients' confirmation form (:data:`TOKEN_FORMS`) has no session and no CSRF token: the
  secret is the personal token in its own URL, which the POST must carry. A page elsewhere that
  could forge that POST would have to know the token, and whoever knows it can confirm anyway;
  guessing one (192 random bits) is hopeless, and :class:`RateLimit` bounds the tries per address.
* Host: on loopback, only loopback host names are answered, so a web page elsewhere cannot reach
  this server through DNS rebinding.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request, session

CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_FORMS = frozenset({"views.receipt_confirm"})  # POSTs whose secret is the token in their URL

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
# The e-mail's HTML body, shown in a frame: its own inline styles, nothing else, no scripts at all.
BODY_SECURITY_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site (never ``//other.host`` or ``http://…``) may be redirected to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    return fallback if parts.scheme or parts.netloc else target


def init_app(app: Flask) -> None:
    """Registered before :mod:`auth`: the host check comes first; the CSRF check is registered by
    ``auth`` after its login and role checks (a refused role answers 403 with or without a token)."""
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def check_host():
        allowed = current_app.config["OUTREACH_ALLOWED_HOSTS"]
        if allowed is None:
            return None
        host = request.host.lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name not in allowed:
            abort(400, description="Địa chỉ trang web không hợp lệ. Hãy mở trang bằng http://127.0.0.1:CỔNG/.")
        return None

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class RateLimit:
    """At most ``limit`` requests per ``window_s`` seconds per key (a client address), sliding."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._times) > 10_000:  # forget the addresses that went quiet, so memory stays bounded
                self._times = {k: t for k, t in self._times.items() if t and now - t[-1] <= self.window_s}
            times = self._times.setdefault(key, deque())
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


def check_csrf():
    if request.method in SAFE_METHODS or request.endpoint in TOKEN_FORMS:
        return None
    sent = request.form.get(CSRF_FIELD, "") or request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf", "")
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="Phiên làm việc đã hết hạn hoặc yêu cầu không đến từ trang này "
                               "(thiếu mã bảo vệ CSRF). Hãy tải lại trang rồi thao tác lại.")
    return None
