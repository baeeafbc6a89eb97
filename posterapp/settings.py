"""Settings, each declared once with its type, default and what it is for.

Every setting is given in the environment as ``POSTERAPP_<NAME>``. :func:`load` reads them
all once, at start-up, checks each against its kind and returns one typed :class:`Settings`,
or raises :class:`SettingsError` naming every bad variable and what it allows, in words an
operator can act on. ``create_app`` (where a test's dict overrides the environment), the
``posterapp`` command and gunicorn.conf.py all read the same :class:`Settings`; the README's
table is made from it (``python3 tools/settings_table.py --write``).

Nothing here imports Flask: gunicorn's master reads this module before any worker exists.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "POSTERAPP_"
DEV_SECRET_KEY = "dev-only-not-secret"


class SettingsError(RuntimeError):
    """Some POSTERAPP_* variables have values posterapp cannot use; ``problems`` says which."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        if len(problems) == 1:
            message = problems[0]
        else:  # one line still: it goes to logs that keep one event a line
            numbered = " ".join(f"({n}) {p}" for n, p in enumerate(problems, 1))
            message = f"有 {len(problems)} 个设置需要改：{numbered}"
        super().__init__(message)


# Kinds of value ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What values a setting takes: how to read one, what to tell a person, how to show one."""

    parse: Callable[[object], object]  # raises ValueError when the value is not allowed
    allowed: str  # for operators, in Chinese: "应该是秒数（比如 5 或 2.5）"
    label: str  # for the README, in English
    show: Callable[[object], str] = str


def _text(value: object) -> str:
    return str(value)


def _secret(value: object) -> str:
    if not str(value):
        raise ValueError
    return str(value)


def _path(value: object) -> Path:
    if not str(value).strip():
        raise ValueError
    return Path(value)  # type: ignore[arg-type]


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", text):  # not "5s", "1_000", "inf"
        raise ValueError
    return float(text)


