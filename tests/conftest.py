"""Shared fixtures: the shipped catalog, temporary catalogs, the CLI runner."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.testing import FlaskClient

from posterapp import versions
from posterapp.assets import Assets
from posterapp.errors import InvalidSource, Problem
from posterapp.store import Store

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
DEFAULT_CATALOG = ROOT / "choices" / "default.yaml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def default_version() -> versions.CatalogVersion:
    return versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS))


@pytest.fixture(scope="session")
def catalog_text() -> str:
    return DEFAULT_CATALOG.read_text(encoding="utf-8")


@pytest.fixture
def write_catalog(tmp_path):
    """Write catalog YAML text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "catalog.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def catalog_problems(write_catalog):
    """Load catalog text against the shipped layouts; return its problems (none: [])."""

    def problems(text: str, assets: Path = ASSETS) -> list[Problem]:
        try:
            versions.load_sources(write_catalog(text), Assets(assets))
        except InvalidSource as error:
            return error.problems
        return []

    return problems


@pytest.fixture
def store(tmp_path):
    """An empty SQLite store in a temporary folder."""
    found = Store(f"sqlite:///{tmp_path / 'posterapp.db'}")
    found.create_schema()
    yield found
    found.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


PUBLIC_URL = "https://posters.example"
# Tests make many posters from one address; the limits get tests of their own.
NO_LIMITS = {
    "RATE_LIMIT_POSTERS": "100000 per minute",
    "RATE_LIMIT_LOGIN": "100000 per minute",
    "RATE_LIMIT_PREVIEWS": "100000 per minute",
}
TEST_CONFIG = {"TESTING": True, "DATABASE_URL": "", "REDIS_URL": "", **NO_LIMITS}


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the session, on SQLite in a temporary folder (loading a catalog takes ~1 s)."""
    from posterapp import create_app

    data = tmp_path_factory.mktemp("data")
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(data), "PUBLIC_URL": PUBLIC_URL})
    yield app
    app.extensions["posterapp"].store.close()


class BufferedClient(FlaskClient):
    """A test client that reads and closes every response, as a real server does."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = BufferedClient
    return app.test_client()


@pytest.fixture
def studio(app):
    return app.extensions["posterapp"]


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path

    def store(self) -> Store:
        """Open the server's own database (close it after use)."""
        return Store(f"sqlite:///{self.data_dir / 'posterapp.db'}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A real gunicorn server with two workers on SQLite, for the whole session."""
    from .servers import gunicorn

    data_dir = tmp_path_factory.mktemp("live")
    with gunicorn(data_dir) as url:
        yield LiveServer(url, data_dir)


def unavailable(what: str, how: str):
    """Fail in CI, where .ci/run provides everything; elsewhere skip, saying how to get it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not available in CI; .ci/run should have provided it")
    pytest.skip(f"needs {what}: {how}")


POSTGRES = os.environ.get(
    "POSTERAPP_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("POSTERAPP_TEST_REDIS", "redis://127.0.0.1:6379/15")


@contextlib.contextmanager
def postgres_database(prefix: str = "posterapp_test"):
    """Make a new, empty PostgreSQL database; yield its URL; drop it afterwards."""
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as db:
            db.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        admin.dispose()
        unavailable(
            "PostgreSQL",
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        )
    try:
        yield sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as db:
            db.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def database():
    """A new, empty PostgreSQL database for this module; dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def redis_url():
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        unavailable("Redis", 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""')
    finally:
        client.close()
    return REDIS


CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; skipped outside CI when it is not installed."""
    if not shutil.which(CHROMIUM):
        unavailable(CHROMIUM, "run `apt-get update && apt-get install -y chromium`")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
