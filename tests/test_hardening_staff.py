"""Issue 9, the console's side: lock-outs that only lock the guesser, start-up checks, limits
that hold when Redis is away, and staff-only inputs that used to end in a 500.

The database tests run on SQLite and on the PostgreSQL that .ci/run starts (a new database of
their own, dropped afterwards); the Redis tests use the real Redis, and a closed port for
"unreachable".
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import secrets

import pytest
from PIL import Image

from posterapp import staff
from posterapp.cli import main
from posterapp.store import login_attempts, now

from .conftest import TEST_CONFIG, BufferedClient, postgres_database, unavailable
from .servers import free_port

REDIS = "redis://127.0.0.1:6379/14"
PASSWORD = "correct horse battery"
ACCOUNTS = ("li.na", "wang.wei", "zhao.lei")
PROXY, ELSEWHERE = "10.0.0.1", "10.0.0.2"  # one proxy that everyone comes through; another
PICKS = {"choices": ["travel-fund"]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """A database URL: SQLite in a folder, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield ""
        return
    with postgres_database("posterapp_hardening") as url:
        yield url


@pytest.fixture(scope="module")
def console_app(database, tmp_path_factory):
    """A console with three staff accounts, on the database of this round."""
    from posterapp import create_app

    data = tmp_path_factory.mktemp("console")
    app = create_app(
        {**TEST_CONFIG, "DATA_DIR": str(data), "DATABASE_URL": database,
         "PUBLIC_URL": "https://posters.example"}
    )  # fmt: skip
    app.test_client_class = BufferedClient
    for name in ACCOUNTS:
        staff.add_user(app.extensions["posterapp"].store, name, PASSWORD)
    yield app
    app.extensions["posterapp"].store.close()


@pytest.fixture
def store(console_app):
    found = console_app.extensions["posterapp"].store
    with found.engine.begin() as db:
        db.execute(login_attempts.delete())
    return found


class Person:
    """Someone at the login page, coming from one address."""

    def __init__(self, app, address: str):
        self.client = app.test_client()
        self.address = address
        page = self.client.get("/admin/login", environ_base={"REMOTE_ADDR": address})
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]

    def sign_in(self, name: str, password: str = PASSWORD, query: str = ""):
        return self.client.post(
            f"/admin/login{query}",
            data={"name": name, "password": password, "csrf_token": self.token},
            environ_base={"REMOTE_ADDR": self.address},
        )


def error_of(response) -> str:
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', response.get_data(as_text=True))
    return found[1] if found else ""


def waited(message: str) -> int:
    """Read "请 12 分 30 秒后再试" (or "15 分钟", "40 秒") back as seconds."""
    found = re.search(r"请 (?:(\d+) 分(?:钟)?)? ?(?:(\d+) 秒)?后再试", message)
    assert found, message
    return int(found[1] or 0) * 60 + int(found[2] or 0)


# Lock-out --------------------------------------------------------------------------------


def test_wrong_passwords_lock_only_that_account_from_that_address(console_app, store):
    guesser = Person(console_app, PROXY)
    for _ in range(staff.MAX_FAILURES):
        assert guesser.sign_in("li.na", "guess-guess").status_code == 401
    locked = guesser.sign_in("li.na")  # even the right password waits now
    assert locked.status_code == 429
    assert error_of(locked).startswith("密码错误次数太多，请 1")
    assert 890 <= waited(error_of(locked)) <= 900
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    # Colleagues behind the same proxy still sign in; li.na signs in from elsewhere.
    for name in ACCOUNTS[1:]:
        assert Person(console_app, PROXY).sign_in(name).status_code == 302
    assert Person(console_app, ELSEWHERE).sign_in("li.na").status_code == 302


