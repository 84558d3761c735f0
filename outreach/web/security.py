"""CSRF tokens, the optional password, the host check and the security headers.

* CSRF: one random token per session (``session["csrf"]``), put in every form as ``csrf_token``;
  every POST must carry it (compared in constant time) or is refused with 400.
* Password: when the app has one, every page but the login form and the style sheet needs a
  logged-in session; a login starts a fresh session (new CSRF token). Five wrong passwords from
  one address within five minutes lock that address out for the rest of the five minutes.
* Host: without a password, only loopback host names are answered, so a web page elsewhere cannot
  reach this server through DNS rebinding.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, render_template, request, session, url_for

CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"login", "static"})
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0

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


class _Failures:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._times[address]
        while times and now - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        return times

    def locked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= MAX_FAILURES

    def add(self, address: str) -> None:
        with self._lock:
            self._recent(address, time.monotonic()).append(time.monotonic())

    def clear(self, address: str) -> None:
        with self._lock:
            self._times.pop(address, None)


def init_app(app: Flask) -> None:
    failures = _Failures()
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

    @app.before_request
    def check_login():
        if not current_app.config["OUTREACH_PASSWORD"] or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if session.get("authenticated"):
            return None
        if request.method in SAFE_METHODS:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        abort(401, description="Cần đăng nhập trước khi thao tác.")

    @app.before_request
    def check_csrf():
        if request.method in SAFE_METHODS:
            return None
        sent = request.form.get(CSRF_FIELD, "") or request.headers.get("X-CSRF-Token", "")
        expected = session.get("csrf", "")
        if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            abort(400, description="Phiên làm việc đã hết hạn hoặc yêu cầu không đến từ trang này "
                                   "(thiếu mã bảo vệ CSRF). Hãy tải lại trang rồi thao tác lại.")
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

    @app.route("/login", methods=["GET", "POST"])
    def login():
        password = current_app.config["OUTREACH_PASSWORD"]
        target = safe_next(request.values.get("next"), url_for("views.campaigns"))
        if not password:
            return redirect(target)
        error, status = "", 200
        if request.method == "POST":
            address = request.remote_addr or "?"
            if failures.locked(address):
                error, status = "Nhập sai mật khẩu quá nhiều lần. Chờ 5 phút rồi thử lại.", 429
            elif hmac.compare_digest(request.form.get("password", "").encode(), password.encode()):
                failures.clear(address)
                session.clear()
                session["authenticated"] = True
                csrf_token()
                return redirect(target)
            else:
                failures.add(address)
                error, status = "Mật khẩu không đúng.", 401
        return render_template("login.html", error=error, next=target), status

    @app.post("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))
