"""Settings, each declared once with its default and what it is for.

Every setting can be given in the environment as ``POSTERAPP_<NAME>``. The web app takes
these defaults into its config and then reads the environment with Flask's
``from_prefixed_env("POSTERAPP")``; the CLI reads the environment directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str

    def value(self) -> str:
        return os.environ.get(f"POSTERAPP_{self.name}", self.default)


SETTINGS: dict[str, Setting] = {}


def define(name: str, default: str, description: str) -> Setting:
    SETTINGS[name] = Setting(name, default, description)
    return SETTINGS[name]


ASSETS_DIR = define(
    "ASSETS_DIR",
    str(ROOT / "assets"),
    "fonts, icons and layouts/*.yaml; image paths in catalogs are relative to it",
)
CATALOG = define(
    "CATALOG",
    str(ROOT / "choices" / "default.yaml"),
    "the catalog YAML that new posters are made from",
)
DATA_DIR = define(
    "DATA_DIR",
    str(ROOT / "instance"),
    "where posterapp keeps its files: the SQLite database (by default) and rendered images",
)
DATABASE_URL = define(
    "DATABASE_URL",
    "",
    "SQLAlchemy URL of the database (postgresql+psycopg://…); empty: SQLite in DATA_DIR",
)
PUBLIC_URL = define(
    "PUBLIC_URL",
    "http://localhost:8000",
    "the address people reach posterapp at; every absolute URL and QR code starts with it",
)
SECRET_KEY = define(
    "SECRET_KEY",
    "dev-only-not-secret",
    "signs cookies; set a long random value in production",
)

REDIS_URL = define(
    "REDIS_URL",
    "",
    "Redis for what app servers share (rate-limit counters), e.g. redis://127.0.0.1:6379/0; "
    "empty: kept in each process, fine for one server",
)
RATE_LIMIT_POSTERS = define(
    "RATE_LIMIT_POSTERS",
    "20 per minute; 300 per hour",
    "how many posters one client address may make (the API and the picker form together)",
)
RATE_LIMIT_PREVIEWS = define(
    "RATE_LIMIT_PREVIEWS",
    "120 per minute",
    "live poster previews per client address (each is a render, so they are counted too)",
)
RATE_LIMIT_LOGIN = define(
    "RATE_LIMIT_LOGIN", "10 per minute", "console sign-in attempts per client address"
)
TRUSTED_PROXIES = define(
    "TRUSTED_PROXIES",
    "0",
    "how many proxies in front of posterapp set X-Forwarded-For; only they are believed",
)

RENDER_BUDGET = define(
    "RENDER_BUDGET",
    "5",
    "seconds a poster may take to render before the request gets a 503 instead of hanging",
)
PRODUCTION = define(
    "PRODUCTION",
    "false",
    "true: refuse to start with the default secret key, or with the console open and no accounts",
)
CONSOLE = define("CONSOLE", "true", "false: serve no /admin console at all")
METRICS_TOKEN = define(
    "METRICS_TOKEN",
    "",
    "the secret a Prometheus scraper sends as `Authorization: Bearer <token>` to read /metrics; "
    "empty: /metrics answers only to this machine (127.0.0.1, ::1), not through a proxy",
)


def path(setting: Setting) -> Path:
    return Path(setting.value())


def database_url(data_dir: Path, url: str = "") -> str:
    """Return the database URL to use: the one given, or SQLite in ``data_dir``."""
    if url:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir.resolve() / 'posterapp.db'}"