def test_the_wait_is_counted_from_the_oldest_failure(console_app, store):
    # Five failures, the oldest 2 min 30 s ago: the lock lifts 12 min 30 s from now.
    ages = [150, 100, 60, 30, 5]
    with store.engine.begin() as db:
        db.execute(
            login_attempts.insert(),
            [
                {"name": "li.na", "client": PROXY, "succeeded": False,
                 "created_at": now() - dt.timedelta(seconds=age)}
                for age in ages
            ],
        )  # fmt: skip
    locked = Person(console_app, PROXY).sign_in("li.na")
    assert locked.status_code == 429
    assert "请 12 分 30 秒后再试" in error_of(locked) or "请 12 分 29 秒后再试" in error_of(locked)
    assert 748 <= int(locked.headers["Retry-After"]) <= 750


def test_one_address_guessing_many_names_is_held_back_on_its_own(console_app, store):
    guesser = Person(console_app, PROXY)
    for number in range(staff.MAX_ADDRESS_FAILURES):
        # Never five at one name: only the address limit can stop this.
        response = (
            guesser.sign_in(f"{ACCOUNTS[number % 3]}", "guess-guess")
            if number < 12
            else (guesser.sign_in(f"nobody{number}", "guess-guess"))
        )
        assert response.status_code == 401, (number, error_of(response))
    locked = guesser.sign_in("wang.wei")
    assert locked.status_code == 429
    assert error_of(locked).startswith("从这个网络地址登录失败的次数太多，请 1")
    assert Person(console_app, ELSEWHERE).sign_in("wang.wei").status_code == 302


def test_signing_in_wipes_the_slate_for_that_account_and_address(console_app, store):
    person = Person(console_app, PROXY)
    for _ in range(staff.MAX_FAILURES - 1):
        assert person.sign_in("li.na", "typo-typo-typo").status_code == 401
    assert person.sign_in("li.na").status_code == 302
    again = Person(console_app, PROXY)
    assert again.sign_in("li.na", "one more typo").status_code == 401
    assert again.sign_in("li.na").status_code == 302


def test_admin_unlock_lets_a_locked_account_in_at_once(console_app, store, database, runner):
    for address in (PROXY, ELSEWHERE):
        guesser = Person(console_app, address)
        for _ in range(staff.MAX_FAILURES):
            guesser.sign_in("li.na", "guess-guess")
        assert guesser.sign_in("li.na").status_code == 429
    data_dir = console_app.config["DATA_DIR"]
    env = {"POSTERAPP_DATABASE_URL": database}
    result = runner.invoke(main, ["--data-dir", data_dir, "admin", "unlock", "li.na"], env=env)
    assert result.exit_code == 0, result.output
    assert "已解除 li.na 的登录锁定（清除了 10 次密码错误记录）" in result.output
    assert Person(console_app, PROXY).sign_in("li.na").status_code == 302
    nobody = runner.invoke(main, ["--data-dir", data_dir, "admin", "unlock", "no.one"], env=env)
    assert nobody.exit_code == 1 and "没有叫 no.one 的员工账号" in nobody.output


def test_a_nul_in_the_name_or_address_is_a_wrong_login_not_a_500(console_app, store):
    assert staff.locked_for(store, "li\x00na", "10.0.0.9\x00") is None
    assert staff.check_login(store, "li\x00na", PASSWORD, "10.0.0.9\x00") is False
    assert staff.check_login(store, "x" * 300, PASSWORD, "y" * 300) is False
    response = Person(console_app, PROXY).sign_in("li\x00na")
    assert 400 <= response.status_code < 500


def test_forwarded_requests_without_a_trusted_proxy_are_warned_about_once(tmp_path, caplog):
    app = started(tmp_path)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for _ in range(3):
            client.post("/api/posters", json=PICKS, headers={"X-Forwarded-For": "203.0.113.7"})
    said = [r.getMessage() for r in caplog.records if "X-Forwarded-For" in r.getMessage()]
    assert len(said) == 1 and "POSTERAPP_TRUSTED_PROXIES" in said[0]
    app.extensions["posterapp"].store.close()


# Start-up in production --------------------------------------------------------------------

