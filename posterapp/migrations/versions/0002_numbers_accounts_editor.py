"""Issue 12: makers' cities, upload names, roles, service clicks, sessions, audit log, drafts.

Also the index on events.kind, which databases made before it was declared lack (create_all
never adds an index to a table that is already there).

Databases that ran this round's builds before Alembic have some of this already (the
ADD COLUMN-at-start-up stopgap and create_all did it): each step is skipped when its table,
column or index is there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())

    def add_column(table: str, column: sa.Column) -> None:
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, column)

    def create_table(name: str, *columns: sa.Column) -> None:
        if name not in tables:
            op.create_table(name, *columns)

    add_column("posters", sa.Column("city", sa.String(64), nullable=True))
    add_column("uploads", sa.Column("name", sa.Text, nullable=True))
    # Accounts made before roles existed become admins, so nobody loses their access.
    add_column("users", sa.Column("role", sa.String(16), nullable=False, server_default="admin"))
    add_column(
        "users", sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false())
    )
    add_column("users", sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))

    if "ix_events_kind" not in {i["name"] for i in inspector.get_indexes("events")}:
        op.create_index("ix_events_kind", "events", ["kind"])

    create_table(
        "service_clicks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("poster_id", sa.String(16), nullable=False, index=True),
        sa.Column("choice_id", sa.String(80), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    create_table(
        "drafts",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("base", sa.Integer, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "staff_sessions", "drafts", "service_clicks"):
        op.drop_table(table)
    # ix_events_kind stays: revision 0001 (the release) has it.
    for table, column in (
        ("users", "last_sign_in_at"),
        ("users", "disabled"),
        ("users", "role"),
        ("uploads", "name"),
        ("posters", "city"),
    ):
        op.drop_column(table, column)
