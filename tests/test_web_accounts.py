"""Staff accounts on the web page, through Flask's test client: logins, roles, sessions, lockout.

One real build per module (test_web.build_workspace) with four accounts, copied for each test.
"""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from openpyxl import load_workbook

from outreach.accounts import Accounts, Actor, Role
from outreach.delivery import Ledger, SmtpSink, approve, write_delivery_report
from outreach.letters.register import Register
from outreach.outbox.build import BuildReport
from outreach.outbox.manifest import read_manifest
from outreach.web import create_app
from outreach.web.auth import MAX_FAILURES, PUBLIC_ENDPOINTS
from outreach.workspace import Workspace

from factories import build
from test_web import CAMPAIGN, ONLY, build_workspace, flashes, make_workspace
from test_web import root  # noqa: F401 (the fixture: a fresh copy of this module's built folder)

STAFF = {  # login: (full name, roles)
    "soan": ("Phạm Văn Soạn", ["drafter"]),
    "duyet": ("Nguyễn Thị Duyệt", ["approver"]),
    "vanthu": ("Lê Thị Văn Thư", ["sender"]),
    "quantri": ("Trần Quản Trị", ["admin"]),
}
KEY = "employers/UHR562T"


def password(login: str) -> str:
    return f"mật-khẩu-của-{login}"


def add_staff(root: Path) -> Accounts:
    accounts = Accounts(Workspace(root).accounts)
    for login, (name, roles) in STAFF.items():
        accounts.add(login, name, roles, password(login), Actor("người cài đặt", "", "cli root"))
    return accounts


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_workspace(tmp_path_factory.mktemp("built") / "ws")
    add_staff(root)
    return root


@pytest.fixture
def app(root: Path):
    return create_app(root, testing=True)


class Person:
    """One browser: its own cookies, its own source address."""

    def __init__(self, app, address: str = "192.0.2.10") -> None:
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address

    def token(self, url: str = "/login") -> str:
        page = self.client.get(url, follow_redirects=True).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, login: str, secret: str | None = None):
        return self.client.post("/login", data={"csrf_token": self.token(), "username": login,
                                                "password": password(login) if secret is None else secret})

    def post(self, url: str, data: dict | None = None, **kwargs):
        fields = {"csrf_token": self.token(f"/campaigns/{CAMPAIGN}"), **(data or {})}
        return self.client.post(url, data=fields, **kwargs)


def signed_in(app, login: str, address: str = "192.0.2.10") -> Person:
    person = Person(app, address)
    response = person.login(login)
    assert response.status_code == 302, response.get_data(as_text=True)
    return person


def deliveries(root: Path) -> dict:
    with Ledger.open(root) as ledger:
        return ledger.deliveries(CAMPAIGN)


SAMPLE_ARGS = {"name": CAMPAIGN, "code": "UHR562T", "number": 1, "index": 0, "login": "duyet", "filename": "style.css",
               "switch": "disable", "token": "A" * 32, "digest": "0" * 64}
# Pages meant for recipients (the receipt confirmation): no login, their personal token is the key.
RECIPIENT_PAGES = PUBLIC_ENDPOINTS - {"login", "static"}


def urls(app, method: str) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if method in rule.methods:
            with app.test_request_context():
                from flask import url_for

                found.append((rule.endpoint, url_for(rule.endpoint, **{a: SAMPLE_ARGS[a] for a in rule.arguments})))
    return found


# ---------------------------------------------------------------------------- logins


def test_once_an_account_exists_every_page_needs_a_login(app, root: Path) -> None:
    anonymous = Person(app)
    for endpoint, url in urls(app, "GET"):
        response = anonymous.client.get(url)
        if endpoint == "static":
            assert response.status_code == 200, url
        elif endpoint == "login":
            assert response.status_code == 200 and 'name="username"' in response.get_data(as_text=True)
        elif endpoint in RECIPIENT_PAGES:
            assert response.status_code == 404, url  # an unknown token: no letter, no login page either
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), url
    token = anonymous.token()
    for endpoint, url in urls(app, "POST"):
        if endpoint != "login":
            response = anonymous.client.post(url, data={"csrf_token": token, "scope": "one", "key": KEY, "by": "A"})
            assert response.status_code == (404 if endpoint in RECIPIENT_PAGES else 401), (url, response.status_code)
    assert deliveries(root) == {}


