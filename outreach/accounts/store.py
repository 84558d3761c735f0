"""The staff accounts (``outbox/accounts.sqlite``): logins, roles, password hashes, open sessions.

* An account has a login, a full name (what records show), roles and a scrypt password hash; it is
  disabled, never deleted, so every record naming it keeps meaning something.
* A web session is a random token in the browser's cookie and its sha256 here: logging out, a
  password change (the account's other sessions), disabling the account and inactivity end it on
  the server, so a copied cookie stops working at once.
* ``changes`` is append-only (triggers refuse UPDATE and DELETE): who added, disabled, enabled,
  changed the roles or the password of an account, when, from where.
* At least one enabled administrator always remains: the last one cannot be disabled or lose the
  role, so the accounts can always be managed from the browser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..errors import UserError
from ..sqlitedb import transaction
from .passwords import MIN_LENGTH, dummy_hash, hash_password, verify_password


class Role(StrEnum):
    """What an account may do besides reading. Values are stored: renaming one orphans accounts."""

    DRAFTER = "drafter"  # campaigns, lists, templates, build, test copies
    APPROVER = "approver"  # approve, revoke
    SENDER = "sender"  # issue the number, send and schedule, pause, resume, resolve, paper letters posted
    ADMIN = "admin"  # accounts


ROLE_LABELS: dict[Role, str] = {
    Role.DRAFTER: "Soạn thảo",
    Role.APPROVER: "Duyệt",
    Role.SENDER: "Gửi / văn thư",
    Role.ADMIN: "Quản trị",
}

LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
SESSION_TOUCH_S = 30  # how stale a session's last-seen time may get before a request rewrites it


@dataclass(frozen=True)
class Actor:
    """Who did something, as the ledger and the register record it."""

    name: str  # the full name records show: an account's, or (no accounts exist) the name typed in
    login: str = ""  # the account; "" for a typed name
    source: str = ""  # where from: "web 192.0.2.7", "cli nva" (the operating-system user)

    def __str__(self) -> str:  # a sentence names the person ("người duyệt: Nguyễn Văn A")
        return self.name


@dataclass(frozen=True)
class Account:
    login: str
    name: str
    roles: frozenset[Role]
    disabled: bool
    created_at: str

    def can(self, role: Role) -> bool:
        return role in self.roles

    def actor(self, source: str) -> Actor:
        return Actor(self.name, self.login, source)

    @property
    def role_labels(self) -> str:
        return ", ".join(ROLE_LABELS[role] for role in Role if role in self.roles)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    login TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,            -- space-separated Role values
    password TEXT NOT NULL,         -- scrypt$…, see passwords.py
    disabled_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES accounts (login),
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sessions_by_login ON sessions (login);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    login TEXT NOT NULL,            -- the account changed
    action TEXT NOT NULL,           -- added, disabled, enabled, roles, password
    detail TEXT NOT NULL DEFAULT '',
    by_login TEXT NOT NULL,
    by_name TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS changes_no_update BEFORE UPDATE ON changes
    BEGIN SELECT RAISE(ABORT, 'changes are append-only'); END;
CREATE TRIGGER IF NOT EXISTS changes_no_delete BEFORE DELETE ON changes
    BEGIN SELECT RAISE(ABORT, 'changes are append-only'); END;
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def check_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN_PATTERN.fullmatch(login):
        raise UserError(f"Tên đăng nhập '{login}' không hợp lệ. Cách sửa: dùng tối đa 64 ký tự chữ không dấu, "
                        "chữ số, dấu chấm, @, gạch ngang hoặc gạch dưới, ví dụ 'nguyenvana' hoặc 'van.thu'.")
    return login


def check_name(name: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", name).split())
    if not name or len(name) > 120:
        raise UserError("Cần ghi họ và tên đầy đủ của người dùng tài khoản (tối đa 120 ký tự), "
                        "ví dụ --name \"Nguyễn Văn A\": tên này được ghi vào hồ sơ gửi thư.")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise UserError(f"Mật khẩu quá ngắn. Cách sửa: dùng ít nhất {MIN_LENGTH} ký tự.")
    return password


def check_roles(roles: Iterable[str]) -> frozenset[Role]:
    chosen: set[Role] = set()
    for value in roles:
        try:
            chosen.add(Role(value))
        except ValueError:
            raise UserError(f"Vai trò '{value}' không có. Cách sửa: chọn trong "
                            + ", ".join(f"{role} ({ROLE_LABELS[role].lower()})" for role in Role) + ".") from None
    if not chosen:
        raise UserError("Cần ít nhất một vai trò (--role drafter, approver, sender hoặc admin).")
    return frozenset(chosen)


def _account(row: sqlite3.Row) -> Account:
    return Account(row["login"], row["name"], frozenset(Role(r) for r in row["roles"].split()),
                   row["disabled_at"] is not None, row["created_at"])


class Accounts:
    """The account store of one working folder; every method opens its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    # ------------------------------------------------------------------ reading

    def exist(self) -> bool:
        """Whether any account was ever created (then every staff page needs a login)."""
        if not self.path.exists():
            return False
        with self._db(write=False) as db:
            return db.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None

    def get(self, login: str) -> Account | None:
        if not self.path.exists():
            return None
        with self._db(write=False) as db:
            row = db.execute("SELECT * FROM accounts WHERE login = ?", (login.strip().lower(),)).fetchone()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        if not self.path.exists():
            return []
        with self._db(write=False) as db:
            return [_account(row) for row in db.execute("SELECT * FROM accounts ORDER BY login")]

    def acting(self, login: str, role: Role, source: str) -> Actor:
        """The account a command names (``--by LOGIN``), if it is enabled and has the role."""
        account = self.get(login)
        if account is None:
            known = ", ".join(a.login for a in self.all() if not a.disabled and a.can(role))
            raise UserError(f"Không có tài khoản '{login}'. Khi đã có tài khoản, --by ghi tên đăng nhập của người "
                            f"thực hiện (có vai trò {role}: {known or 'chưa có ai'}). "
                            "Cách sửa: xem 'outreach user list'.")
        if account.disabled:
            raise UserError(f"Tài khoản '{account.login}' đã bị khóa, không thực hiện được thao tác này.")
        if not account.can(role):
            raise UserError(f"Tài khoản '{account.login}' ({account.name}) không có vai trò {role} "
                            f"({ROLE_LABELS[role].lower()}) cần cho thao tác này. Cách sửa: người quản trị thêm "
                            "vai trò cho tài khoản, hoặc dùng tài khoản của người được giao việc.")
        return account.actor(source)

    # ------------------------------------------------------------------ changes

    def add(self, login: str, name: str, roles: Iterable[str], password: str, by: Actor) -> Account:
        login, name, chosen = check_login(login), check_name(name), check_roles(roles)
        hashed = hash_password(check_password(password))
        with self._db() as db:
            if db.execute("SELECT 1 FROM accounts WHERE login = ?", (login,)).fetchone():
                raise UserError(f"Đã có tài khoản '{login}'. Cách sửa: chọn tên đăng nhập khác, hoặc đổi mật khẩu "
                                f"bằng 'outreach user passwd {login}'.")
            at = _iso(_now())
            db.execute("INSERT INTO accounts (login, name, roles, password, created_at) VALUES (?, ?, ?, ?, ?)",
                       (login, name, _roles_text(chosen), hashed, at))
            _change(db, at, login, "added", f"{name}; {_roles_text(chosen)}", by)
        account = self.get(login)
        assert account is not None
        return account

    def set_password(self, login: str, password: str, by: Actor, keep_session: str | None = None) -> None:
        """A new password; every session of the account ends, except ``keep_session`` (the changer's own)."""
        hashed = hash_password(check_password(password))
        with self._db() as db:
            login = self._must(db, login).login
            db.execute("UPDATE accounts SET password = ? WHERE login = ?", (hashed, login))
            db.execute("DELETE FROM sessions WHERE login = ? AND token_sha256 != ?",
                       (login, _digest(keep_session) if keep_session else ""))
            _change(db, _iso(_now()), login, "password", "", by)

    def set_roles(self, login: str, roles: Iterable[str], by: Actor) -> None:
        chosen = check_roles(roles)
        with self._db() as db:
            account = self._must(db, login)
            if account.can(Role.ADMIN) and Role.ADMIN not in chosen:
                self._keep_an_admin(db, account)
            db.execute("UPDATE accounts SET roles = ? WHERE login = ?", (_roles_text(chosen), account.login))
            _change(db, _iso(_now()), account.login, "roles", _roles_text(chosen), by)

    def disable(self, login: str, by: Actor) -> None:
        with self._db() as db:
            account = self._must(db, login)
            if account.disabled:
                raise UserError(f"Tài khoản '{account.login}' đã bị khóa từ trước.")
            if account.can(Role.ADMIN):
                self._keep_an_admin(db, account)
            at = _iso(_now())
            db.execute("UPDATE accounts SET disabled_at = ? WHERE login = ?", (at, account.login))
            db.execute("DELETE FROM sessions WHERE login = ?", (account.login,))
            _change(db, at, account.login, "disabled", "", by)

    def enable(self, login: str, by: Actor) -> None:
        with self._db() as db:
            account = self._must(db, login)
            if not account.disabled:
                raise UserError(f"Tài khoản '{account.login}' đang hoạt động, không cần mở khóa.")
            db.execute("UPDATE accounts SET disabled_at = NULL WHERE login = ?", (account.login,))
            _change(db, _iso(_now()), account.login, "enabled", "", by)

    # ------------------------------------------------------------------ logins and sessions

    def authenticate(self, login: str, password: str) -> Account | None:
        """The account, if the password is right and the account enabled; as slow for an unknown login."""
        row = None
        if self.path.exists():
            with self._db(write=False) as db:
                row = db.execute("SELECT * FROM accounts WHERE login = ?", (login.strip().lower(),)).fetchone()
        if row is None:
            verify_password(password, dummy_hash())
            return None
        if not verify_password(password, row["password"]) or row["disabled_at"] is not None:
            return None
        return _account(row)

    def start_session(self, login: str, address: str, now: dt.datetime | None = None) -> str:
        """A new session token for the browser's cookie (only its sha256 is kept)."""
        token = secrets.token_urlsafe(32)
        at = _iso(now or _now())
        with self._db() as db:
            db.execute("INSERT INTO sessions (token_sha256, login, created_at, seen_at, address) VALUES (?, ?, ?, ?, ?)",
                       (_digest(token), login, at, at, address))
        return token

    def session_account(self, token: str, idle_s: float, now: dt.datetime | None = None, *,
                        touch: bool = True) -> Account | None:
        """The enabled account of a live session; a session idle longer than ``idle_s`` is ended.
        ``touch``: this request counts as activity (a page polling by itself does not)."""
        if not token or not self.path.exists():
            return None
        now = now or _now()
        digest = _digest(token)
        with self._db(write=False) as db:
            row = db.execute("SELECT a.*, s.seen_at FROM sessions s JOIN accounts a ON a.login = s.login "
                             "WHERE s.token_sha256 = ?", (digest,)).fetchone()
        if row is None:
            return None
        idle = (now - dt.datetime.fromisoformat(row["seen_at"])).total_seconds()
        if idle > idle_s or row["disabled_at"] is not None:
            self.end_session(token)
            return None
        if touch and idle > SESSION_TOUCH_S:
            with self._db() as db:
                db.execute("UPDATE sessions SET seen_at = ? WHERE token_sha256 = ?", (_iso(now), digest))
        return _account(row)

    def end_session(self, token: str) -> None:
        if token and self.path.exists():
            with self._db() as db:
                db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_digest(token),))

    # ------------------------------------------------------------------ internals

    def _db(self, write: bool = True):
        """A transaction on the store, its tables made first (the first change creates the file)."""
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                db.executescript(_SCHEMA)
            self._ready = True
        return transaction(self.path, write)

    @staticmethod
    def _must(db: sqlite3.Connection, login: str) -> Account:
        row = db.execute("SELECT * FROM accounts WHERE login = ?", (login.strip().lower(),)).fetchone()
        if row is None:
            raise UserError(f"Không có tài khoản '{login}'. Cách sửa: xem danh sách bằng 'outreach user list'.")
        return _account(row)

    @staticmethod
    def _keep_an_admin(db: sqlite3.Connection, account: Account) -> None:
        others = [row["roles"] for row in db.execute(
            "SELECT roles FROM accounts WHERE disabled_at IS NULL AND login != ?", (account.login,))]
        if not account.disabled and not any(Role.ADMIN in roles.split() for roles in others):
            raise UserError(f"'{account.login}' là người quản trị cuối cùng: không khóa hay bỏ quyền quản trị được, "
                            "nếu không sẽ không ai quản lý được tài khoản. Cách sửa: cấp quyền quản trị "
                            "(--role admin) cho một tài khoản khác trước.")


def _roles_text(roles: Iterable[Role]) -> str:
    return " ".join(role.value for role in Role if role in set(roles))


def _change(db: sqlite3.Connection, at: str, login: str, action: str, detail: str, by: Actor) -> None:
    db.execute("INSERT INTO changes (at, login, action, detail, by_login, by_name, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (at, login, action, detail, by.login, by.name, by.source))
