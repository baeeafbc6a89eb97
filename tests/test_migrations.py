"""Migrations: a database from the last release comes through `posterapp init-db` whole.

The old database is made by the release's own store.py (commit 04f234a, read with git show)
and filled through its own Store; today's Store must then find every row and the new
features must work. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from posterapp import store as store_module
from posterapp.cli import main
from posterapp.store import PosterRecord, Store

ROOT = Path(__file__).resolve().parent.parent
RELEASE = "04f234a"  # the last release before migrations
HEAD = "0003"
WHEN = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)


def release_store_module() -> types.ModuleType:
    """Load posterapp/store.py as it was at the release, inside today's package."""
    source = subprocess.run(
        ["git", "show", f"{RELEASE}:posterapp/store.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # Rendering has moved since; storing needs none of it (only PosterRecord.poster did).
    source = source.replace("from .render.poster import Poster", "Poster = None")
    module = types.ModuleType("posterapp._release_store")
    module.__package__ = "posterapp"  # its `from . import versions` finds today's modules
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{RELEASE}:posterapp/store.py", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def release():
    return release_store_module()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """An empty database: a SQLite file, or the module's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'posterapp.db'}"
    found = request.getfixturevalue("database")
    engine = sa.create_engine(found)
    with engine.begin() as db:
        db.exec_driver_sql("DROP SCHEMA public CASCADE")
        db.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return found


def make_release_database(release, url: str, version) -> list[str]:
    """Create the release's tables with the release's code and put the campaign's rows in."""
    old = release.Store(url)
    try:
        old.create_schema()
        first = release.PosterRecord(
            id="Ab3-dEf_9xYz", catalog_version=version.version, layout="classic",
            choices=("travel-fund", "nanjing-big-buns"), name="老王", url="https://p.example/a",
            ref=None, created_at=WHEN,
        )  # fmt: skip
        friend = release.PosterRecord(
            id="Qr5tUv7wXy8z", catalog_version=version.version, layout="classic",
            choices=("travel-fund",), name="小李", url="https://p.example/b",
            ref=first.id, created_at=WHEN + dt.timedelta(hours=1),
        )  # fmt: skip
        old.publish(version, "# the campaign\n", "ops", None, kind="initial")
        old.add_poster(first)
        old.add_poster(friend)
        old.record("share_view", first.id)
        old.record("scan", first.id)
        old.set_user("old.hand", "scrypt:release-hash")
        old.save_upload("uploads/logo.png", b"\x89PNG release", "old.hand")
    finally:
        old.close()
    return [first.id, friend.id]


def init_db(runner, tmp_path, url: str) -> str:
    result = runner.invoke(
        main, ["--data-dir", str(tmp_path / "data"), "init-db"],
        env={"POSTERAPP_DATABASE_URL": url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            return MigrationContext.configure(db).get_current_revision()
    finally:
        engine.dispose()


def schema_differences(url: str) -> list:
    """Return how the database's tables differ from store.metadata (none, once at head)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            return compare_metadata(MigrationContext.configure(db), store_module.metadata)
    finally:
        engine.dispose()


def test_a_release_database_is_upgraded_with_its_data(
    release, url, runner, tmp_path, default_version
):
    first, friend = make_release_database(release, url, default_version)
    assert revision(url) is None

    said = init_db(runner, tmp_path, url)
    assert f"这是有迁移记录之前建的，按首个正式版处理，已升级到 {HEAD}" in said
    assert revision(url) == HEAD
    assert schema_differences(url) == []

    store = Store(url)
    try:
        # Everything the release stored is there.
        old = store.get_poster(first)
        assert (old.name, old.choices, old.ref, old.city) == (
            "老王",
            ("travel-fund", "nanjing-big-buns"),
            None,
            None,
        )
        assert old.created_at == WHEN
        assert store.get_poster(friend).ref == first
        assert store.event_counts(first) == {
            "created": 1, "share_view": 1, "scan": 1, "referral": 1
        }  # fmt: skip
        assert store.live().version == default_version.version
        assert store.live().source == "# the campaign\n"
        assert store.load_version(default_version.version).version == default_version.version
        assert store.upload("uploads/logo.png") == b"\x89PNG release"
        assert store.password_hash("old.hand") == "scrypt:release-hash"
        # The release's staff account is an admin, enabled, never signed in since.
        account = store.account("old.hand")
        assert (account.role, account.disabled, account.last_sign_in_at) == ("admin", False, None)

        # This round's features work on it.
        store.add_poster(
            PosterRecord(
                id="NEW0CITY0001", catalog_version=default_version.version, layout="classic",
                choices=("travel-fund",), name="阿芳", url="https://p.example/c", ref=first,
                created_at=WHEN + dt.timedelta(days=1), city="wuhan",
            )
        )  # fmt: skip
        assert store.get_poster("NEW0CITY0001").city == "wuhan"
        store.record_click(first, "travel-fund")
        assert store.click_counts(first) == {"travel-fund": 1}
        assert store.change_account("old.hand", role="editor") == "last_admin"
        assert store.add_account("new.hand", "scrypt:x", "editor")
        assert store.account("new.hand").role == "editor"
        store.add_audit("old.hand", "publish", "v2", "127.0.0.1")
        assert [e.action for e in store.audit_entries()] == ["publish"]
        store.save_draft("old.hand", store.live().id, "# editing\n")
        assert store.draft("old.hand").source == "# editing\n"
    finally:
        store.close()

    # A second run finds nothing to do.
    assert f"已经是结构版本 {HEAD}，不用改动" in init_db(runner, tmp_path, url)
    assert revision(url) == HEAD


def test_a_database_from_before_the_events_kind_index_gets_it(release, url, runner, tmp_path):
    old = release.Store(url)
    old.create_schema()
    old.close()
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.exec_driver_sql("DROP INDEX ix_events_kind")
    engine.dispose()

    init_db(runner, tmp_path, url)
    engine = sa.create_engine(url)
    try:
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("events")}
    finally:
        engine.dispose()
    assert "ix_events_kind" in indexes
    assert schema_differences(url) == []


def test_a_new_database_ends_at_head(url, runner, tmp_path):
    assert f"数据库准备好了（新建的，结构版本 {HEAD}）：" in init_db(runner, tmp_path, url)
    assert revision(url) == HEAD
    assert schema_differences(url) == []
    assert "不用改动" in init_db(runner, tmp_path, url)


def test_the_revisions_build_what_the_tables_say(url):
    """Run 0001 and 0002 from nothing: the same schema as a new database's create_all."""
    import alembic.command

    store = Store(url)
    try:
        with store.engine.begin() as db:
            alembic.command.upgrade(store.alembic_config(db), "head")
    finally:
        store.close()
    assert revision(url) == HEAD
    assert schema_differences(url) == []


def test_workers_starting_at_once_migrate_once(release, url, default_version):
    make_release_database(release, url, default_version)
    stores = [Store(url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    changes, errors = [], []

    def worker(store: Store) -> None:
        start.wait()
        try:
            changes.append(store.migrate())
        except Exception as error:  # noqa: BLE001 - the test reports it below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    assert {change.after for change in changes} == {HEAD}
    # One worker upgraded; the others found it done (after waiting, or before they looked).
    assert sum(change.before is None for change in changes) == 1
    assert revision(url) == HEAD


def test_the_head_revision_start_up_checks_is_alembics_head():
    """Start-up compares the database with HEAD_REVISION, not with Alembic's scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", store_module.MIGRATIONS)
    assert ScriptDirectory.from_config(config).get_current_head() == store_module.HEAD_REVISION
