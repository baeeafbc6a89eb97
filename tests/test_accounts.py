"""Console accounts: roles on every route, sessions that end at once, the CLI, the audit log,
the older-database upgrade, and who may read /metrics."""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from posterapp import staff
from posterapp.cli import main
from posterapp.store import Store
from posterapp.web.auth import CONSOLE_ROLES, PUBLIC

from .conftest import PUBLIC_URL, TEST_CONFIG, BufferedClient

PASSWORD = "correct horse battery"
PEOPLE = {"viewer": "vi.ew", "editor": "ed.it", "publisher": "pub.li", "admin": "ada.min"}

# The app is made while collecting, so the route test below is parametrised by its own
# url_map: a console route added without a role entry shows up as a failing case.
_DATA = Path(tempfile.mkdtemp(prefix="posterapp-accounts-"))
atexit.register(shutil.rmtree, _DATA, True)  # also when this module is deselected


def _make_app():
    from posterapp import create_app

    app = create_app({**TEST_CONFIG, "DATA_DIR": str(_DATA), "PUBLIC_URL": PUBLIC_URL})
    app.test_client_class = BufferedClient
    for role, name in PEOPLE.items():
        staff.add_user(app.extensions["posterapp"].store, name, PASSWORD, role)
    return app


APP = _make_app()
CONSOLE_RULES = sorted(
    (rule.rule, method, rule.endpoint)
    for rule in APP.url_map.iter_rules()
    if rule.rule == "/admin" or rule.rule.startswith("/admin/")
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
)


@pytest.fixture(scope="module")
def app():
    yield APP
    APP.extensions["posterapp"].store.close()
    shutil.rmtree(_DATA, ignore_errors=True)


@pytest.fixture
def store(app):
    return app.extensions["posterapp"].store


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def sign_in(client, name, password=PASSWORD):
    token = token_of(client.get("/admin/login").get_data(as_text=True))
    return client.post(
        "/admin/login", data={"name": name, "password": password, "csrf_token": token}
    )


def signed_in(app, name):
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    return client


@pytest.fixture(scope="module")
def clients(app):
    return {role: signed_in(app, name) for role, name in PEOPLE.items()}


def page_token(client, path="/admin") -> str:
    return token_of(client.get(path).get_data(as_text=True))


def new_account(store, name, role="editor"):
    if store.account(name) is not None:
        staff.remove(store, name)
    staff.add_user(store, name, PASSWORD, role)
    return name


# Roles on every console route --------------------------------------------------------------------


def test_the_console_has_routes_to_check():
    endpoints = {endpoint for _, _, endpoint in CONSOLE_RULES}
    assert {"numbers.dashboard", "editor.publish", "accounts.accounts", "auth.login"} <= endpoints
    assert len(CONSOLE_RULES) >= 15


@pytest.mark.parametrize("role", staff.ROLES)
@pytest.mark.parametrize(("rule", "method", "endpoint"), CONSOLE_RULES)
def test_every_console_route_admits_exactly_the_roles_its_entry_says(
    clients, rule, method, endpoint, role
):
    if endpoint in PUBLIC:
        return
    needed = CONSOLE_ROLES.get(endpoint)
    if needed is None:
        pytest.fail(f"{method} {rule} ({endpoint}) has no entry in auth.CONSOLE_ROLES")
    path = re.sub(r"<int:[a-z_]+>", "1", rule)
    path = re.sub(r"<name>", "no.such.one", path)
    path = re.sub(r"<action>", "disable", path)
    path = re.sub(r"<(?:\w+:)?[a-z_]+>", "x", path)
    response = clients[role].open(path, method=method)
    if staff.allows(role, needed):
        assert response.status_code not in (401, 403), response.get_data(as_text=True)[:300]
        assert not response.headers.get("Location", "").startswith("/admin/login")
    else:
        assert response.status_code == 403
        text = response.get_data(as_text=True)
        assert f"你的账号是“{staff.ROLE_NAMES[role]}”" in text
        assert f"需要“{staff.ROLE_NAMES[needed]}”或更高的权限" in text
        if path.startswith("/admin/api/"):
            assert response.get_json()["error"]["code"] == "forbidden"