def test_login_form_and_wrong_passwords(app) -> None:
    person = Person(app)
    form = person.client.get("/login").get_data(as_text=True)
    assert all(f'name="{field}"' in form for field in ("username", "password", "csrf_token"))
    assert person.client.post("/login", data={"username": "duyet", "password": password("duyet")}).status_code == 400
    wrong = person.login("duyet", "sai")
    assert wrong.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in wrong.get_data(as_text=True)
    assert person.login("khongco", "x").status_code == 401  # an unknown login reads the same
    right = person.client.post("/login", data={"csrf_token": person.token(), "username": " Duyet ",
                                               "password": password("duyet"), "next": f"/campaigns/{CAMPAIGN}"})
    assert right.status_code == 302 and right.headers["Location"] == f"/campaigns/{CAMPAIGN}"
    page = person.client.get(f"/campaigns/{CAMPAIGN}").get_data(as_text=True)
    assert "Nguyễn Thị Duyệt" in page and "Đăng xuất" in page
    assert 'name="by"' not in page  # no name to type: the account is who acts


def test_cookies_are_http_only_same_site_and_secure_over_https(root: Path) -> None:
    for secure in (False, True):
        person = Person(create_app(root, testing=True, secure=secure))
        person.token()
        cookie = person.client.get_cookie("session")
        assert cookie.http_only and cookie.same_site == "Lax" and cookie.secure is secure


# ---------------------------------------------------------------------------- roles


def test_every_action_says_who_may_use_it(app) -> None:
    for endpoint, _ in urls(app, "POST"):
        if endpoint not in PUBLIC_ENDPOINTS:
            assert hasattr(app.view_functions[endpoint], "required_roles"), endpoint


@pytest.mark.parametrize("login", ["soan", "vanthu", "quantri"])
def test_an_approval_outside_ones_roles_is_403_and_approves_nothing(app, root: Path, login: str) -> None:
    person = signed_in(app, login)
    for action in ("approve", "revoke"):
        response = person.post(f"/campaigns/{CAMPAIGN}/{action}", {"scope": "filtered", "expected": "7", "by": "Mickey"})
        text = response.get_data(as_text=True)
        assert response.status_code == 403, action
        assert "Không được phép" in text and "không được làm việc này: cần vai trò «Duyệt»" in text
        assert "Không có gì thay đổi" in text
    # without the CSRF token too: the role is refused first, never a 400 that hides it
    assert person.client.post(f"/campaigns/{CAMPAIGN}/approve", data={"scope": "one", "key": KEY}).status_code == 403
    assert deliveries(root) == {}


def test_each_role_does_its_part_and_nothing_else(app, root: Path) -> None:
    builds: list[tuple[str, str, str]] = []
    app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: builds.append((name, by.login, by.source)) or \
        BuildReport(name, "")
    actions = {  # url: (role, form)
        "build": (Role.DRAFTER, {}),
        "approve": (Role.APPROVER, {"scope": "one", "key": KEY}),
        "pause": (Role.SENDER, {"reason": "chờ sửa công văn"}),
        "resume": (Role.SENDER, {}),
        "revoke": (Role.APPROVER, {"scope": "one", "key": KEY}),
    }
    people = {login: signed_in(app, login) for login in STAFF}
    for url, (role, form) in actions.items():
        for login, (_, roles) in STAFF.items():
            if role not in roles:
                assert people[login].post(f"/campaigns/{CAMPAIGN}/{url}", form).status_code == 403, (url, login)
        allowed = next(login for login, (_, roles) in STAFF.items() if role in roles)
        response = people[allowed].post(f"/campaigns/{CAMPAIGN}/{url}", form, follow_redirects=True)
        assert response.status_code == 200 and not [m for m in flashes(response.get_data(as_text=True))
                                                     if "không" in m.lower()], (url, flashes(response.get_data(as_text=True)))
    assert app.extensions["outreach_jobs"].get(CAMPAIGN).wait(10)
    assert builds == [(CAMPAIGN, "soan", "web 192.0.2.10")]  # the build runs as the drafter's
    with Ledger.open(root) as ledger:
        events = [e for e in ledger.events(CAMPAIGN) if e.to_state != "built"]  # the fixture's own build
    assert [(e.to_state, e.actor, e.login, e.source) for e in events] == [
        ("approved", "Nguyễn Thị Duyệt", "duyet", "web 192.0.2.10"),
        ("paused", "Lê Thị Văn Thư", "vanthu", "web 192.0.2.10"),
        ("resumed", "Lê Thị Văn Thư", "vanthu", "web 192.0.2.10"),
        ("revoked", "Nguyễn Thị Duyệt", "duyet", "web 192.0.2.10"),
    ]