GOOD = {"PUBLIC_URL": "https://posters.example.org", "SECRET_KEY": secrets.token_urlsafe(48)}


def started(tmp_path, **config):
    from posterapp import create_app

    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path), **config})
    app.test_client_class = BufferedClient
    return app


@pytest.mark.parametrize(
    "config, words",
    [
        (
            {"PUBLIC_URL": "http://localhost:8000"},
            "POSTERAPP_PUBLIC_URL（现在是 http://localhost:8000）",
        ),
        ({"PUBLIC_URL": "https://localhost"}, "指向本机：每张海报的二维码都会打不开"),
        ({"PUBLIC_URL": "https://127.0.0.1:8443"}, "指向本机"),
        ({"PUBLIC_URL": "http://posters.example.org"}, "必须以小写的 https:// 开头"),
        ({"PUBLIC_URL": "posters.example.org"}, "不是完整的网址：请写上 https:// 和域名"),
        ({"PUBLIC_URL": "https://posters.example.org/?a=1"}, "不能带 ? 或 # 后面的部分"),
        ({"SECRET_KEY": " " * 32}, "POSTERAPP_SECRET_KEY 在正式环境里必须是一串足够长的随机字符"),
        ({"SECRET_KEY": "a" * 64}, "POSTERAPP_SECRET_KEY 在正式环境里必须"),
        ({}, "还没有员工账号：请先运行 `posterapp admin add-user 名字`"),
    ],
)
def test_production_refuses_to_start_with_a_clear_message(tmp_path, config, words):
    with pytest.raises(RuntimeError) as refused:
        started(tmp_path, PRODUCTION="true", **{**GOOD, **config})
    assert words in str(refused.value)


def test_production_starts_with_a_real_address_and_key(tmp_path):
    app = started(tmp_path, PRODUCTION="true", CONSOLE="false", **GOOD)
    assert app.test_client().get("/").status_code == 200
    app.extensions["posterapp"].store.close()


def test_outside_production_another_host_is_warned_about_once_per_host(tmp_path, caplog):
    app = started(tmp_path, PUBLIC_URL="https://posters.example.org")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for host in ("posters.example.org", "192.168.1.5:8000", "192.168.1.5:8000", "other.test"):
            assert client.get("/", headers={"Host": host}).status_code == 200
    said = [r.getMessage() for r in caplog.records if "POSTERAPP_PUBLIC_URL" in r.getMessage()]
    assert len(said) == 2
    assert "通过 192.168.1.5:8000 访问" in said[0] and "https://posters.example.org" in said[0]
    assert "通过 other.test 访问" in said[1]
    app.extensions["posterapp"].store.close()


# Rate limits and Redis ----------------------------------------------------------------------


def outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "连不上 Redis" in r.getMessage()]


def test_limits_hold_in_process_when_redis_is_unreachable(tmp_path, caplog):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = started(tmp_path, REDIS_URL=closed, RATE_LIMIT_POSTERS="3 per minute")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        answers = [client.post("/api/posters", json=PICKS).status_code for _ in range(6)]
    # Whatever else a request meets, the fourth and later are refused by the limit.
    assert [status == 429 for status in answers] == [False] * 3 + [True] * 3, answers
    [line] = outage_lines(caplog)  # said once, not once a request
    assert "POSTERAPP_REDIS_URL" in line and "只在本进程内计数" in line
    app.extensions["posterapp"].store.close()


