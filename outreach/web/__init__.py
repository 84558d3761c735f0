"""The staff web page (``outreach serve``): preview, approve and follow campaigns in a browser.

A small Flask application over the same modules the command line uses: the manifest says what was
built, the ledger says what was approved and sent, and every change goes through ``delivery``
(approve, revoke, resolve, test copy), so the web page can do nothing the CLI would refuse.

Safety (see :mod:`outreach.web.security`): every state-changing request is a POST carrying the
session's CSRF token; without a password only loopback host names are answered (no DNS
rebinding); a password (``OUTREACH_WEB_PASSWORD``) is required to listen beyond 127.0.0.1;
templates autoescape everything, and the e-mail's HTML body is shown in a sandboxed frame.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from flask import Flask

from ..errors import UserError

PASSWORD_ENV = "OUTREACH_WEB_PASSWORD"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def create_app(root: Path, *, password: str | None = None, testing: bool = False) -> Flask:
    """The application for one working folder. ``password``: require a login (any host name)."""
    from . import security
    from . import views
    from .jobs import BuildJobs, default_build
    from .store import Store

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # sessions last as long as the server process
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        OUTREACH_ROOT=Path(root).resolve(),
        OUTREACH_PASSWORD=password or None,
        OUTREACH_BUILD=default_build,  # (config, campaign name) -> BuildReport; tests may replace it
        OUTREACH_ALLOWED_HOSTS={"localhost", "127.0.0.1", "[::1]"},
        OUTREACH_POLL_MS=3000,  # how often the sending page asks for progress
    )
    app.jinja_env.autoescape = True  # also for templates not ending in .html
    app.extensions["outreach_store"] = Store(app.config["OUTREACH_ROOT"])
    app.extensions["outreach_jobs"] = BuildJobs(app)
    security.init_app(app)
    views.init_app(app)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_for_host(root: Path, host: str) -> Flask:
    """The application ``serve`` runs: a password is required to listen beyond loopback."""
    password = os.environ.get(PASSWORD_ENV) or None
    if not is_loopback(host) and not password:
        raise UserError(
            f"Trang web chỉ được mở cho máy khác (--host {host}) khi có mật khẩu. Cách sửa: đặt mật khẩu vào "
            f"biến môi trường {PASSWORD_ENV} rồi chạy lại, hoặc bỏ --host để chỉ dùng trên máy này (127.0.0.1)."
        )
    app = create_app(root, password=password)
    if not is_loopback(host):
        app.config["OUTREACH_ALLOWED_HOSTS"] = None  # reached by any name; the password protects it
    elif host not in ("localhost", "127.0.0.1"):
        app.config["OUTREACH_ALLOWED_HOSTS"] = app.config["OUTREACH_ALLOWED_HOSTS"] | {host}
    return app


def serve(root: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until Ctrl-C (a threaded Werkzeug server: a few staff at a time)."""
    from werkzeug.serving import make_server

    app = app_for_host(root, host)
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as error:
        raise UserError(f"Không mở được cổng {port} trên {host} ({error.strerror or error}). "
                        "Cách sửa: chọn cổng khác bằng --port, ví dụ --port 8080.") from None
    shown = f"[{host}]" if ":" in host else host
    print(f"Trang web outreach đang chạy tại http://{shown}:{server.port}/ "
          f"(thư mục làm việc {app.config['OUTREACH_ROOT']}). Nhấn Ctrl-C để dừng.", flush=True)
    if app.config["OUTREACH_PASSWORD"]:
        print(f"Cần đăng nhập bằng mật khẩu trong biến môi trường {PASSWORD_ENV}.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Đã dừng trang web.")
    finally:
        server.server_close()