def test_a_console_route_without_an_entry_is_refused_to_everyone(app, clients, monkeypatch):
    monkeypatch.delitem(CONSOLE_ROLES, "numbers.dashboard")
    response = clients["admin"].get("/admin")
    assert response.status_code == 403
    assert "还没有设置谁能使用" in response.get_data(as_text=True)


def test_the_menu_shows_only_what_the_role_may_open(clients):
    viewer = clients["viewer"].get("/admin").get_data(as_text=True)
    assert ">数据<" in viewer and "编辑目录" not in viewer and ">账号<" not in viewer
    assert "退出（vi.ew，查看者）" in viewer
    admin = clients["admin"].get("/admin").get_data(as_text=True)
    labels = ("数据", "编辑目录", "版本历史", "账号", "操作记录")
    assert all(f">{label}<" in admin for label in labels)


# Sessions end at once ----------------------------------------------------------------------------


def copy_of(app, client):
    """Return a new client holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return thief


def assert_signed_out(client):
    page = client.get("/admin")
    assert page.status_code == 302 and page.headers["Location"].startswith("/admin/login")
    api = client.get("/admin/api/numbers")
    assert api.status_code == 401
    assert api.get_json()["error"]["message"] == "请先登录活动后台，再进行这个操作"


def test_a_copied_cookie_dies_when_its_owner_signs_out(app, store):
    owner = signed_in(app, new_account(store, "copy.out"))
    copy = copy_of(app, owner)
    assert copy.get("/admin").status_code == 200
    other = signed_in(app, "copy.out")  # another computer of the same person
    assert owner.post("/admin/logout", data={"csrf_token": page_token(owner)}).status_code == 302
    assert_signed_out(copy)
    assert_signed_out(owner)
    assert other.get("/admin").status_code == 200  # signing out here ends only this session


def test_a_copied_cookie_dies_when_the_password_is_reset(app, store, clients):
    owner = signed_in(app, new_account(store, "copy.reset"))
    copy = copy_of(app, owner)
    admin = clients["admin"]
    response = admin.post(
        "/admin/accounts/copy.reset/password",
        data={"password": "a brand new secret", "csrf_token": page_token(admin, "/admin/accounts")},
    )
    assert response.status_code == 303
    assert "已给 copy.reset 设了新密码" in admin.get("/admin/accounts").get_data(as_text=True)
    assert_signed_out(copy)
    assert_signed_out(owner)
    assert sign_in(app.test_client(), "copy.reset").status_code == 401
    assert sign_in(app.test_client(), "copy.reset", "a brand new secret").status_code == 302


@pytest.mark.parametrize(
    ("action", "form"),
    [("disable", {}), ("remove", {"confirm": "copy.gone"}), ("role", {"role": "viewer"})],
)
def test_a_copied_cookie_dies_when_the_account_changes(app, store, clients, action, form):
    owner = signed_in(app, new_account(store, "copy.gone"))
    copy = copy_of(app, owner)
    admin = clients["admin"]
    token = page_token(admin, "/admin/accounts")
    response = admin.post(f"/admin/accounts/copy.gone/{action}", data={**form, "csrf_token": token})
    assert response.status_code == 303
    assert_signed_out(copy)
    assert_signed_out(owner)


def test_a_disabled_account_is_told_so_and_can_be_enabled(app, store):
    name = new_account(store, "off.duty")
    staff.set_disabled(store, name, True)
    refused = sign_in(app.test_client(), name)
    assert refused.status_code == 403
    assert "这个账号已经停用了" in refused.get_data(as_text=True)
    staff.set_disabled(store, name, False)
    assert sign_in(app.test_client(), name).status_code == 302


def test_removing_asks_for_the_name_first(app, store, clients):
    name = new_account(store, "keep.me")
    admin = clients["admin"]
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert "确定删除 keep.me" in page and "请选“停用”" in page
    token = token_of(page)
    response = admin.post("/admin/accounts/keep.me/remove", data={"csrf_token": token})
    assert response.status_code == 400
    assert "请在确认框里输入账号名 keep.me" in response.get_data(as_text=True)
    assert store.account(name) is not None


def test_an_admin_adds_an_account_in_the_console(app, store, clients):
    admin = clients["admin"]
    token = page_token(admin, "/admin/accounts")
    form = {"name": "new.hire", "role": "editor", "password": "short", "csrf_token": token}
    short = admin.post("/admin/accounts", data=form)
    assert short.status_code == 422
    assert "密码至少要 10 个字符，现在只有 5 个" in short.get_data(as_text=True)
    added = admin.post("/admin/accounts", data={**form, "password": PASSWORD})
    assert added.status_code == 303
    assert store.account("new.hire").role == "editor"
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert "已新建账号 new.hire（编辑）" in page and "从未登录" in page
    again = admin.post("/admin/accounts", data={**form, "password": PASSWORD})
    assert "已经有叫 new.hire 的账号了" in again.get_data(as_text=True)


def test_the_console_refuses_to_demote_the_last_admin(app, store, clients):
    admin = clients["admin"]
    token = page_token(admin, "/admin/accounts")
    response = admin.post(
        "/admin/accounts/ada.min/role", data={"role": "editor", "csrf_token": token}
    )
    assert response.status_code == 409
    assert "ada.min 是最后一个能用的管理员，不能改成编辑" in response.get_data(as_text=True)
    assert store.account("ada.min").role == "admin"
    assert admin.get("/admin/accounts").status_code == 200  # still signed in


# The command line --------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, runner):
    def run(*args, password=None):
        return runner.invoke(
            main,
            ["--data-dir", str(tmp_path), "admin", *args],
            input=None if password is None else password + "\n",
            env={"POSTERAPP_DATABASE_URL": ""},
        )

    return run


def test_admin_commands_speak_chinese(cli, tmp_path):
    made = cli("add-user", "li.na", password=PASSWORD)
    assert made.exit_code == 0, made.output
    assert "员工账号 li.na 已创建（管理员），现在可以在 /admin 登录。" in made.output
    made = cli("add-user", "wang.wu", "--role", "editor", password=PASSWORD)
    assert "员工账号 wang.wu 已创建（编辑）" in made.output
    steps = [
        (("set-role", "wang.wu", "publisher"), "wang.wu 现在是发布者"),
        (("disable", "wang.wu"), "已停用 wang.wu：它已登录的地方都已退出，也不能再登录。"),
        (("enable", "wang.wu"), "已恢复 wang.wu，可以重新登录了。"),
        (("unlock", "wang.wu"), "wang.wu 最近没有密码错误记录"),
        (("list",), "wang.wu\t发布者"),
        (("remove", "wang.wu"), "已删除 wang.wu。"),
    ]
    for args, words in steps:
        result = cli(*args)
        assert result.exit_code == 0 and words in result.output, (args, result.output)
    reset = cli("reset-password", "li.na", password="another good one")
    assert reset.exit_code == 0 and "已给 li.na 设了新密码" in reset.output
    store = Store(f"sqlite:///{tmp_path / 'posterapp.db'}")
    try:
        assert staff.check_login(store, "li.na", "another good one", "127.0.0.1")
        actions = [entry.action for entry in store.audit_entries()]
        assert actions[:3] == ["account_password", "account_remove", "account_enable"]
        assert store.audit_entries()[0].who.startswith("命令行")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("disable", "no.one"), "没有叫 no.one 的员工账号"),
        (("enable", "no.one"), "没有叫 no.one 的员工账号"),
        (("remove", "no.one"), "没有叫 no.one 的员工账号"),
        (("set-role", "no.one", "editor"), "没有叫 no.one 的员工账号"),
        (("reset-password", "no.one"), "没有叫 no.one 的员工账号；要创建请运行"),
        (("unlock", "no.one"), "没有叫 no.one 的员工账号"),
        (("set-role", "li.na", "boss"), "没有“boss”这个角色，可以选：viewer（查看者）"),
        (("add-user", "x.y", "--role", "boss"), "没有“boss”这个角色"),
        (("remove", "li.na"), "li.na 是最后一个能用的管理员，不能删除"),
        (("disable", "li.na"), "li.na 是最后一个能用的管理员，不能停用"),
        (("set-role", "li.na", "publisher"), "li.na 是最后一个能用的管理员，不能改成发布者"),
    ],
)
def test_admin_commands_refuse_unknown_names_roles_and_the_last_admin(cli, args, words):
    assert cli("add-user", "li.na", password=PASSWORD).exit_code == 0
    result = cli(*args, password=PASSWORD)
    assert result.exit_code == 1
    assert words in result.output
    assert "Traceback" not in result.output


def test_a_second_admin_makes_the_first_removable(cli):
    cli("add-user", "li.na", password=PASSWORD)
    cli("add-user", "zhao.liu", password=PASSWORD)
    assert cli("remove", "li.na").exit_code == 0
    assert "最后一个" in cli("remove", "zhao.liu").output


def test_without_any_admin_other_accounts_can_still_change(cli):
    cli("add-user", "ed.only", "--role", "editor", password=PASSWORD)
    assert cli("disable", "ed.only").exit_code == 0
    assert cli("set-role", "ed.only", "admin").exit_code == 0


# The audit log -----------------------------------------------------------------------------------


def test_sign_ins_and_publishing_are_in_the_audit_log(app, store, clients):
    assert sign_in(app.test_client(), "pub.li", "not the password").status_code == 401
    publisher = signed_in(app, "pub.li")
    live = store.live()
    token = page_token(publisher, "/admin/catalog")
    source = live.source.replace("label: 今年学会游泳", "label: 今年学会蛙泳")
    published = publisher.post(
        "/admin/catalog", data={"source": source, "base": live.id, "csrf_token": token}
    )
    assert published.status_code == 302
    entries = store.audit_entries()
    version = store.live().version
    assert (entries[0].who, entries[0].action) == ("pub.li", "publish")
    assert version in entries[0].detail and entries[0].address == "127.0.0.1"
    assert (entries[1].who, entries[1].action) == ("pub.li", "sign_in")
    assert (entries[2].who, entries[2].action) == ("pub.li", "sign_in_failed")
    page = clients["admin"].get("/admin/audit").get_data(as_text=True)
    assert "时间（北京时间）" in page and "登录失败" in page and version in page
    assert clients["publisher"].get("/admin/audit").status_code == 403


# Older databases ---------------------------------------------------------------------------------


def old_users_table(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.exec_driver_sql(
            "CREATE TABLE users (name VARCHAR(64) PRIMARY KEY, password_hash VARCHAR(256) "
            "NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL)"
        )
        db.execute(
            sa.text("INSERT INTO users VALUES ('old.hand', :h, CURRENT_TIMESTAMP)"),
            {"h": "scrypt:x"},
        )
    engine.dispose()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_accounts_from_before_roles_become_admins(engine, tmp_path, request):
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if engine == "sqlite"
        else request.getfixturevalue("database")
    )
    old_users_table(url)
    store = Store(url)
    try:
        store.create_schema()
        store.create_schema()  # a second start finds the columns there
        account = store.account("old.hand")
        assert (account.role, account.disabled, account.last_sign_in_at) == ("admin", False, None)
        assert store.change_account("old.hand", role="editor") == "last_admin"
    finally:
        store.close()


# /metrics ----------------------------------------------------------------------------------------


def test_metrics_need_the_token_when_one_is_set(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-scrape-token")
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    right = client.get(
        "/metrics",
        headers={"Authorization": "Bearer s3cret-scrape-token"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert right.status_code == 200 and "posterapp" in right.get_data(as_text=True)


@pytest.mark.parametrize(
    ("address", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("203.0.113.9", {}, 404),
        ("10.0.0.7", {}, 404),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 404),  # a proxy on this machine
    ],
)
def test_without_a_token_metrics_answer_only_this_machine(app, address, headers, status):
    response = app.test_client().get(
        "/metrics", headers=headers, environ_base={"REMOTE_ADDR": address}
    )
    assert response.status_code == status
    if status == 404:
        assert "posters_made" not in response.get_data(as_text=True)
