"""Storage: poster records, events and catalog versions behind one interface.

SQLAlchemy Core runs the same code on SQLite (the embedded default, a file in the data
directory) and on PostgreSQL (``POSTERAPP_DATABASE_URL``). Catalog versions and their images
are content-addressed and only ever inserted, never updated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from . import versions
from .errors import Conflict, VersionNotFound
from .model import Poster, is_poster_id
from .versions import CatalogVersion

if TYPE_CHECKING:  # Alembic (~8 MB) is imported only when a database needs migrating
    import alembic.config

metadata = sa.MetaData()

catalog_versions = sa.Table(
    "catalog_versions",
    metadata,
    sa.Column("version", sa.String(16), primary_key=True),
    sa.Column("manifest", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

posters = sa.Table(
    "posters",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("catalog_version", sa.String(16), nullable=False),
    sa.Column("layout", sa.String(64), nullable=False),
    sa.Column("choices", sa.Text, nullable=False),  # a JSON list of choice ids, in pick order
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),  # what the QR code opens
    sa.Column("ref", sa.String(16), sa.ForeignKey("posters.id"), nullable=True, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# What happened to posters, for the campaign's numbers: created, share_view, scan, referral.
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False, index=True),
    sa.Column("poster_id", sa.String(16), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# Which variant of which experiment each poster was made in (web/posters.py assigns it).
# Kept after the experiment ends in the catalog: its results stay on the numbers page.
poster_variants = sa.Table(
    "poster_variants",
    metadata,
    sa.Column("poster_id", sa.String(16), primary_key=True),
    sa.Column("experiment", sa.String(80), nullable=False, index=True),
    sa.Column("variant", sa.String(80), nullable=False),
)

# Taps on a poster's "去看看" links: which service each pick (or offer) led to. A tap on an
# offer is kept under "offer:<offer id>" in choice_id.
OFFER = "offer:"
service_clicks = sa.Table(
    "service_clicks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("poster_id", sa.String(16), nullable=False, index=True),
    sa.Column("choice_id", sa.String(80), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# Each pick of each poster, for counting what people pick (and which picks go together).
poster_choices = sa.Table(
    "poster_choices",
    metadata,
    sa.Column("poster_id", sa.String(16), sa.ForeignKey("posters.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("choice_id", sa.String(80), nullable=False, index=True),
)

# Staff accounts for the console, and login attempts (to slow down password guessing).
users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, index=True),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# Images staff uploaded in the console, named uploads/<file>; their bytes are in blobs.
UPLOAD_PATH_MAX = 200  # characters of uploads/<file>, the column's size
uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("path", sa.String(UPLOAD_PATH_MAX), primary_key=True),
    sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
    sa.Column("who", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Every publish and rollback, with the YAML as staff wrote it (comments and all).
publications = sa.Table(
    "publications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version", sa.String(16), sa.ForeignKey("catalog_versions.version"), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # initial, publish, rollback
    sa.Column("who", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Which publication is live: one row, switched by a compare-and-set UPDATE.
active_catalog = sa.Table(
    "active_catalog",
    metadata,
    sa.Column("slot", sa.String(16), primary_key=True),
    sa.Column("publication_id", sa.Integer, sa.ForeignKey("publications.id"), nullable=False),
)
LIVE = "live"

# Catalog drafts: what each staff member is editing, saved as they type (one per account),
# so an upload, a reload, an ended session or another computer loses nothing.
drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("account", sa.String(64), primary_key=True),
    sa.Column("base", sa.Integer, nullable=True),  # the publication the edit started from
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Issue 12 (numbers, history, uploads) ------------------------------------------------------
# Columns added to tables that databases may already have: migrations/versions/0002 adds them.
posters.append_column(sa.Column("city", sa.String(64), nullable=True))  # the maker's 我在
uploads.append_column(sa.Column("name", sa.Text, nullable=True))  # the file's own name

# Issue 12 (accounts: roles, sessions, audit log) --------------------------------------------
# Accounts made before roles existed become admins, so nobody loses their access.
users.append_column(sa.Column("role", sa.String(16), nullable=False, server_default="admin"))
users.append_column(sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()))
users.append_column(sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))

# Signed-in console sessions, one row each: the cookie carries a random token, the row its
# SHA-256. Deleting rows ends sessions at once, copied cookies included.
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# What staff did in the console, and what was done to accounts from the command line.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("who", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
)


# Migrations (posterapp/migrations) -----------------------------------------------------------
MIGRATIONS = "posterapp:migrations"
# The last release before Alembic: what a database with tables but no alembic_version is.
RELEASE_REVISION = "0001"
RELEASE_TABLES = {
    "catalog_versions", "blobs", "posters", "events", "poster_choices",
    "users", "login_attempts", "uploads", "publications", "active_catalog",
}  # fmt: skip
MIGRATION_LOCK = 7_403_114_526  # pg_advisory_xact_lock's key: any number, the same everywhere


@dataclass(frozen=True)
class SchemaChange:
    """What Store.migrate found (None: no revision recorded) and left (the head revision)."""

    before: str | None
    after: str
    created: bool = False  # the database was empty: its tables were made at head


# The newest revision in posterapp/migrations/versions (tests/test_migrations.py checks it), so
# that a start-up that finds its database current never imports Alembic.
HEAD_REVISION = "0003"


def _recorded_revision(db: sa.Connection) -> str | None:
    """Return the revision Alembic recorded in the database, or None (no alembic_version)."""
    if not sa.inspect(db).has_table("alembic_version"):
        return None
    return db.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@dataclass(frozen=True)
class Account:
    """A staff account of the console (never its password hash)."""

    name: str
    role: str
    disabled: bool
    created_at: dt.datetime
    last_sign_in_at: dt.datetime | None


@dataclass(frozen=True)
class AuditEntry:
    """One thing someone did: when, who, what, the details, from which address."""

    created_at: dt.datetime
    who: str
    action: str
    detail: str
    address: str


class _LastAdmin(Exception):
    """Raised inside a transaction to undo a change that would leave no enabled admin."""


SHANGHAI = ZoneInfo("Asia/Shanghai")  # times staff read are Beijing time
EVENT_KINDS = ("created", "share_view", "scan", "referral")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Publication:
    """A catalog version put live by someone, with the YAML they wrote."""

    id: int
    version: str
    source: str
    kind: str
    who: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Draft:
    """Catalog YAML a staff member is editing, and the publication they started from."""

    account: str
    base: int | None
    source: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class PosterRecord:
    """A stored poster: everything needed to render it again, and who brought its maker."""

    id: str
    catalog_version: str
    layout: str
    choices: tuple[str, ...]
    name: str
    url: str
    ref: str | None
    created_at: dt.datetime
    city: str | None = None  # where the maker said they are (the picker's 我在), if they did
    variant: str | None = None  # "experiment:variant" when an experiment was running

    @property
    def poster(self) -> Poster:
        return Poster(picks=self.choices, name=self.name, url=self.url, layout=self.layout)


_INSERT_POSTER = posters.insert()
_INSERT_PICKS = poster_choices.insert()
_INSERT_VARIANT = poster_variants.insert()
_INSERT_EVENT = events.insert()


class Store:
    """Poster records, events and catalog versions in one SQL database."""

    def __init__(self, url: str):
        self.url = url
        options: dict = {"future": True}
        if url.startswith("sqlite"):
            # Several workers share one file: wait for locks instead of failing at once.
            options["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            options["pool_pre_ping"] = True
        self.engine = sa.create_engine(url, **options)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        # Whether waiting on the database lets other greenlets run (psycopg under gevent's
        # patches) or holds the whole worker (SQLite's calls never yield).
        self.cooperative = not url.startswith("sqlite")

    def create_schema(self) -> None:
        """Bring the database to the current schema (see migrate); for the app and the CLI."""
        self.migrate()

    def migrate(self) -> SchemaChange:
        """Upgrade the database to the newest revision under a lock; say what was done.

        Several workers may start at once: the first takes the lock and migrates, the others
        wait for it and then find the database current. An empty database gets its tables
        from ``metadata`` and is stamped at head; one made before Alembic (its tables there,
        no alembic_version) is stamped at the release revision and upgraded from there.
        """
        head = HEAD_REVISION
        if self.engine.dialect.name == "sqlite":
            self._use_wal()
        with self.engine.connect() as db:  # most starts find it current: no lock needed
            found = _recorded_revision(db)
        if found == head:
            return SchemaChange(found, head)
        with self._migration_lock() as db:
            return self._migrate(db, head)

    def alembic_config(self, db: sa.Connection) -> alembic.config.Config:
        """Return an Alembic configuration that runs migrations on this connection."""
        import alembic.config  # noqa: PLC0415 - only to migrate (see HEAD_REVISION)

        config = alembic.config.Config()
        config.set_main_option("script_location", MIGRATIONS)
        config.attributes["connection"] = db
        return config

    def _migrate(self, db: sa.Connection, head: str) -> SchemaChange:
        import alembic.command  # noqa: PLC0415 - only to migrate (see HEAD_REVISION)

        found = _recorded_revision(db)
        if found == head:  # another worker did it while this one waited for the lock
            return SchemaChange(found, head)
        config = self.alembic_config(db)
        if found is None:
            present = set(sa.inspect(db).get_table_names())
            if not present & set(metadata.tables):
                metadata.create_all(db)
                alembic.command.stamp(config, "head")
                return SchemaChange(None, head, created=True)
            # Made before Alembic. A database older than the release may lack some of its
            # tables: create them as start-up did then (0002 skips what is already there).
            missing = [metadata.tables[name] for name in RELEASE_TABLES - present]
            metadata.create_all(db, tables=missing)
            alembic.command.stamp(config, RELEASE_REVISION)
        alembic.command.upgrade(config, "head")
        return SchemaChange(found, head)

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[sa.Connection]:
        """Yield a connection in a transaction that only one process at a time holds."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as db:
                # Released at commit; PostgreSQL's DDL is transactional, so all or nothing.
                db.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                yield db
            return
        # SQLite: BEGIN IMMEDIATE takes the file's write lock (others wait up to the timeout)
        # and keeps the DDL in the transaction, which the driver's own handling would not.
        engine = sa.create_engine(
            self.url, poolclass=sa.pool.NullPool, connect_args={"timeout": 60}
        )
        sa.event.listen(engine, "connect", _sqlite_autocommit_driver)
        sa.event.listen(engine, "begin", lambda db: db.exec_driver_sql("BEGIN IMMEDIATE"))
        try:
            with engine.begin() as db:
                yield db
        finally:
            engine.dispose()

    def _use_wal(self) -> None:
        # WAL lets readers go on while one worker writes; it is kept in the file.
        for attempt in range(20):
            try:
                with self.engine.connect() as db:
                    db.exec_driver_sql("PRAGMA journal_mode=WAL")
                return
            except sa.exc.OperationalError:
                # Another worker holds the file right now: wait and try again.
                if attempt == 19:
                    raise
                time.sleep(0.1 + 0.05 * attempt)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Run a trivial query; raises if the database cannot be reached."""
        with self.engine.connect() as db:
            db.execute(sa.text("SELECT 1"))

    # Catalog versions -------------------------------------------------------------------

    def save_version(self, version: CatalogVersion) -> str:
        """Store a version and its images unless already there; return its id."""
        # Content-addressed rows are equal whoever writes them first: a conflict is success.
        with self.engine.begin() as db:
            images = [
                {"sha256": sha, "data": data} for sha, data in versions.blobs(version).items()
            ]
            if images:  # one statement for all of them
                db.execute(self._insert_new(blobs), images)
            db.execute(
                self._insert_new(catalog_versions).values(
                    version=version.version, manifest=versions.encode(version), created_at=now()
                )
            )
        return version.version

    def _insert_new(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """Return an INSERT that does nothing when the primary key is already there."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def load_version(self, version_id: str) -> CatalogVersion:
        """Return a stored version; raise VersionNotFound for unknown or damaged ones."""
        if not versions.is_version_id(version_id):
            raise VersionNotFound(f"没有目录版本「{version_id}」")
        return _load_version(self.engine, version_id)

    def version_ids(self) -> list[str]:
        """Return stored version ids, oldest first."""
        query = sa.select(catalog_versions.c.version).order_by(
            catalog_versions.c.created_at, catalog_versions.c.version
        )
        with self.engine.connect() as db:
            return list(db.scalars(query))

    # Posters and events -----------------------------------------------------------------

    def add_poster(self, record: PosterRecord) -> None:
        """Store a new poster and its 'created' (and 'referral') events in one transaction."""
        # The statements are the same objects every time, the values go as parameters:
        # SQLAlchemy finds them compiled instead of building a cache key from the values.
        with self.engine.begin() as db:
            db.execute(
                _INSERT_POSTER,
                {
                    "id": record.id,
                    "catalog_version": record.catalog_version,
                    "layout": record.layout,
                    "choices": json.dumps(list(record.choices)),
                    "name": record.name,
                    "url": record.url,
                    "ref": record.ref,
                    "created_at": record.created_at,
                    "city": record.city,
                },
            )
            db.execute(
                _INSERT_PICKS,
                [
                    {"poster_id": record.id, "position": i, "choice_id": choice}
                    for i, choice in enumerate(record.choices)
                ],
            )
            if record.variant:
                experiment, variant = record.variant.split(":", 1)
                db.execute(
                    _INSERT_VARIANT,
                    {"poster_id": record.id, "experiment": experiment, "variant": variant},
                )
            rows = [{"kind": "created", "poster_id": record.id, "created_at": record.created_at}]
            if record.ref:
                rows.append(
                    {"kind": "referral", "poster_id": record.ref, "created_at": record.created_at}
                )
            db.execute(_INSERT_EVENT, rows)

    def get_poster(self, poster_id: str) -> PosterRecord | None:
        """Return the poster with this id, or None (also for ids that cannot exist)."""
        if not is_poster_id(poster_id):
            return None
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(posters, poster_variants.c.experiment, poster_variants.c.variant)
                .outerjoin(poster_variants, poster_variants.c.poster_id == posters.c.id)
                .where(posters.c.id == poster_id)
            ).first()
        if row is None:
            return None
        return PosterRecord(
            id=row.id,
            catalog_version=row.catalog_version,
            layout=row.layout,
            choices=tuple(json.loads(row.choices)),
            name=row.name,
            url=row.url,
            ref=row.ref,
            created_at=_utc(row.created_at),
            city=row.city,
            variant=f"{row.experiment}:{row.variant}" if row.experiment else None,
        )

    def record(self, kind: str, poster_id: str) -> None:
        """Record that something happened to a poster."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        with self.engine.begin() as db:
            db.execute(events.insert().values(kind=kind, poster_id=poster_id, created_at=now()))

    def record_click(self, poster_id: str, choice_id: str) -> None:
        """Record a tap on a poster's link to the service behind one of its picks."""
        with self.engine.begin() as db:
            db.execute(
                service_clicks.insert().values(
                    poster_id=poster_id, choice_id=choice_id, created_at=now()
                )
            )

    def purge_before(self, moment: dt.datetime) -> dict[str, int]:
        """Delete events, service clicks, sign-ins, audit entries and sessions before ``moment``.

        Posters themselves stay: their share pages and images are what people shared.
        Return how many rows went from each table.
        """
        removed = {}
        moment = moment.astimezone(dt.UTC)  # stored in UTC (SQLite compares them as text)
        with self.engine.begin() as db:
            # Sessions older than the moment are long past their 12 hours too.
            for table in (events, service_clicks, login_attempts, audit_log, staff_sessions):
                result = db.execute(table.delete().where(table.c.created_at < moment))
                removed[table.name] = result.rowcount
        return removed

    def click_counts(self, poster_id: str | None = None) -> dict[str, int]:
        """Count service clicks by choice, for one poster or for all."""
        query = sa.select(service_clicks.c.choice_id, sa.func.count()).group_by(
            service_clicks.c.choice_id
        )
        if poster_id is not None:
            query = query.where(service_clicks.c.poster_id == poster_id)
        with self.engine.connect() as db:
            return {choice: n for choice, n in db.execute(query)}

    def event_counts(self, poster_id: str | None = None) -> dict[str, int]:
        """Count events by kind, for one poster or for all."""
        query = sa.select(events.c.kind, sa.func.count()).group_by(events.c.kind)
        if poster_id is not None:
            query = query.where(events.c.poster_id == poster_id)
        with self.engine.connect() as db:
            found: dict[str, int] = dict(db.execute(query).all())
        return {kind: found.get(kind, 0) for kind in EVENT_KINDS}

    # Publishing ---------------------------------------------------------------------------

    def publish(
        self,
        version: CatalogVersion,
        source: str,
        who: str,
        base: int | None,
        kind: str = "publish",
    ) -> Publication:
        """Make ``version`` live, unless the live publication is no longer ``base``.

        The switch is one compare-and-set UPDATE inside the transaction that records the
        publication: every reader sees the old catalog or the new one, and of two staff who
        started from the same publication only the first wins; the second gets a Conflict.
        """
        self.save_version(version)
        created = now()
        try:
            with self.engine.begin() as db:
                # Writing first takes the write lock before anything is read (SQLite too).
                key = db.execute(
                    publications.insert().values(
                        version=version.version, source=source, kind=kind, who=who,
                        created_at=created,
                    )
                ).inserted_primary_key  # fmt: skip
                assert key is not None, "a single-row INSERT has a primary key"
                new_id = key[0]
                if base is None:
                    db.execute(active_catalog.insert().values(slot=LIVE, publication_id=new_id))
                else:
                    switched = db.execute(
                        active_catalog.update()
                        .where(active_catalog.c.slot == LIVE)
                        .where(active_catalog.c.publication_id == base)
                        .values(publication_id=new_id)
                    )
                    if switched.rowcount != 1:
                        raise Conflict(self._conflict_message())
        except sa.exc.IntegrityError:
            raise Conflict(self._conflict_message()) from None
        return Publication(new_id, version.version, source, kind, who, created)

    def _conflict_message(self) -> str:
        live = self.live()
        if live is None:
            return "你编辑的时候，线上的目录已经变了；请刷新页面，再把改动做一遍"
        return (
            f"你编辑的时候，{live.who} 在北京时间 "
            f"{live.created_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 发布了新版本"
            f"（{live.version}）；请刷新看看，再把你的改动做一遍"
        )

    def live(self) -> Publication | None:
        """Return the live publication, or None before the first one."""
        query = sa.select(publications).join(
            active_catalog, active_catalog.c.publication_id == publications.c.id
        )
        with self.engine.connect() as db:
            row = db.execute(query.where(active_catalog.c.slot == LIVE)).first()
        return _publication(row) if row else None

    def publication(self, publication_id: int) -> Publication | None:
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(publications).where(publications.c.id == publication_id)
            ).first()
        return _publication(row) if row else None

    def publications(self) -> list[Publication]:
        """Return every publication, newest first."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(publications).order_by(publications.c.id.desc())).all()
        return [_publication(row) for row in rows]

    # Uploads ------------------------------------------------------------------------------

    def save_upload(self, path: str, data: bytes, who: str) -> None:
        """Store an uploaded image under ``path`` (uploads/…); a new upload replaces the name."""
        if len(path) > UPLOAD_PATH_MAX:
            raise ValueError(f"an upload path is at most {UPLOAD_PATH_MAX} characters")
        sha = hashlib.sha256(data).hexdigest()
        with self.engine.begin() as db:
            db.execute(self._insert_new(blobs).values(sha256=sha, data=data))
            db.execute(uploads.delete().where(uploads.c.path == path))
            db.execute(uploads.insert().values(path=path, sha256=sha, who=who, created_at=now()))

    def upload(self, path: str) -> bytes | None:
        if len(path) > UPLOAD_PATH_MAX or "\x00" in path:
            return None  # could never have been stored (and PostgreSQL refuses a NUL)
        query = sa.select(blobs.c.data).join(uploads, uploads.c.sha256 == blobs.c.sha256)
        with self.engine.connect() as db:
            return db.scalar(query.where(uploads.c.path == path))

    def upload_paths(self) -> list[str]:
        with self.engine.connect() as db:
            return list(db.scalars(sa.select(uploads.c.path).order_by(uploads.c.path)))

    # Staff --------------------------------------------------------------------------------

    def password_hash(self, name: str) -> str | None:
        with self.engine.connect() as db:
            return db.scalar(sa.select(users.c.password_hash).where(users.c.name == name))

    def user_count(self) -> int:
        with self.engine.connect() as db:
            return db.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()

    def record_login(self, name: str, client: str, succeeded: bool) -> None:
        with self.engine.begin() as db:
            db.execute(
                login_attempts.insert().values(
                    name=_key(name), client=_key(client), succeeded=succeeded, created_at=now()
                )
            )

    def login_failures(
        self, since: dt.datetime, client: str, name: str | None = None, most: int = 100
    ) -> list[dt.datetime]:
        """Return when logins from ``client`` failed since ``since``, newest first.

        With ``name``, only that account's failures from that client, and only those after
        its last successful sign-in from there: signing in wipes the slate.
        """
        attempts = login_attempts.c
        query = (
            sa.select(attempts.created_at)
            .where(attempts.succeeded.is_(False))
            .where(attempts.created_at >= since)
            .where(attempts.client == _key(client))
            .order_by(attempts.created_at.desc())
            .limit(most)
        )
        if name is not None:
            last_success = (
                sa.select(sa.func.max(attempts.created_at))
                .where(attempts.succeeded.is_(True))
                .where(attempts.name == _key(name))
                .where(attempts.client == _key(client))
                .scalar_subquery()
            )
            query = query.where(attempts.name == _key(name)).where(
                sa.or_(last_success.is_(None), attempts.created_at > last_success)
            )
        with self.engine.connect() as db:
            return [_utc(moment) for moment in db.scalars(query)]

    def clear_login_failures(self, name: str) -> int:
        """Forget an account's failed logins from every address; return how many there were."""
        with self.engine.begin() as db:
            return db.execute(
                login_attempts.delete()
                .where(login_attempts.c.name == _key(name))
                .where(login_attempts.c.succeeded.is_(False))
            ).rowcount

    # Issue 12: older databases, uploads library -------------------------------------------

    def version_manifest(self, version_id: str) -> dict | None:
        """Return a stored version's manifest (what it holds, by hash), or None."""
        with self.engine.connect() as db:
            manifest = db.scalar(
                sa.select(catalog_versions.c.manifest).where(
                    catalog_versions.c.version == version_id
                )
            )
        return json.loads(manifest) if manifest is not None else None

    def add_upload(self, path: str, data: bytes, name: str, who: str) -> bool:
        """Store an image under its content-hashed ``path``; False if it was already there."""
        sha = hashlib.sha256(data).hexdigest()
        with self.engine.begin() as db:
            db.execute(self._insert_new(blobs).values(sha256=sha, data=data))
            added = db.execute(
                self._insert_new(uploads).values(
                    path=path, sha256=sha, who=who, created_at=now(), name=name
                )
            )
            return added.rowcount == 1

    def upload_list(self) -> list[dict]:
        """Return every upload with its shown name, size, who and when; newest first."""
        query = (
            sa.select(
                uploads.c.path, uploads.c.name, uploads.c.who, uploads.c.created_at,
                sa.func.length(blobs.c.data).label("size"),
            )
            .join(blobs, blobs.c.sha256 == uploads.c.sha256)
            .order_by(uploads.c.created_at.desc(), uploads.c.path)
        )  # fmt: skip
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return [
            {
                "path": row.path,
                "name": row.name or row.path.removeprefix("uploads/"),
                "who": row.who,
                "created_at": _utc(row.created_at),
                "size": row.size,
            }
            for row in rows
        ]

    def draft_sources(self) -> list[str]:
        """Return the text of every saved draft, if this database keeps drafts."""
        drafts = metadata.tables.get("drafts")
        if drafts is None:
            return []
        texts = [c for c in drafts.c if isinstance(c.type, sa.Text)]
        if not texts:
            return []
        with self.engine.connect() as db:
            rows = db.execute(sa.select(*texts)).all()
        return [value for row in rows for value in row if isinstance(value, str)]

    def delete_upload(self, path: str) -> bool:
        """Forget an upload; its bytes go too unless a catalog version or upload still has them."""
        with self.engine.begin() as db:
            sha = db.scalar(sa.select(uploads.c.sha256).where(uploads.c.path == path))
            if sha is None:
                return False
            db.execute(uploads.delete().where(uploads.c.path == path))
            shared = db.scalar(
                sa.select(sa.func.count()).select_from(uploads).where(uploads.c.sha256 == sha)
            )
            # Versions are immutable and keep their own images: never take one away.
            in_version = any(
                sha.encode() in manifest
                for manifest in db.scalars(sa.select(catalog_versions.c.manifest))
            )
            if not shared and not in_version:
                db.execute(blobs.delete().where(blobs.c.sha256 == sha))
        return True

    # Issue 12: accounts, roles, sessions, audit log ---------------------------------------

    def add_account(self, name: str, password_hash: str, role: str) -> bool:
        """Create a staff account; False if the name is taken."""
        try:
            with self.engine.begin() as db:
                db.execute(
                    users.insert().values(
                        name=name, password_hash=password_hash, role=role, disabled=False,
                        created_at=now(),
                    )
                )  # fmt: skip
        except sa.exc.IntegrityError:
            return False
        return True

    def account(self, name: str) -> Account | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(users).where(users.c.name == _key(name))).first()
        return _account(row) if row else None

    def accounts(self) -> list[Account]:
        """Return every staff account, by name."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(users).order_by(users.c.name)).all()
        return [_account(row) for row in rows]

    def change_account(self, name: str, *, remove: bool = False, **values: object) -> str:
        """Change (or remove) an account and end all its sessions, keeping an enabled admin.

        Return "ok", "missing" (no such account) or "last_admin" (refused and undone: no
        enabled admin would be left, so nobody could manage accounts any more).
        """
        enabled_admin = sa.and_(users.c.role == "admin", users.c.disabled.is_(False))
        where = users.c.name == _key(name)
        try:
            with self.engine.begin() as db:
                if self.engine.dialect.name == "postgresql":
                    # Two admins demoting each other at once: the second waits for the first,
                    # then counts what the first left.
                    db.execute(sa.select(users.c.name).where(enabled_admin).with_for_update())
                # A write that changes nothing, first: it takes SQLite's write lock (and the
                # row's lock on PostgreSQL), so what is read next stays true until commit.
                if not db.execute(users.update().where(where).values(name=users.c.name)).rowcount:
                    return "missing"
                before = db.execute(sa.select(users.c.role, users.c.disabled).where(where)).one()
                db.execute(
                    users.delete().where(where)
                    if remove
                    else users.update().where(where).values(**values)
                )
                left = db.scalar(sa.select(sa.func.count()).select_from(users).where(enabled_admin))
                if before.role == "admin" and not before.disabled and not left:
                    raise _LastAdmin
                db.execute(staff_sessions.delete().where(staff_sessions.c.name == _key(name)))
        except _LastAdmin:
            return "last_admin"
        return "ok"

    def start_session(self, name: str, token_hash: str, older_than: dt.datetime) -> None:
        """Record a sign-in and its session; drop everyone's sessions from before ``older_than``."""
        with self.engine.begin() as db:
            db.execute(staff_sessions.delete().where(staff_sessions.c.created_at < older_than))
            db.execute(
                staff_sessions.insert().values(token_hash=token_hash, name=name, created_at=now())
            )
            db.execute(users.update().where(users.c.name == name).values(last_sign_in_at=now()))

    def session_account(self, token_hash: str, since: dt.datetime) -> Account | None:
        """Return the enabled account of this session if it started after ``since``, or None."""
        query = (
            sa.select(users)
            .join(staff_sessions, staff_sessions.c.name == users.c.name)
            .where(staff_sessions.c.token_hash == token_hash)
            .where(staff_sessions.c.created_at >= since)
            .where(users.c.disabled.is_(False))
        )
        with self.engine.connect() as db:
            row = db.execute(query).first()
        return _account(row) if row else None

    def end_session(self, token_hash: str) -> None:
        with self.engine.begin() as db:
            db.execute(staff_sessions.delete().where(staff_sessions.c.token_hash == token_hash))

    def add_audit(self, who: str, action: str, detail: str, address: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                audit_log.insert().values(
                    created_at=now(), who=_key(who), action=action[:32],
                    detail=detail.replace("\x00", "\ufffd"), address=_key(address),
                )
            )  # fmt: skip

    def audit_entries(self, most: int = 200) -> list[AuditEntry]:
        """Return the latest ``most`` audit entries, newest first."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(most)
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return [AuditEntry(_utc(r.created_at), r.who, r.action, r.detail, r.address) for r in rows]

    # Drafts (the catalog editor) -------------------------------------------------------------

    def save_draft(self, account: str, base: int | None, source: str) -> Draft:
        """Keep ``account``'s catalog draft (replacing the one before)."""
        updated = now()
        values = {"base": base, "source": source, "updated_at": updated}
        with self.engine.begin() as db:
            changed = db.execute(
                drafts.update().where(drafts.c.account == account).values(**values)
            ).rowcount
            if not changed:
                try:
                    with db.begin_nested():
                        db.execute(drafts.insert().values(account=account, **values))
                except sa.exc.IntegrityError:  # saved from another tab at the same moment
                    db.execute(drafts.update().where(drafts.c.account == account).values(**values))
        return Draft(account, base, source, updated)

    def draft(self, account: str) -> Draft | None:
        """Return ``account``'s draft, or None when they have nothing unpublished."""
        with self.engine.connect() as db:
            row = db.execute(sa.select(drafts).where(drafts.c.account == account)).first()
        if row is None:
            return None
        return Draft(row.account, row.base, row.source, _utc(row.updated_at))

    def discard_draft(self, account: str) -> None:
        with self.engine.begin() as db:
            db.execute(drafts.delete().where(drafts.c.account == account))