def test_four_eyes_whoever_built_approves_none_of_it(app, root: Path) -> None:
    """A real build from the page (its drafts unchanged, so no conversion) by an account that may
    also approve: its approval is refused with 403 and changes nothing; another approver's is not."""
    app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: build(config, name, only=ONLY, by=by, on_step=on_step)
    Accounts(Workspace(root).accounts).add("ca-hai", "Đỗ Văn Cả Hai", ["drafter", "approver"], password("ca-hai"),
                                           Actor("người cài đặt", "", "cli root"))
    both = signed_in(app, "ca-hai")
    approve = (f"/campaigns/{CAMPAIGN}/approve", {"scope": "one", "key": KEY})
    assert both.post(*approve, follow_redirects=True).status_code == 200  # not a builder yet
    assert both.post(f"/campaigns/{CAMPAIGN}/revoke", {"scope": "one", "key": KEY}).status_code == 302
    assert both.post(f"/campaigns/{CAMPAIGN}/build").status_code == 302
    assert app.extensions["outreach_jobs"].get(CAMPAIGN).wait(60)
    before = deliveries(root)
    refused = both.post(*approve)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "không được tự duyệt" in page and "Không có thư nào được duyệt" in page
    assert deliveries(root) == before and before[KEY].state == "revoked"
    app.config["OUTREACH_APPROVE_IN_BACKGROUND"] = 0  # the whole list as a background job: refused before it starts
    everything = {"scope": "filtered", "expected": str(len(read_manifest(root, CAMPAIGN).drafts))}
    refused = both.post(f"/campaigns/{CAMPAIGN}/approve", everything)
    assert refused.status_code == 403 and "không được tự duyệt" in refused.get_data(as_text=True)
    assert app.extensions["outreach_approve_jobs"].get(CAMPAIGN) is None and deliveries(root) == before
    app.config["OUTREACH_APPROVE_IN_BACKGROUND"] = 200
    assert signed_in(app, "duyet").post(*approve).status_code == 302
    assert deliveries(root)[KEY].state == "approved"
    config = Workspace(root).config_file
    config.write_text(config.read_text(encoding="utf-8") + "\n[web]\nfour_eyes = false\n", encoding="utf-8")
    assert both.post(f"/campaigns/{CAMPAIGN}/revoke", {"scope": "one", "key": KEY}).status_code == 302
    assert both.post(*approve).status_code == 302 and deliveries(root)[KEY].state == "approved"


BUTTONS = ("build", "approve-selected", "revoke-selected", "approve-filtered", "revoke-filtered", "approve-one",
           "send-test", "pause")


@pytest.mark.parametrize("login,shown", [
    ("soan", {"build", "send-test"}),
    ("duyet", {"approve-selected", "revoke-selected", "approve-filtered", "revoke-filtered", "approve-one"}),
    ("vanthu", {"pause"}),
    ("quantri", set()),
])
def test_buttons_a_users_roles_do_not_allow_are_not_shown(app, login: str, shown: set[str]) -> None:
    person = signed_in(app, login)
    pages = "".join(person.client.get(url).get_data(as_text=True) for url in (
        f"/campaigns/{CAMPAIGN}", f"/campaigns/{CAMPAIGN}/recipients/UHR562T", f"/campaigns/{CAMPAIGN}/sending", "/"))
    assert {button for button in BUTTONS if f'id="{button}"' in pages} == shown
    assert ('name="by"' in pages) is False  # nobody types a name beside accounts


def test_a_send_from_the_page_is_offered_to_senders_and_recorded_under_the_account(app, root: Path, tmp_path: Path,
                                                                                  monkeypatch) -> None:
    with Ledger.open(root) as ledger:
        approve(root, ledger, read_manifest(root, CAMPAIGN), "Nguyễn Thị Duyệt", [KEY])
    sending = f"/campaigns/{CAMPAIGN}/sending"
    offered = {login: 'id="send-now"' in signed_in(app, login).client.get(sending).get_data(as_text=True)
               for login in STAFF}
    assert offered == {"soan": False, "duyet": False, "vanthu": True, "quantri": False}
    assert signed_in(app, "duyet").post(f"/campaigns/{CAMPAIGN}/send").status_code == 403
    with SmtpSink(tmp_path / "maildir", port=0) as sink:
        monkeypatch.setenv("OUTREACH_SMTP_URL", sink.url)
        assert signed_in(app, "vanthu").post(f"/campaigns/{CAMPAIGN}/send").status_code == 302
        assert app.extensions["outreach_send_jobs"].get(CAMPAIGN).wait(60)
    with Ledger.open(root) as ledger:
        events = [(e.to_state, e.actor, e.login, e.source) for e in ledger.events(CAMPAIGN, KEY)]
    assert events[1:] == [("sending", "Lê Thị Văn Thư", "vanthu", "web 192.0.2.10"),
                          ("sent", "Lê Thị Văn Thư", "vanthu", "web 192.0.2.10")]


