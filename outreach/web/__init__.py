"""The staff web page (``outreach serve``): preview, approve and follow campaigns in a browser.

A small Flask application over the same modules the command line uses: the manifest says what was
built, the ledger says what was approved and sent, and every change goes through ``delivery``
(approve, revoke, resolve, test copy), so the web page can do nothing the CLI would refuse.

Safety (see :mod:`outreach.web.security` and :mod:`outreach.web.auth`): every state-changing
request is a POST carrying the session's CSRF token; once staff accounts exist every page needs a
login and every action its role; without accounts only loopback host names are answered (no DNS
rebinding), and listening beyond 127.0.0.1 needs an administrator account; templates autoescape
everything, and the e-mail's HTML body is shown in a sandboxed frame. :mod:`outreach.web.server`
serves it with waitress (a production WSGI server), or over TLS with a bounded server of its own
when given a certificate; both stop cleanly on SIGTERM.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from ..accounts import Accounts, Role
from ..config import load_config
from ..errors import UserError
from ..workspace import Workspace

RETIRED_PASSWORD_ENV = "OUTREACH_WEB_PASSWORD"  # the single shared password, replaced by accounts
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def create_app(root: Path, *, testing: bool = False, secure: bool = False, accounts_required: bool = False) -> Flask:
    """The application for one working folder. ``secure``: served over HTTPS (Secure cookies);
    ``accounts_required``: refuse every page while no account exists (served beyond loopback)."""
    from . import auth, security, views
    from .jobs import APPROVE, BUILD, SEND, Jobs, default_approve, default_build, default_send
    from .reachability import ServerProbe
    from .scheduling import PageScheduler
    from .store import Store

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # cookies last as long as the server process
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        OUTREACH_ROOT=Path(root).resolve(),
        OUTREACH_ACCOUNTS_REQUIRED=accounts_required,
        OUTREACH_SESSION_IDLE_S=auth.SESSION_IDLE_S,
        OUTREACH_BUILD=default_build,  # (config, campaign name, by=actor, on_step=…) -> BuildReport; tests may replace it
        OUTREACH_APPROVE=default_approve,  # (config, campaign name, by=…, keys=…, four_eyes=…, on_step=…) -> deliveries
        OUTREACH_APPROVE_IN_BACKGROUND=200,  # approving more letters than this at once runs as a job, with a count
        OUTREACH_SEND=default_send,  # (config, campaign name, retry_now=…, by=…) -> SendReport; the same
        OUTREACH_ALLOWED_HOSTS={"localhost", "127.0.0.1", "[::1]"},
        OUTREACH_POLL_MS=3000,  # how often the sending page (and a running build's or approval's) asks for progress
        OUTREACH_RECEIPT_LIMIT=(30, 600.0),  # requests to the confirmation page per client address, per seconds
    )
    app.jinja_env.autoescape = True  # also for templates not ending in .html
    app.extensions["outreach_store"] = Store(app.config["OUTREACH_ROOT"])
    drafts = threading.RLock()  # a build and an approval of one campaign never run together
    app.extensions["outreach_jobs"] = Jobs(app, BUILD, drafts)
    app.extensions["outreach_approve_jobs"] = Jobs(app, APPROVE, drafts)
    app.extensions["outreach_jobs"].rival(app.extensions["outreach_approve_jobs"])
    app.extensions["outreach_send_jobs"] = Jobs(app, SEND)
    app.extensions["outreach_probe"] = ServerProbe()
    app.extensions["outreach_page_scheduler"] = PageScheduler(app.config["OUTREACH_ROOT"])
    security.init_app(app)
    auth.init_app(app)
    views.init_app(app)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_for_host(root: Path, host: str, *, secure: bool = False) -> Flask:
    """The application ``serve`` runs: beyond loopback only once an administrator account exists."""
    if os.environ.get(RETIRED_PASSWORD_ENV):
        raise UserError(
            f"Mật khẩu chung {RETIRED_PASSWORD_ENV} không còn được dùng: mỗi cán bộ có tài khoản riêng. Cách sửa: "
            "tạo tài khoản quản trị bằng 'outreach user add TÊN --name \"Họ và tên\" --role admin', tạo tài khoản "
            f"cho từng người (vai trò drafter, approver, sender), rồi bỏ biến {RETIRED_PASSWORD_ENV} và chạy lại."
        )
    remote = not is_loopback(host)
    if remote and not any(a.can(Role.ADMIN) and not a.disabled for a in Accounts(Workspace(Path(root)).accounts).all()):
        raise UserError(
            f"Trang web chỉ được mở cho máy khác (--host {host}) khi đã có tài khoản quản trị. Cách sửa: chạy "
            "'outreach user add TÊN --name \"Họ và tên\" --role admin', rồi chạy lại; hoặc bỏ --host để chỉ dùng "
            "trên máy này (127.0.0.1)."
        )
    app = create_app(root, secure=secure, accounts_required=remote)
    if remote:
        app.config["OUTREACH_ALLOWED_HOSTS"] = None  # reached by any name; the accounts protect it
    else:
        # Recipients reach the confirmation page by [web] public_url's name, through the office's
        # reverse proxy; a config.toml that does not load is reported by every page anyway.
        try:
            public = urlsplit(load_config(Path(root)).web.public_url).hostname
        except UserError:
            public = None
        names = {host} - {"localhost", "127.0.0.1"} | ({public} if public else set())
        app.config["OUTREACH_ALLOWED_HOSTS"] = app.config["OUTREACH_ALLOWED_HOSTS"] | names
    return app


def serve(root: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          cert: Path | None = None, key: Path | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM; over HTTPS with ``cert`` (and ``key``, unless the certificate
    file holds it too)."""
    from .server import run

    context = None
    if cert is not None:
        from .server import tls_context

        context = tls_context(cert, key)
    elif key is not None:
        raise UserError("--key cần đi cùng --cert (tệp chứng chỉ). Cách sửa: thêm --cert TỆP.pem.")
    app = app_for_host(root, host, secure=context is not None)
    run(app, host, port, context)