def _account(row: sa.Row[Any]) -> Account:
    last = row.last_sign_in_at
    return Account(
        row.name, row.role, bool(row.disabled), _utc(row.created_at), _utc(last) if last else None
    )


def _key(text: str) -> str:
    """Fit a name or address into its column: 64 characters, no NUL (PostgreSQL refuses it)."""
    return text.replace("\x00", "\ufffd")[:64]


def _publication(row: sa.Row[Any]) -> Publication:
    return Publication(row.id, row.version, row.source, row.kind, row.who, _utc(row.created_at))


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back the stored UTC time without its zone; PostgreSQL with it."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


@functools.lru_cache(maxsize=64)
def _load_version(engine: sa.Engine, version_id: str) -> CatalogVersion:
    # Versions never change once stored, so a loaded one can be kept for the process's life.
    with engine.connect() as db:
        manifest = db.scalar(
            sa.select(catalog_versions.c.manifest).where(catalog_versions.c.version == version_id)
        )
        if manifest is None:
            raise VersionNotFound(f"没有目录版本「{version_id}」")

        def blob(sha: str) -> bytes | None:
            return db.scalar(sa.select(blobs.c.data).where(blobs.c.sha256 == sha))

        return versions.decode(version_id, manifest, blob)


def _sqlite_autocommit_driver(connection: sqlite3.Connection, record: object) -> None:
    """Leave transactions to SQLAlchemy's BEGIN (the driver would not wrap DDL in one)."""
    connection.isolation_level = None
    _sqlite_pragmas(connection, record)


def _sqlite_pragmas(connection: sqlite3.Connection, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