def test_a_typed_name_is_ignored_and_the_report_names_the_account(app, root: Path, tmp_path: Path) -> None:
    person = signed_in(app, "duyet")
    response = person.post(f"/campaigns/{CAMPAIGN}/approve", {"scope": "one", "key": KEY, "by": "Mickey Mouse"},
                           follow_redirects=True)
    assert "Đã duyệt 1 thư (người duyệt: Nguyễn Thị Duyệt)." in flashes(response.get_data(as_text=True))
    delivery = deliveries(root)[KEY]
    assert delivery.approved_by == "Nguyễn Thị Duyệt"
    with Ledger.open(root) as ledger:
        (event,) = ledger.events(CAMPAIGN, KEY)
    assert (event.actor, event.login) == ("Nguyễn Thị Duyệt", "duyet")
    report = write_delivery_report(Ledger.open(root), read_manifest(root, CAMPAIGN), tmp_path / "bao-cao.xlsx")
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    column = rows[0].index("Người duyệt")
    assert [row[column] for row in rows[1:] if row[0] == "UHR562T"] == ["Nguyễn Thị Duyệt"]
    assert "Mickey" not in str(rows)


def test_issuing_the_number_records_the_account(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "fresh")
    add_staff(root)
    app = create_app(root, testing=True)
    app.config["OUTREACH_BUILD"] = lambda config, name, by, on_step: BuildReport(name, "")
    form = {"date": "2023-01-05", "by": "Mickey Mouse"}
    assert signed_in(app, "duyet").post(f"/campaigns/{CAMPAIGN}/issue", form).status_code == 403
    assert Register(Workspace(root).register).entry_for(CAMPAIGN) is None
    response = signed_in(app, "vanthu").post(f"/campaigns/{CAMPAIGN}/issue", form, follow_redirects=True)
    assert any(m.startswith("Công văn được cấp số 01/") for m in flashes(response.get_data(as_text=True)))
    entry = Register(Workspace(root).register).entry_for(CAMPAIGN)
    assert (entry.issued_by, entry.issued_login) == ("Lê Thị Văn Thư", "vanthu")
    assert app.extensions["outreach_jobs"].get(CAMPAIGN).wait(10)


# ---------------------------------------------------------------------------- sessions


def test_logout_revokes_the_session_on_the_server(app, root: Path) -> None:
    person = signed_in(app, "vanthu")
    token = person.token(f"/campaigns/{CAMPAIGN}")
    cookie = person.client.get_cookie("session").value
    assert person.client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = Person(app)
    thief.client.set_cookie("session", cookie)  # the cookie as it was before logging out, replayed
    assert thief.client.get(f"/campaigns/{CAMPAIGN}").status_code == 302
    replayed = thief.client.post(f"/campaigns/{CAMPAIGN}/pause", data={"csrf_token": token, "reason": "x"})
    assert replayed.status_code == 401
    with Ledger.open(root) as ledger:
        assert not ledger.pause_state(CAMPAIGN).paused


def test_a_password_change_ends_the_accounts_other_sessions(app) -> None:
    here, there = signed_in(app, "duyet", "192.0.2.10"), signed_in(app, "duyet", "192.0.2.11")
    response = here.post("/account/password", {"current": password("duyet"), "password": "mật-khẩu-mới-1",
                                                "password2": "mật-khẩu-mới-1"}, follow_redirects=True)
    assert any("Đã đổi mật khẩu" in m for m in flashes(response.get_data(as_text=True)))
    assert here.client.get("/").status_code == 200  # the session that changed it goes on
    assert there.client.get("/").status_code == 302  # the other one is over
    assert Person(app).login("duyet").status_code == 401
    assert Person(app).login("duyet", "mật-khẩu-mới-1").status_code == 302
    wrong = here.post("/account/password", {"current": "sai", "password": "x" * 12, "password2": "x" * 12},
                      follow_redirects=True)
    assert any("Mật khẩu hiện tại không đúng" in m for m in flashes(wrong.get_data(as_text=True)))


