"""One typed Settings: read and checked once, with a message an operator can act on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from posterapp import settings
from posterapp.cli import main
from posterapp.settings import SettingsError, load

from .conftest import TEST_CONFIG

ROOT = Path(__file__).resolve().parent.parent
SECONDS = "应该是秒数（比如 5 或 2.5）"
FLAG = "应该是 true 或 false（也可以写 1/0、yes/no、on/off）"
RATES = (
    "应该是「次数 per 时间单位」，几条之间用分号隔开（比如 20 per minute; 300 per hour），"
    "时间单位是 second、minute、hour、day、month 或 year"
)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("RENDER_BUDGET", "5s", f"POSTERAPP_RENDER_BUDGET {SECONDS}，现在是「5s」"),
        ("RENDER_BUDGET", "0", f"POSTERAPP_RENDER_BUDGET {SECONDS}，现在是「0」"),
        ("RENDER_BUDGET", "inf", f"POSTERAPP_RENDER_BUDGET {SECONDS}，现在是「inf」"),
        ("RENDER_BUDGET", "", f"POSTERAPP_RENDER_BUDGET {SECONDS}，现在是空的"),
        ("WORKERS", "many", "POSTERAPP_WORKERS 应该是大于 0 的整数（比如 4），现在是「many」"),
        ("WORKERS", "0", "POSTERAPP_WORKERS 应该是大于 0 的整数（比如 4），现在是「0」"),
        ("WORKERS", "2.5", "POSTERAPP_WORKERS 应该是大于 0 的整数（比如 4），现在是「2.5」"),
        (
            "WORKER_TIMEOUT",
            "30s",
            "POSTERAPP_WORKER_TIMEOUT 应该是整数的秒数，至少 1（比如 30），现在是「30s」",
        ),
        (
            "TRUSTED_PROXIES",
            "-1",
            "POSTERAPP_TRUSTED_PROXIES 应该是 0 或更大的整数（比如 1），现在是「-1」",
        ),
        ("PRODUCTION", "maybe", f"POSTERAPP_PRODUCTION {FLAG}，现在是「maybe」"),
        ("CONSOLE", "enabled", f"POSTERAPP_CONSOLE {FLAG}，现在是「enabled」"),
        (
            "PUBLIC_URL",
            "posters.example.org",
            "POSTERAPP_PUBLIC_URL 不是完整的网址：请写上 https:// 和域名，"
            "应该像 https://posters.example.org 这样，现在是「posters.example.org」",
        ),
        (
            "PUBLIC_URL",
            "ftp://posters.example.org",
            "POSTERAPP_PUBLIC_URL 不是完整的网址：请写上 https:// 和域名，"
            "应该像 https://posters.example.org 这样，现在是「ftp://posters.example.org」",
        ),
        (
            "DATABASE_URL",
            "postgres://db/posters",
            "POSTERAPP_DATABASE_URL 应该是数据库网址（比如 postgresql+psycopg://用户名@主机/库名 "
            "或 sqlite:///路径），或者留空（用数据文件夹里的 SQLite），现在是「postgres://db/posters」",
        ),
        (
            "REDIS_URL",
            "localhost:6379",
            "POSTERAPP_REDIS_URL 应该是 Redis 网址（比如 redis://127.0.0.1:6379/0 或 rediss://…），"
            "或者留空，现在是「localhost:6379」",
        ),
        (
            "RATE_LIMIT_POSTERS",
            "20 a minute",
            f"POSTERAPP_RATE_LIMIT_POSTERS {RATES}，现在是「20 a minute」",
        ),
        (
            "RATE_LIMIT_POSTERS",
            "20 per minute; 300 per fortnight",
            f"POSTERAPP_RATE_LIMIT_POSTERS {RATES}，现在是「20 per minute; 300 per fortnight」",
        ),
        ("RATE_LIMIT_LOGIN", "", f"POSTERAPP_RATE_LIMIT_LOGIN {RATES}，现在是空的"),
        (
            "RATE_LIMIT_PREVIEWS",
            "lots",
            f"POSTERAPP_RATE_LIMIT_PREVIEWS {RATES}，现在是「lots」",
        ),
        (
            "BIND",
            "127.0.0.1:80a",
            "POSTERAPP_BIND 应该是「地址:端口」（比如 127.0.0.1:8000 或 0.0.0.0:8000），"
            "或者 unix:套接字文件的路径，现在是「127.0.0.1:80a」",
        ),
        (
            "BIND",
            "localhost:99999",
            "POSTERAPP_BIND 应该是「地址:端口」（比如 127.0.0.1:8000 或 0.0.0.0:8000），"
            "或者 unix:套接字文件的路径，现在是「localhost:99999」",
        ),
        (
            "DATA_DIR",
            " ",
            "POSTERAPP_DATA_DIR 应该是一个文件或文件夹的路径（比如 /srv/posterapp），不能是空的，"
            "现在是「 」",
        ),
        (
            "SECRET_KEY",
            "",
            "POSTERAPP_SECRET_KEY 不能是空的：请设一串长的随机字符，可以用 "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))' 生成，现在是空的",
        ),
    ],
)
def test_a_bad_value_is_named_with_what_it_should_be(name, value, message):
    with pytest.raises(SettingsError) as bad:
        load({f"POSTERAPP_{name}": value})
    assert bad.value.problems == [message]
    assert str(bad.value) == message


@pytest.mark.parametrize(
    "name, value, read",
    [
        ("RENDER_BUDGET", "2.5", 2.5),
        ("RENDER_BUDGET", " 5 ", 5.0),
        ("WORKERS", "4", 4),
        ("WORKER_TIMEOUT", "120", 120),
        ("TRUSTED_PROXIES", "0", 0),
        ("PRODUCTION", "false", False),
        ("CONSOLE", "OFF", False),
        ("CONSOLE", "1", True),
        (
            "PUBLIC_URL",
            "https://posters.example.org/campaign",
            "https://posters.example.org/campaign",
        ),
        ("DATABASE_URL", "postgresql+psycopg://u@db/p", "postgresql+psycopg://u@db/p"),
        ("DATABASE_URL", "", ""),
        ("REDIS_URL", "rediss://cache:6380/0", "rediss://cache:6380/0"),
        ("RATE_LIMIT_POSTERS", "20/minute, 3 per 2 hours", "20/minute, 3 per 2 hours"),
        ("BIND", "0.0.0.0:8000", "0.0.0.0:8000"),
        ("BIND", "[::1]:8000", "[::1]:8000"),
        ("BIND", "example.org", "example.org"),
        ("BIND", "unix:/run/posterapp.sock", "unix:/run/posterapp.sock"),
        ("BIND", "fd://3", "fd://3"),
        ("DATA_DIR", "/srv/posterapp", Path("/srv/posterapp")),
    ],
)
def test_a_good_value_is_read_as_its_type(name, value, read):
    got = getattr(load({f"POSTERAPP_{name}": value}), name)
    assert got == read and type(got) is type(read)


def test_every_problem_is_listed_at_once_in_one_line():
    with pytest.raises(SettingsError) as bad:
        load({
            "POSTERAPP_WORKERS": "many", "POSTERAPP_RENDER_BUDGET": "5s",
            "POSTERAPP_BIND": "here", "POSTERAPP_CONSOLE": "yes",  # the last two are fine
            "POSTERAPP_PRODUCTION": "ja",
        })  # fmt: skip
    message = str(bad.value)
    assert len(bad.value.problems) == 3 and "\n" not in message
    assert message.startswith("有 3 个设置需要改：(1) POSTERAPP_RENDER_BUDGET ")
    assert "(2) POSTERAPP_PRODUCTION " in message and "(3) POSTERAPP_WORKERS " in message


def test_production_lists_a_weak_key_and_a_local_address_together():
    with pytest.raises(SettingsError) as bad:
        load({"POSTERAPP_PRODUCTION": "true", "POSTERAPP_PUBLIC_URL": "http://localhost:8000"})
    first, second = bad.value.problems
    assert first.startswith("POSTERAPP_PUBLIC_URL（现在是 http://localhost:8000）")
    assert second.startswith("POSTERAPP_SECRET_KEY 在正式环境里必须是一串足够长的随机字符")


def test_defaults_and_overrides():
    assert load({}) == settings.Settings()
    cores = os.cpu_count() or 2
    assert cores == load({}).WORKERS
    # A test's (or caller's) value replaces the environment's before anything is checked.
    read = load({"POSTERAPP_RENDER_BUDGET": "5s"}, {"RENDER_BUDGET": 0.2, "CONSOLE": "false"})
    assert read.RENDER_BUDGET == 0.2 and read.CONSOLE is False


def test_a_bad_environment_stops_create_app_with_the_message(tmp_path, monkeypatch):
    from posterapp import create_app

    monkeypatch.setenv("POSTERAPP_RENDER_BUDGET", "5s")
    monkeypatch.setenv("POSTERAPP_TRUSTED_PROXIES", "two")
    with pytest.raises(RuntimeError) as bad:
        create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path)})
    said = str(bad.value)
    assert "POSTERAPP_RENDER_BUDGET 应该是秒数（比如 5 或 2.5），现在是「5s」" in said
    assert "POSTERAPP_TRUSTED_PROXIES 应该是 0 或更大的整数（比如 1），现在是「two」" in said


def test_a_good_environment_starts_the_app_with_typed_config(tmp_path, monkeypatch):
    from posterapp import create_app

    monkeypatch.setenv("POSTERAPP_RENDER_BUDGET", "2.5")
    monkeypatch.setenv("POSTERAPP_CONSOLE", "false")
    monkeypatch.setenv("POSTERAPP_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("POSTERAPP_PUBLIC_URL", "https://posters.example.org")
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path)})
    try:
        assert app.config["RENDER_BUDGET"] == 2.5
        assert app.config["CONSOLE"] is False and app.config["TRUSTED_PROXIES"] == 1
        assert app.config["DATA_DIR"] == str(tmp_path)  # a test's value wins
        assert app.config["RATE_LIMIT_POSTERS"] == TEST_CONFIG["RATE_LIMIT_POSTERS"]
        assert app.config["SESSION_COOKIE_SECURE"] is True
        client = app.test_client()
        assert client.get("/").status_code == 200
        assert client.get("/admin").status_code == 404
    finally:
        app.extensions["posterapp"].store.close()


def test_the_cli_stops_on_a_bad_environment_with_every_message(runner, tmp_path):
    env = {"POSTERAPP_WORKERS": "many", "POSTERAPP_RATE_LIMIT_LOGIN": "10 a minute"}
    result = runner.invoke(main, ["--data-dir", str(tmp_path), "versions"], env=env)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"设置需要改一下：POSTERAPP_RATE_LIMIT_LOGIN {RATES}，现在是「10 a minute」",
        "设置需要改一下：POSTERAPP_WORKERS 应该是大于 0 的整数（比如 4），现在是「many」",
    ]
    assert "Traceback" not in result.output


def test_the_cli_reads_its_folders_from_the_settings(runner, tmp_path):
    env = {"POSTERAPP_DATA_DIR": str(tmp_path)}
    result = runner.invoke(main, ["versions"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "posterapp.db").exists()


READ_CONF = """
import importlib.util, json
spec = importlib.util.spec_from_file_location("gunicorn_conf", "gunicorn.conf.py")
conf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conf)
print(json.dumps({"workers": conf.workers, "bind": conf.bind, "timeout": conf.timeout}))
"""


def gunicorn_env(tmp_path, **variables) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTERAPP_")}
    # An operator's own metrics folder: gunicorn.conf.py makes none and removes nothing.
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), **variables}


def test_gunicorn_conf_reads_the_same_settings(tmp_path):
    given = {"POSTERAPP_WORKERS": "3", "POSTERAPP_BIND": "0.0.0.0:9000"}
    env = gunicorn_env(tmp_path, **given, POSTERAPP_WORKER_TIMEOUT="45")
    done = subprocess.run(
        [sys.executable, "-c", READ_CONF], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"workers": 3, "bind": "0.0.0.0:9000", "timeout": 45}
    defaults = subprocess.run(
        [sys.executable, "-c", READ_CONF],
        cwd=ROOT, env=gunicorn_env(tmp_path), capture_output=True, text=True,
    )  # fmt: skip
    default = settings.Settings()
    assert json.loads(defaults.stdout) == {
        "workers": default.WORKERS, "bind": "127.0.0.1:8000", "timeout": 30
    }  # fmt: skip


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", READ_CONF],
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config",
         "posterapp:create_app()"],
    ],
    ids=["conf", "gunicorn"],
)  # fmt: skip
def test_gunicorn_stops_on_a_bad_setting_with_one_line(tmp_path, command):
    env = gunicorn_env(tmp_path, POSTERAPP_WORKER_TIMEOUT="30s", POSTERAPP_RENDER_BUDGET="5s")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "posterapp: 有 2 个设置需要改："
        f"(1) POSTERAPP_RENDER_BUDGET {SECONDS}，现在是「5s」 "
        "(2) POSTERAPP_WORKER_TIMEOUT 应该是整数的秒数，至少 1（比如 30），现在是「30s」"
    ]


# The README ----------------------------------------------------------------------------------


def readme_rows() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Settings") :]
    section = section[: section.index("\n## ", 1)]
    rows = {}
    for line in section.splitlines():
        found = re.match(r"\| `POSTERAPP_(\w+)` \| (.*) \|$", line)
        if found:
            rows[found[1]] = [cell.strip() for cell in found[2].split(" | ")]
    return rows


def test_the_readme_documents_every_setting_with_its_default():
    rows = readme_rows()
    assert sorted(rows) == sorted(settings.FIELDS)
    for name, (shown, _value, what) in rows.items():
        assert shown == settings.shown_default(name), name
        assert what and what == settings.describe(name).replace("|", "\\|"), name


def test_the_readme_table_is_the_generated_one():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import settings_table
    finally:
        sys.path.remove(str(ROOT / "tools"))
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table.with_table(text) == text, "run: python3 tools/settings_table.py --write"


def test_every_setting_says_what_it_is_for():
    for name in settings.FIELDS:
        assert len(settings.describe(name)) > 20, name


def test_nothing_else_reads_posterapp_variables_from_the_environment():
    sources = [*(ROOT / "posterapp").rglob("*.py"), ROOT / "gunicorn.conf.py"]
    reading = re.compile(r"environ(\.get\(|\[)\s*['\"]POSTERAPP_|getenv\(\s*['\"]POSTERAPP_")
    assert [p.name for p in sources if reading.search(p.read_text(encoding="utf-8"))] == []
