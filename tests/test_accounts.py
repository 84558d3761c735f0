"""Staff accounts: the `outreach user` commands (run as a member of staff would, in a subprocess),
the account store's rules, and `--by` on the command line once accounts exist."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from outreach.accounts import PASSWORD_ENV, Accounts, Actor, Role
from outreach.delivery import Ledger
from outreach.errors import UserError
from outreach.workspace import Workspace

from test_web import CAMPAIGN, build_workspace

REPO = Path(__file__).resolve().parent.parent
SETUP = Actor("người cài đặt", "", "cli root")


def run(root: Path, *args: str, password: str | None = "mật-khẩu-đủ-dài", stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    if password is not None:
        env[PASSWORD_ENV] = password
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "outreach.cli", "--root", str(root), *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def office(tmp_path: Path) -> Path:
    root = tmp_path / "office"
    root.mkdir()
    shutil.copy(REPO / "config.toml", root / "config.toml")
    return root


def test_user_commands(office: Path) -> None:
    listed = run(office, "user", "list")
    assert listed.returncode == 0 and "Chưa có tài khoản nào" in listed.stdout
    added = run(office, "user", "add", "duyet", "--name", "Nguyễn  Thị Duyệt", "--role", "approver", "--role", "admin")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Đã tạo tài khoản duyet (Nguyễn Thị Duyệt), vai trò: Duyệt, Quản trị."
    assert run(office, "user", "add", "soan", "--name", "Phạm Văn Soạn", "--role", "drafter").returncode == 0
    assert run(office, "user", "list").stdout.splitlines() == [
        "duyet\tNguyễn Thị Duyệt\tadmin approver\tđang hoạt động",
        "soan\tPhạm Văn Soạn\tdrafter\tđang hoạt động",
    ]
    accounts = Accounts(Workspace(office).accounts)
    assert accounts.authenticate("duyet", "mật-khẩu-đủ-dài") is not None
    assert b"m\xe1\xba\xadt-kh" not in Workspace(office).accounts.read_bytes()  # only the hash is stored

    again = run(office, "user", "add", "duyet", "--name", "X", "--role", "drafter")
    assert again.returncode == 2 and "Đã có tài khoản 'duyet'" in again.stderr and "Traceback" not in again.stderr
    short = run(office, "user", "add", "ngan", "--name", "X", "--role", "drafter", password="123")
    assert short.returncode == 2 and "Mật khẩu quá ngắn" in short.stderr
    bad = run(office, "user", "add", "Tên Có Dấu", "--name", "X", "--role", "drafter")
    assert bad.returncode == 2 and "Tên đăng nhập" in bad.stderr
    role = run(office, "user", "add", "x1", "--name", "X", "--role", "boss")
    assert role.returncode == 2 and "lựa chọn 'boss' không hợp lệ" in role.stderr

    last = run(office, "user", "disable", "duyet")
    assert last.returncode == 2 and "người quản trị cuối cùng" in last.stderr
    assert run(office, "user", "disable", "soan").returncode == 0
    assert "soan\tPhạm Văn Soạn\tdrafter\tđã khóa" in run(office, "user", "list").stdout
    assert accounts.authenticate("soan", "mật-khẩu-đủ-dài") is None
    assert run(office, "user", "enable", "soan").returncode == 0

    changed = run(office, "user", "passwd", "soan", password="mật-khẩu-mới-hơn")
    assert changed.returncode == 0 and accounts.authenticate("soan", "mật-khẩu-mới-hơn") is not None
    typed = run(office, "user", "passwd", "soan", password=None, stdin="gõ-hai-lần-1\ngõ-hai-lần-1\n")
    assert typed.returncode == 0 and accounts.authenticate("soan", "gõ-hai-lần-1") is not None
    mismatch = run(office, "user", "passwd", "soan", password=None, stdin="gõ-hai-lần-1\ngõ-khác-đi-2\n")
    assert mismatch.returncode == 2 and "không khớp" in mismatch.stderr
    nothing = run(office, "user", "passwd", "soan", password=None)
    assert nothing.returncode == 2 and PASSWORD_ENV in nothing.stderr and "Traceback" not in nothing.stderr
    assert run(office, "user", "roles", "soan", "--role", "sender").returncode == 0
    assert accounts.get("soan").roles == {Role.SENDER}
    with closing(sqlite3.connect(Workspace(office).accounts)) as db:
        actions = [row[0] for row in db.execute("SELECT action FROM changes WHERE login = 'soan' ORDER BY id")]
        source = db.execute("SELECT source FROM changes LIMIT 1").fetchone()[0]
    assert actions == ["added", "disabled", "enabled", "password", "password", "roles"]
    assert source.startswith("cli ")


def test_four_eyes_on_the_command_line(built: Path, tmp_path: Path) -> None:
    """Whoever ran a build of a campaign approves none of its letters, unless [web] four_eyes = false."""
    root = tmp_path / "ws"
    shutil.copytree(built, root)
    accounts = Accounts(Workspace(root).accounts)
    accounts.add("ca-hai", "Đỗ Văn Cả Hai", ["drafter", "approver"], "mật-khẩu-đủ-dài", SETUP)
    accounts.add("duyet", "Nguyễn Thị Duyệt", ["approver"], "mật-khẩu-đủ-dài", SETUP)
    assert run(root, "build", CAMPAIGN, "--by", "duyet", "--only", "UHR562T").returncode == 2  # not a drafter
    built_now = run(root, "build", CAMPAIGN, "--by", "ca-hai", "--only", "UHR562T")
    assert built_now.returncode == 0, built_now.stderr
    own = run(root, "approve", CAMPAIGN, "--by", "ca-hai", "--all")
    assert own.returncode == 2 and "không được tự duyệt" in own.stderr and "Traceback" not in own.stderr
    with Ledger.open(root) as ledger:
        assert ledger.deliveries(CAMPAIGN) == {}
        (build,) = [e for e in ledger.events(CAMPAIGN) if e.login]
    assert (build.to_state, build.actor, build.source) == ("built", "Đỗ Văn Cả Hai", f"cli {getpass.getuser()}")
    assert run(root, "approve", CAMPAIGN, "--by", "duyet", "--all").returncode == 0  # another person may
    assert run(root, "revoke", CAMPAIGN, "--by", "duyet", "--all").returncode == 0
    config = Workspace(root).config_file
    config.write_text(config.read_text(encoding="utf-8") + "\n[web]\nfour_eyes = false\n", encoding="utf-8")
    assert run(root, "approve", CAMPAIGN, "--by", "ca-hai", "--all").returncode == 0


def test_the_last_administrator_stays(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("a", "Quản Trị A", ["admin"], "mật-khẩu-đủ-dài", SETUP)
    for change in (lambda: accounts.disable("a", SETUP), lambda: accounts.set_roles("a", ["sender"], SETUP)):
        with pytest.raises(UserError, match="người quản trị cuối cùng"):
            change()
    accounts.add("b", "Quản Trị B", ["admin"], "mật-khẩu-đủ-dài", SETUP)
    accounts.disable("b", SETUP)
    with pytest.raises(UserError, match="người quản trị cuối cùng"):  # a disabled administrator does not count
        accounts.set_roles("a", ["sender"], SETUP)
    accounts.enable("b", SETUP)
    accounts.set_roles("a", ["sender"], SETUP)
    assert not accounts.get("a").can(Role.ADMIN)


def test_sessions_live_on_the_server(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("a", "Người A", ["approver"], "mật-khẩu-đủ-dài", SETUP)
    start = dt.datetime(2023, 1, 2, 8, 0, tzinfo=dt.timezone.utc)
    token = accounts.start_session("a", "192.0.2.1", start)
    assert accounts.session_account(token, 600, start + dt.timedelta(minutes=9)).login == "a"
    assert accounts.session_account(token, 600, start + dt.timedelta(minutes=18)).login == "a"  # kept alive
    assert accounts.session_account(token, 600, start + dt.timedelta(minutes=29)) is None  # idle 11 minutes
    assert accounts.session_account(token, 600, start + dt.timedelta(minutes=1)) is None  # and gone for good
    polled = accounts.start_session("a", "192.0.2.1", start)
    assert accounts.session_account(polled, 600, start + dt.timedelta(minutes=9), touch=False) is not None
    assert accounts.session_account(polled, 600, start + dt.timedelta(minutes=11)) is None  # polling is not activity
    mine, other = accounts.start_session("a", "x"), accounts.start_session("a", "y")
    accounts.set_password("a", "mật-khẩu-mới-hơn", SETUP, keep_session=mine)
    assert accounts.session_account(mine, 600) is not None and accounts.session_account(other, 600) is None
    with closing(sqlite3.connect(tmp_path / "accounts.sqlite")) as db:
        assert mine not in str(db.execute("SELECT * FROM sessions").fetchall())  # only its sha256 is kept
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM changes")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("built") / "ws")


def test_by_names_an_account_with_the_role_once_accounts_exist(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(built, root)
    accounts = Accounts(Workspace(root).accounts)
    accounts.add("duyet", "Nguyễn Thị Duyệt", ["approver"], "mật-khẩu-đủ-dài", SETUP)
    accounts.add("soan", "Phạm Văn Soạn", ["drafter"], "mật-khẩu-đủ-dài", SETUP)
    typed = run(root, "approve", CAMPAIGN, "--by", "Mickey Mouse", "--only", "UHR562T")
    assert typed.returncode == 2 and "Không có tài khoản 'Mickey Mouse'" in typed.stderr and "duyet" in typed.stderr
    drafter = run(root, "approve", CAMPAIGN, "--by", "soan", "--only", "UHR562T")
    assert drafter.returncode == 2 and "không có vai trò approver" in drafter.stderr
    resume = run(root, "resume", CAMPAIGN, "--by", "duyet")
    assert resume.returncode == 2 and "không có vai trò sender" in resume.stderr
    with Ledger.open(root) as ledger:
        assert ledger.deliveries(CAMPAIGN) == {} and [e for e in ledger.events(CAMPAIGN) if e.key] == []
    approved = run(root, "approve", CAMPAIGN, "--by", "duyet", "--only", "UHR562T")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith("Nguyễn Thị Duyệt đã duyệt 1 thư")
    with Ledger.open(root) as ledger:
        (event,) = ledger.events(CAMPAIGN, "employers/UHR562T")
        assert ledger.delivery(CAMPAIGN, "employers/UHR562T").approved_by == "Nguyễn Thị Duyệt"
    assert (event.actor, event.login) == ("Nguyễn Thị Duyệt", "duyet")
    assert event.source == f"cli {getpass.getuser()}"  # the account and the operating-system user who ran it
    accounts.disable("duyet", SETUP)
    disabled = run(root, "revoke", CAMPAIGN, "--by", "duyet", "--all")
    assert disabled.returncode == 2 and "đã bị khóa" in disabled.stderr