def _seconds(value: object) -> float:
    number = _number(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError
    return number


def _whole(minimum: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        if isinstance(value, bool):
            raise ValueError
        text = str(value).strip()
        if not re.fullmatch(r"[0-9]+", text) or int(text) < minimum:
            raise ValueError
        return int(text)

    return parse


YES = {"1", "true", "yes", "on"}
NO = {"0", "false", "no", "off"}


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in YES | NO:
        raise ValueError
    return text in YES


def _web_address(value: object) -> str:
    url = str(value).strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValueError from None
    if parts.scheme not in {"http", "https"} or not host or any(c.isspace() for c in url):
        raise ValueError
    return url


def _database_url(value: object) -> str:
    url = str(value).strip()
    # The store speaks SQLite and PostgreSQL, with any driver: "postgresql+psycopg://…".
    if url and not re.match(r"(sqlite|postgresql)(\+\w+)?://", url):
        raise ValueError
    return url


def _redis_url(value: object) -> str:
    url = str(value).strip()
    if url and not re.match(r"rediss?(\+\w+)?://", url):
        raise ValueError
    return url


def _rate_limits(value: object) -> str:
    from limits import parse_many  # flask-limiter's own reading of these strings

    text = str(value).strip()
    try:
        parse_many(text)
    except ValueError:
        raise ValueError from None
    return text


def _bind(value: object) -> str:
    """Accept what gunicorn's --bind takes: HOST, HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N."""
    text = str(value).strip()
    if text.startswith("unix:"):
        if not text[len("unix:") :]:
            raise ValueError
        return text
    if text.startswith("fd://"):
        if not text[len("fd://") :].isdigit():
            raise ValueError
        return text
    host, colon, port = text.rpartition(":")
    if not colon or host.endswith(":") or (":" in host and not host.startswith("[")):
        host, port = text, ""  # no port ("example.org", "::1"): gunicorn uses 8000
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError
    host = host.strip("[]") if host.startswith("[") and host.endswith("]") else host
    if not host or any(c.isspace() or c in "/[]@" for c in host):
        raise ValueError
    if ":" in host:
        ipaddress.IPv6Address(host)  # raises ValueError
    return text


TEXT = Kind(_text, "", "text")
SECRET = Kind(
    _secret,
    "不能是空的：请设一串长的随机字符，"
    "可以用 python3 -c 'import secrets; print(secrets.token_urlsafe(48))' 生成",
    "text",
)
PATH = Kind(_path, "应该是一个文件或文件夹的路径（比如 /srv/posterapp），不能是空的", "path")
SECONDS = Kind(_seconds, "应该是秒数（比如 5 或 2.5）", "seconds", show=lambda v: f"{v:g}")
WHOLE_SECONDS = Kind(_whole(1), "应该是整数的秒数，至少 1（比如 30）", "whole seconds")
COUNT = Kind(_whole(0), "应该是 0 或更大的整数（比如 1）", "whole number")
POSITIVE_COUNT = Kind(_whole(1), "应该是大于 0 的整数（比如 4）", "whole number ≥ 1")
FLAG = Kind(
    _flag,
    "应该是 true 或 false（也可以写 1/0、yes/no、on/off）",
    "`true` or `false`",
    show=lambda v: "true" if v else "false",
)
WEB_ADDRESS = Kind(
    _web_address,
    "不是完整的网址：请写上 https:// 和域名，应该像 https://posters.example.org 这样",
    "http(s) URL",
)
DATABASE = Kind(
    _database_url,
    "应该是数据库网址（比如 postgresql+psycopg://用户名@主机/库名 或 sqlite:///路径），"
    "或者留空（用数据文件夹里的 SQLite）",
    "SQLAlchemy URL",
)
REDIS = Kind(
    _redis_url,
    "应该是 Redis 网址（比如 redis://127.0.0.1:6379/0 或 rediss://…），或者留空",
    "Redis URL",
)
RATE_LIMITS = Kind(
    _rate_limits,
    "应该是「次数 per 时间单位」，几条之间用分号隔开（比如 20 per minute; 300 per hour），"
    "时间单位是 second、minute、hour、day、month 或 year",
    "`N per minute`, `;` between several",
)
LISTEN_ADDRESS = Kind(
    _bind,
    "应该是「地址:端口」（比如 127.0.0.1:8000 或 0.0.0.0:8000），或者 unix:套接字文件的路径",
    "`HOST:PORT` or `unix:PATH`",
)


def setting(kind: Kind, default: object, description: str, shown: str | None = None) -> Any:
    """Declare one setting: its kind, its default, what it is for, the default as shown."""
    # Any, as dataclasses.field() has it: the field stands in for a value of the setting's type.
    metadata = {"kind": kind, "description": description, "shown": shown}
    if callable(default):
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


# The settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Every POSTERAPP_* setting, typed. Read the environment into one with :func:`load`."""

    PUBLIC_URL: str = setting(
        WEB_ADDRESS,
        "http://localhost:8000",
        "the address people reach posterapp at; every absolute URL and QR code starts with it",
    )
    SECRET_KEY: str = setting(
        SECRET,
        DEV_SECRET_KEY,
        "signs cookies; set a long random value in production",
        shown="a development value",
    )
    DATABASE_URL: str = setting(
        DATABASE,
        "",
        "the database, e.g. `postgresql+psycopg://host/db`; empty: SQLite in DATA_DIR",
    )
    DATA_DIR: Path = setting(
        PATH,
        ROOT / "instance",
        "where posterapp keeps its files: the SQLite database (by default) and rendered images",
        shown="`instance/`",
    )
    CATALOG: Path = setting(
        PATH,
        ROOT / "choices" / "default.yaml",
        "the catalog YAML that new posters are made from",
        shown="`choices/default.yaml`",
    )
    ASSETS_DIR: Path = setting(
        PATH,
        ROOT / "assets",
        "icons and layouts/*.yaml; image paths in catalogs are relative to it",
        shown="`assets/`",
    )
    REDIS_URL: str = setting(
        REDIS,
        "",
        "Redis for what app servers share (rate-limit counters), e.g. `redis://127.0.0.1:6379/0`; "
        "empty, or unreachable for a while: the limits are counted per process, so each worker "
        "and server allows the full amount (an outage is logged once a minute)",
    )
    RATE_LIMIT_POSTERS: str = setting(
        RATE_LIMITS,
        "20 per minute; 300 per hour",
        "how many posters one client address may make (the API and the picker form together)",
    )
    RATE_LIMIT_LOGIN: str = setting(
        RATE_LIMITS, "10 per minute", "console sign-in attempts per client address"
    )
    RATE_LIMIT_PREVIEWS: str = setting(
        RATE_LIMITS,
        "120 per minute",
        "live poster previews per client address (each is a render, so they are counted too)",
    )
    TRUSTED_PROXIES: int = setting(
        COUNT,
        0,
        "how many proxies in front of posterapp set X-Forwarded-For; only they are believed",
    )
    RENDER_BUDGET: float = setting(
        SECONDS,
        5.0,
        "seconds a poster may take to render before the request gets a 503 instead of hanging",
    )
    PRODUCTION: bool = setting(
        FLAG,
        False,
        "`true`: refuse to start with a weak secret key, a PUBLIC_URL that is not a public "
        "https address, or the console on and no staff account",
    )
    CONSOLE: bool = setting(FLAG, True, "`false`: serve no /admin console at all")
    METRICS_TOKEN: str = setting(
        TEXT,
        "",
        "the secret a Prometheus scraper sends as `Authorization: Bearer <token>` to read "
        "/metrics (401 without it); empty: /metrics answers only to this machine "
        "(127.0.0.1, ::1), not through a proxy, and 404 to others",
    )
    WORKERS: int = setting(
        POSITIVE_COUNT,
        lambda: os.cpu_count() or 2,
        "gunicorn worker processes (rendering is CPU work: one per core); read by gunicorn.conf.py",
        shown="the number of cores",
    )
    BIND: str = setting(
        LISTEN_ADDRESS,
        "127.0.0.1:8000",
        "the address gunicorn listens on; read by gunicorn.conf.py",
    )
    WORKER_TIMEOUT: int = setting(
        WHOLE_SECONDS,
        30,
        "seconds a gunicorn worker may stay silent (a stuck render) before it is replaced and "
        "its request gets a 502; read by gunicorn.conf.py",
    )

    def config(self) -> dict[str, object]:
        """Return the settings as Flask config; paths as text, as Flask's config has them."""
        return {
            name: str(value) if isinstance(value, Path) else value
            for name, value in dataclasses.asdict(self).items()
        }


FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def describe(name: str) -> str:
    """Return what setting ``name`` is for."""
    return FIELDS[name].metadata["description"]


def default(name: str) -> object:
    """Return the default value of setting ``name``."""
    f = FIELDS[name]
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def shown_default(name: str) -> str:
    """Return the default of setting ``name`` the way the README shows it."""
    f = FIELDS[name]
    if f.metadata["shown"]:
        return f.metadata["shown"]
    value = f.metadata["kind"].show(default(name))
    return f"`{value}`" if value else "(empty)"


def load(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
) -> Settings:
    """Read every setting from ``environ`` (default: os.environ), ``overrides`` taking precedence.

    Raise :class:`SettingsError` listing every value that is not allowed.
    """
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    given: dict[str, object] = {}
    for name in FIELDS:
        if name in overrides:
            given[name] = overrides[name]
        elif PREFIX + name in environ:
            given[name] = environ[PREFIX + name]
    values: dict[str, Any] = {}  # each parsed by its field's Kind: of that field's type
    problems: dict[str, str] = {}
    for name, raw in given.items():
        kind = FIELDS[name].metadata["kind"]
        try:
            values[name] = kind.parse(raw)
        except ValueError:
            now = f"「{raw}」" if str(raw) else "空的"
            problems[name] = f"{PREFIX}{name} {kind.allowed}，现在是{now}"
    if values.get("PRODUCTION", default("PRODUCTION")):
        # In production the address must be public https and the key unguessable; these
        # say more than the plain check of the address, so they take its place.
        url = str(given.get("PUBLIC_URL", default("PUBLIC_URL")))
        problem = public_url_problem(url)
        if problem:
            problems["PUBLIC_URL"] = problem
        key = values.get("SECRET_KEY", default("SECRET_KEY"))
        if "SECRET_KEY" not in problems and weak_secret_key(str(key)):
            problems["SECRET_KEY"] = (
                f"{PREFIX}SECRET_KEY 在正式环境里必须是一串足够长的随机字符（至少 32 个字符），"
                "可以用这条命令生成：python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
    if problems:
        raise SettingsError([problems[name] for name in FIELDS if name in problems])
    return Settings(**values)


def weak_secret_key(key: str) -> bool:
    # Spaces or one character repeated are as guessable as no key at all.
    return key == DEV_SECRET_KEY or len(key.strip()) < 32 or len(set(key)) < 8


LOOPBACK_HOSTS = {"localhost", "localhost.localdomain", "0.0.0.0", "::", "::1"}


def public_url_problem(url: str) -> str | None:
    """Say what is wrong with PUBLIC_URL for production, or None when people can reach it."""
    example = "例如 POSTERAPP_PUBLIC_URL=https://posters.example.org"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if parts is None or not parts.scheme or not host or any(c.isspace() for c in url):
        return (
            f"POSTERAPP_PUBLIC_URL（现在是 {url!r}）不是完整的网址：请写上 https:// 和域名，"
            f"{example}。否则每张海报的二维码都做不出来。"
        )
    if not url.startswith("https://"):
        return (
            f"POSTERAPP_PUBLIC_URL（现在是 {url}）在正式环境里必须以小写的 https:// 开头，"
            f"否则登录 cookie 会在没有加密的连接上传送。{example}。"
        )
    if host in LOOPBACK_HOSTS or host.endswith(".localhost") or _loopback(host):
        return (
            f"POSTERAPP_PUBLIC_URL（现在是 {url}）指向本机：每张海报的二维码都会打不开，"
            f"而且这个地址会永久存进海报记录。请设成大家访问的地址，{example}。"
        )
    if parts.query or parts.fragment:
        return (
            f"POSTERAPP_PUBLIC_URL（现在是 {url}）不能带 ? 或 # 后面的部分，"
            f"请只写协议、域名和路径，{example}。"
        )
    return None


def _loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def markdown_table() -> str:
    """Return the README's table of settings, one row per setting, in declaration order."""
    rows = ["| variable | default | value | what |", "|---|---|---|---|"]
    for name, f in FIELDS.items():
        cells = [f"`{PREFIX}{name}`", shown_default(name), f.metadata["kind"].label]
        cells.append(f.metadata["description"])
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def database_url(data_dir: Path, url: str = "") -> str:
    """Return the database URL to use: the one given, or SQLite in ``data_dir``."""
    if url:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir.resolve() / 'posterapp.db'}"
