"""Storage: poster records, events and catalog versions behind one interface.

SQLAlchemy Core runs the same code on SQLite (the embedded default, a file in the data
directory) and on PostgreSQL (``POSTERAPP_DATABASE_URL``). Catalog versions and their images
are content-addressed and only ever inserted, never updated.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from . import versions
from .errors import VersionNotFound
from .render.poster import Poster
from .versions import CatalogVersion

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
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("poster_id", sa.String(16), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

EVENT_KINDS = ("created", "share_view", "scan", "referral")
ID_BYTES = 9  # 12 URL-safe characters, 72 random bits: not sequential, not guessable


def new_poster_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def is_poster_id(value: str) -> bool:
    return len(value) == 12 and value.isascii() and all(c.isalnum() or c in "-_" for c in value)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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

    @property
    def poster(self) -> Poster:
        return Poster(picks=self.choices, name=self.name, url=self.url, layout=self.layout)


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

    def create_schema(self) -> None:
        """Create missing tables (idempotent)."""
        metadata.create_all(self.engine)

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
            for sha, data in versions.blobs(version).items():
                db.execute(self._insert_new(blobs).values(sha256=sha, data=data))
            db.execute(
                self._insert_new(catalog_versions).values(
                    version=version.version, manifest=versions.encode(version), created_at=now()
                )
            )
        return version.version

    def _insert_new(self, table: sa.Table):
        """Return an INSERT that does nothing when the primary key is already there."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def load_version(self, version_id: str) -> CatalogVersion:
        """Return a stored version; raise VersionNotFound for unknown or damaged ones."""
        if not versions.is_version_id(version_id):
            raise VersionNotFound(f"no catalog version '{version_id}'")
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
        with self.engine.begin() as db:
            db.execute(
                posters.insert().values(
                    id=record.id,
                    catalog_version=record.catalog_version,
                    layout=record.layout,
                    choices=json.dumps(list(record.choices)),
                    name=record.name,
                    url=record.url,
                    ref=record.ref,
                    created_at=record.created_at,
                )
            )
            rows = [{"kind": "created", "poster_id": record.id, "created_at": record.created_at}]
            if record.ref:
                rows.append(
                    {"kind": "referral", "poster_id": record.ref, "created_at": record.created_at}
                )
            db.execute(events.insert(), rows)

    def get_poster(self, poster_id: str) -> PosterRecord | None:
        """Return the poster with this id, or None (also for ids that cannot exist)."""
        if not is_poster_id(poster_id):
            return None
        with self.engine.connect() as db:
            row = db.execute(sa.select(posters).where(posters.c.id == poster_id)).first()
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
            created_at=row.created_at,
        )

    def record(self, kind: str, poster_id: str) -> None:
        """Record that something happened to a poster."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        with self.engine.begin() as db:
            db.execute(events.insert().values(kind=kind, poster_id=poster_id, created_at=now()))

    def event_counts(self, poster_id: str | None = None) -> dict[str, int]:
        """Count events by kind, for one poster or for all."""
        query = sa.select(events.c.kind, sa.func.count()).group_by(events.c.kind)
        if poster_id is not None:
            query = query.where(events.c.poster_id == poster_id)
        with self.engine.connect() as db:
            found = dict(db.execute(query).all())
        return {kind: found.get(kind, 0) for kind in EVENT_KINDS}


@functools.lru_cache(maxsize=64)
def _load_version(engine: sa.Engine, version_id: str) -> CatalogVersion:
    # Versions never change once stored, so a loaded one can be kept for the process's life.
    with engine.connect() as db:
        manifest = db.scalar(
            sa.select(catalog_versions.c.manifest).where(catalog_versions.c.version == version_id)
        )
        if manifest is None:
            raise VersionNotFound(f"no catalog version '{version_id}'")

        def blob(sha: str) -> bytes:
            return db.scalar(sa.select(blobs.c.data).where(blobs.c.sha256 == sha))

        return versions.decode(version_id, manifest, blob)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