def test_limits_are_shared_through_a_reachable_redis(tmp_path, caplog):
    import redis

    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.exceptions.ConnectionError:
        unavailable("Redis", 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""')
    config = {"REDIS_URL": REDIS, "RATE_LIMIT_POSTERS": "3 per minute",
              "RATELIMIT_KEY_PREFIX": f"hardening-{secrets.token_hex(4)}"}  # fmt: skip
    one, two = started(tmp_path / "one", **config), started(tmp_path / "two", **config)
    with caplog.at_level(logging.WARNING):
        answers = [app.test_client().post("/api/posters", json=PICKS).status_code
                   for app in (one, two, one, two)]  # fmt: skip
    # One count across both servers.
    assert [status == 429 for status in answers] == [False] * 3 + [True], answers
    assert outage_lines(caplog) == []
    one.extensions["posterapp"].store.close()
    two.extensions["posterapp"].store.close()


# Staff-only inputs that used to be 500s ----------------------------------------------------


@pytest.fixture
def signed_in(console_app, store):
    person = Person(console_app, "10.0.0.50")
    assert person.sign_in("li.na").status_code == 302
    page = person.client.get("/admin/catalog").get_data(as_text=True)
    person.token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    return person


def flashes(response) -> list[str]:
    return re.findall(
        r'<p class="flash" role="status">([^<]*)</p>', response.get_data(as_text=True)
    )


def alerts(response) -> list[str]:
    """The console's error boxes (a refused rollback is not the green success box)."""
    return re.findall(r'<p class="error" role="alert">([^<]*)</p>', response.get_data(as_text=True))


def icon() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (48, 48), "#E0472B").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("length, status", [(192, 302), (193, 400), (300, 400)])
def test_a_long_upload_name_is_refused_with_a_message(signed_in, store, length, status):
    name = "a" * (length - 4) + ".png"
    response = signed_in.client.post(
        "/admin/uploads",
        data={"icon": (io.BytesIO(icon()), name), "csrf_token": signed_in.token},
        content_type="multipart/form-data",
    )
    assert response.status_code == status
    stored = name in [item["name"] for item in store.upload_list()]
    assert stored == (status == 302)
    if status == 400:
        [message] = alerts(response)
        assert (
            f"没有上传：文件名太长了（{length} 个字符），请改成 192 个字符以内再上传。" == message
        )


HUGE = "99999999999999999999"


def test_an_out_of_range_publication_id_is_a_404_with_a_message(signed_in, store):
    live = store.live()
    response = signed_in.client.post(
        f"/admin/history/{HUGE}/rollback", data={"base": live.id, "csrf_token": signed_in.token}
    )
    assert response.status_code == 404
    assert alerts(response) == [f"没有第 {HUGE} 号发布记录，请在下面的列表里选一个版本回滚。"]
    assert store.live() == live


@pytest.mark.parametrize("base", [HUGE, "-1", "abc", ""])
def test_an_out_of_range_base_is_a_400_with_a_message(signed_in, store, base):
    live = store.live()
    client, token = signed_in.client, signed_in.token
    rollback = client.post(
        f"/admin/history/{live.id}/rollback", data={"base": base, "csrf_token": token}
    )
    assert rollback.status_code == 400
    assert alerts(rollback) == ["表单缺少当前版本信息，请刷新页面再试。"]
    publish = client.post(
        "/admin/catalog", data={"source": live.source, "base": base, "csrf_token": token}
    )
    assert publish.status_code == 400
    assert "表单缺少当前版本信息，请刷新页面再试。" in publish.get_data(as_text=True)
    assert store.live() == live


@pytest.mark.parametrize(
    "target", ["/admin%0ASet-Cookie:x=1", "/admin%0D%0A", "/admin%5C%5Cevil.example"]
)
def test_a_doctored_next_is_a_message_then_the_dashboard(console_app, store, target):
    person = Person(console_app, "10.0.0.51")
    page = person.client.get(f"/admin/login?next={target}")
    assert page.status_code == 400
    assert error_of(page) == "这个登录链接里的跳转地址不对。请直接登录，登录后会带你到后台首页。"
    assert 'action="/admin/login"' in page.get_data(as_text=True)
    signed = person.sign_in("li.na", query=f"?next={target}")
    assert signed.status_code == 302 and signed.headers["Location"] == "/admin/"


def test_a_good_next_still_leads_back(console_app, store):
    signed = Person(console_app, "10.0.0.52").sign_in("li.na", query="?next=/admin/history")
    assert signed.status_code == 302 and signed.headers["Location"] == "/admin/history"
