"""Logins, sessions and roles of the staff web page (the accounts: :mod:`outreach.accounts`).

* No account in the working folder: no login. The page is served on this machine only (loopback)
  and an action records the name typed into «Người thực hiện»: one person at their own computer.
* Once any account exists, every page but the login form, the static files and
  :data:`PUBLIC_ENDPOINTS` (pages meant for recipients) needs a logged-in session, and every action
  is recorded under the account: a name typed into a form is ignored.
* The session cookie holds a random token; the account store keeps its sha256. Logging out, a
  password change (the account's other sessions), disabling the account and :data:`SESSION_IDLE_S`
  of inactivity end the session on the server, so a copied cookie no longer reads or changes anything.
* Roles: each view says who may use it (:func:`requires`). A POST to a view that says nothing is
  refused, so a new action stays closed until someone decides who may use it. A refusal is a 403
  answered before the view runs: nothing changes.
* Guessing: five wrong passwords within five minutes lock the source address, and, separately, the
  login: more addresses do not buy an attacker more guesses at one account.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from ..accounts import ROLE_LABELS, Account, Accounts, Role
from ..workspace import Workspace
from .security import SAFE_METHODS, check_csrf, csrf_token, safe_next

# And the pages meant for recipients: the receipt confirmation, reached by a personal link (its token
# names one letter and shows only its number and subject; see views/receipt.py).
PUBLIC_ENDPOINTS = frozenset({"login", "static", "views.receipt", "views.receipt_confirm"})
# Asked for by an open page on its own (the sending page polls): not a person's activity, so a page
# left open does not keep its session alive for ever.
UNATTENDED_ENDPOINTS = frozenset({"views.progress_json"})
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
SESSION_IDLE_S = 30 * 60

View = TypeVar("View", bound=Callable)


def requires(*roles: Role) -> Callable[[View], View]:
    """Who may use a view: an account with any of ``roles``, or any logged-in account when none are named."""
    def mark(view: View) -> View:
        view.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view
    return mark


def account_store() -> Accounts:
    return current_app.extensions["outreach_accounts"]


def current_account() -> Account | None:
    """The logged-in account of this request (None when no accounts exist, or not logged in)."""
    return g.get("account")


def accounts_on() -> bool:
    """Whether this request runs under accounts (any exists, or the server requires them)."""
    return bool(g.get("accounts_on"))


class _Failures:
    """Recent failed logins per key ("address …", "login …"), forgotten after the window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._times[key]
        while times and now - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        return times

    def locked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= MAX_FAILURES

    def add(self, key: str) -> None:
        with self._lock:
            self._recent(key, time.monotonic()).append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._times.pop(key, None)


def _refusal(account: Account, roles: frozenset[Role]) -> str:
    needed = " hoặc ".join(f"«{ROLE_LABELS[role]}»" for role in Role if role in roles)
    return (f"Tài khoản {account.login} ({account.name}) không được làm việc này: cần vai trò {needed}. "
            "Không có gì thay đổi. Nếu việc này được giao cho anh/chị, hãy đề nghị người quản trị cấp vai trò.")


def init_app(app: Flask) -> None:
    failures = _Failures()
    store = Accounts(Workspace(app.config["OUTREACH_ROOT"]).accounts)
    app.extensions["outreach_accounts"] = store
    app.jinja_env.globals.update(current_account=current_account, accounts_on=accounts_on)

    @app.before_request
    def load_account():
        g.accounts_on = current_app.config["OUTREACH_ACCOUNTS_REQUIRED"] or store.exist()
        g.account = None
        if g.accounts_on:
            g.account = store.session_account(session.get("sid", ""), current_app.config["OUTREACH_SESSION_IDLE_S"],
                                              touch=request.endpoint not in UNATTENDED_ENDPOINTS)
            if g.account is None and "sid" in session:
                session.clear()  # ended on the server (logout, password change, disabled, idle)

    @app.before_request
    def check_login():
        if not g.accounts_on or g.account is not None or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if request.method in SAFE_METHODS:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        abort(401, description="Cần đăng nhập trước khi thao tác. Phiên đăng nhập có thể đã kết thúc; "
                               "hãy đăng nhập lại rồi thao tác lại.")

    @app.before_request
    def check_role():
        account = g.account
        if account is None or request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        roles = getattr(app.view_functions.get(request.endpoint), "required_roles", None)
        if roles is None:
            if request.method in SAFE_METHODS:
                return None
            abort(403, description="Thao tác này chưa được giao cho vai trò nào, nên không ai dùng được. "
                                   "Không có gì thay đổi.")
        if roles and not roles & account.roles:
            abort(403, description=_refusal(account, roles))
        return None

    app.before_request(check_csrf)

    @app.route("/login", methods=["GET", "POST"])
    def login():
        target = safe_next(request.values.get("next"), url_for("views.campaigns"))
        if not g.accounts_on:
            return redirect(target)
        if g.account is not None and request.method == "GET":
            return redirect(target)
        error, status = "", 200
        username = " ".join(request.form.get("username", "").split()).lower()
        if request.method == "POST":
            address = request.remote_addr or "?"
            keys = (f"address {address}", f"login {username}")
            if any(failures.locked(key) for key in keys):
                error, status = "Đăng nhập sai quá nhiều lần. Chờ 5 phút rồi thử lại.", 429
            else:
                account = store.authenticate(username, request.form.get("password", ""))
                if account is not None:
                    # Not the address's count: one valid account must not reset it for endless guesses.
                    failures.clear(keys[1])
                    store.end_session(session.get("sid", ""))
                    session.clear()  # a fresh session: new token, new CSRF token
                    session["sid"] = store.start_session(account.login, address)
                    csrf_token()
                    return redirect(target)
                for key in keys:
                    failures.add(key)
                error, status = "Tên đăng nhập hoặc mật khẩu không đúng (hoặc tài khoản đã bị khóa).", 401
        return render_template("login.html", error=error, next=target, username=username,
                               no_accounts=not store.exist()), status

    @app.post("/logout")
    @requires()
    def logout():
        store.end_session(session.get("sid", ""))
        session.clear()
        return redirect(url_for("login"))