def test_sessions_end_after_inactivity(app) -> None:
    app.config["OUTREACH_SESSION_IDLE_S"] = 1
    person = signed_in(app, "duyet")
    assert person.client.get("/").status_code == 200
    time.sleep(2.1)
    response = person.client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_repeated_failures_lock_the_account_whatever_the_address(app) -> None:
    for attempt in range(MAX_FAILURES):
        assert Person(app, f"198.51.100.{attempt}").login("duyet", "đoán").status_code == 401
    locked = Person(app, "198.51.100.99").login("duyet")  # the right password, from a new address
    assert locked.status_code == 429 and "quá nhiều lần" in locked.get_data(as_text=True)
    assert Person(app, "198.51.100.99").login("vanthu").status_code == 302  # other accounts are not locked


def test_repeated_failures_lock_the_address_whatever_the_login(app) -> None:
    for attempt in range(MAX_FAILURES):
        assert Person(app, "203.0.113.5").login(f"ten{attempt}", "đoán").status_code == 401
    assert Person(app, "203.0.113.5").login("duyet").status_code == 429
    assert Person(app, "203.0.113.6").login("duyet").status_code == 302


# ---------------------------------------------------------------------------- administration


def test_administrators_manage_accounts_in_the_browser(app, root: Path) -> None:
    assert signed_in(app, "duyet").client.get("/accounts").status_code == 403
    admin = signed_in(app, "quantri")
    page = admin.client.get("/accounts").get_data(as_text=True)
    assert all(f'data-login="{login}"' in page for login in STAFF)

    def change(url: str, form: dict) -> list[str]:
        return flashes(admin.post(url, form, follow_redirects=True).get_data(as_text=True))

    new = {"login": "ketoan", "name": "Võ Thị Kế Toán", "role": ["drafter", "sender"],
           "password": password("ketoan"), "password2": password("ketoan")}
    assert "Đã tạo tài khoản ketoan (Võ Thị Kế Toán), vai trò: Soạn thảo, Gửi / văn thư." in change("/accounts", new)
    assert any("Đã có tài khoản" in m for m in change("/accounts", new))
    assert signed_in(app, "ketoan").client.get("/").status_code == 200
    other = signed_in(app, "ketoan", "192.0.2.40")
    assert "Vai trò của ketoan bây giờ là: Duyệt." in change("/accounts/ketoan/roles", {"role": ["approver"]})
    assert other.post(f"/campaigns/{CAMPAIGN}/pause", {"reason": "x"}).status_code == 403  # at once, same session
    assert any("Đã đặt mật khẩu mới" in m for m in change("/accounts/ketoan/password", {
        "password": "mật-khẩu-mới-2", "password2": "mật-khẩu-mới-2"}))
    assert other.client.get("/").status_code == 302  # a reset ends the account's sessions
    other = Person(app, "192.0.2.41")
    assert other.login("ketoan", "mật-khẩu-mới-2").status_code == 302
    assert any("Đã khóa tài khoản ketoan" in m for m in change("/accounts/ketoan/disable", {}))
    assert other.client.get("/").status_code == 302  # a disabled account's open session stops working
    assert Person(app).login("ketoan", "mật-khẩu-mới-2").status_code == 401
    assert any("Đã mở khóa" in m for m in change("/accounts/ketoan/enable", {}))

    for url, form in (("/accounts/quantri/disable", {}), ("/accounts/quantri/roles", {"role": ["approver"]})):
        assert any("người quản trị cuối cùng" in m for m in change(url, form)), url
    assert admin.client.get("/accounts").status_code == 200  # still an administrator
    accounts = Accounts(Workspace(root).accounts)
    assert accounts.get("ketoan").roles == frozenset({Role.APPROVER}) and not accounts.get("ketoan").disabled
    with closing(sqlite3.connect(Workspace(root).accounts)) as db:
        recorded = db.execute("SELECT action, by_login, by_name, source FROM changes WHERE login = 'ketoan'").fetchall()
    assert recorded == [(action, "quantri", "Trần Quản Trị", "web 192.0.2.10")
                        for action in ("added", "roles", "password", "disabled", "enabled")]
