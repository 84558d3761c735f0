"""Staff accounts in the browser: administrators add, disable, enable, reset a password and change
roles; everyone changes their own password. Every change is recorded under the acting account."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, redirect, render_template, request, session, url_for

from ...accounts import Account, Accounts, Role
from ...errors import UserError
from ..auth import account_store, current_account, requires
from ._request import acting_person, bp, flash_outcome


@bp.before_request
def _accounts_exist() -> None:
    """Without any account there is nobody to manage: the first one is made on the server (CLI)."""
    if request.endpoint and request.endpoint.startswith(("views.account", "views.own_")) and current_account() is None:
        abort(404, description="Chưa có tài khoản cán bộ nào. Người quản trị máy chủ tạo tài khoản đầu tiên bằng "
                               "lệnh 'outreach user add TÊN --name \"Họ và tên\" --role admin'.")


def _me() -> Account:
    account = current_account()
    assert account is not None  # _accounts_exist
    return account


def _new_password() -> str:
    password = request.form.get("password", "")
    if password != request.form.get("password2", ""):
        raise UserError("Hai lần nhập mật khẩu mới không khớp. Nhập lại cho giống nhau.")
    return password


@bp.get("/accounts")
@requires(Role.ADMIN)
def accounts():
    return render_template("accounts.html", accounts=account_store().all(), roles=list(Role))


def _admin_change(action: Callable[[], str]) -> Response:
    flash_outcome(action)
    return redirect(url_for("views.accounts"))


@bp.post("/accounts")
@requires(Role.ADMIN)
def account_add():
    def run() -> str:
        account = account_store().add(request.form.get("login", ""), request.form.get("name", ""),
                                      request.form.getlist("role"), _new_password(), acting_person())
        return f"Đã tạo tài khoản {account.login} ({account.name}), vai trò: {account.role_labels}."

    return _admin_change(run)


@bp.post("/accounts/<login>/roles")
@requires(Role.ADMIN)
def account_roles(login: str):
    def run() -> str:
        store = account_store()
        store.set_roles(login, request.form.getlist("role"), acting_person())
        return f"Vai trò của {login} bây giờ là: {store.get(login).role_labels}."

    return _admin_change(run)


@bp.post("/accounts/<login>/password")
@requires(Role.ADMIN)
def account_password(login: str):
    def run() -> str:
        own = login == _me().login
        account_store().set_password(login, _new_password(), acting_person(),
                                     keep_session=session.get("sid") if own else None)
        return f"Đã đặt mật khẩu mới cho {login}; các phiên đăng nhập khác của tài khoản này đã kết thúc."

    return _admin_change(run)


_SWITCHES = {  # what an administrator switches on an account, and what the page then says
    "disable": (Accounts.disable, "Đã khóa tài khoản {login}; các phiên đăng nhập của tài khoản này đã kết thúc."),
    "enable": (Accounts.enable, "Đã mở khóa tài khoản {login}."),
}


@bp.post("/accounts/<login>/<any(disable, enable):switch>")
@requires(Role.ADMIN)
def account_switch(login: str, switch: str):
    change, done = _SWITCHES[switch]

    def run() -> str:
        change(account_store(), login, acting_person())
        return done.format(login=login)

    return _admin_change(run)


@bp.get("/account")
@requires()
def own_account():
    return render_template("account.html", account=_me())


@bp.post("/account/password")
@requires()
def own_password():
    def run() -> str:
        account = _me()
        store = account_store()
        if store.authenticate(account.login, request.form.get("current", "")) is None:
            raise UserError("Mật khẩu hiện tại không đúng. Không có gì thay đổi.")
        store.set_password(account.login, _new_password(), acting_person(), keep_session=session.get("sid"))
        return "Đã đổi mật khẩu. Các phiên đăng nhập khác của tài khoản (trên máy khác) đã kết thúc."

    flash_outcome(run)
    return redirect(url_for("views.own_account"))
