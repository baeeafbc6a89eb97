"""The schema of the last release (store.py as of commit 04f234a).

A database made before Alembic (its tables there, no alembic_version) is stamped at this
revision by Store.migrate instead of running it.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_versions",
        sa.Column("version", sa.String(16), primary_key=True),
        sa.Column("manifest", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "posters",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("catalog_version", sa.String(16), nullable=False),
        sa.Column("layout", sa.String(64), nullable=False),
        sa.Column("choices", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("ref", sa.String(16), sa.ForeignKey("posters.id"), nullable=True, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("poster_id", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "poster_choices",
        sa.Column("poster_id", sa.String(16), sa.ForeignKey("posters.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("choice_id", sa.String(80), nullable=False, index=True),
    )
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, index=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "uploads",
        sa.Column("path", sa.String(200), primary_key=True),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "version", sa.String(16), sa.ForeignKey("catalog_versions.version"), nullable=False
        ),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "active_catalog",
        sa.Column("slot", sa.String(16), primary_key=True),
        sa.Column("publication_id", sa.Integer, sa.ForeignKey("publications.id"), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "active_catalog",
        "publications",
        "uploads",
        "login_attempts",
        "users",
        "poster_choices",
        "events",
        "posters",
        "blobs",
        "catalog_versions",
    ):
        op.drop_table(table)
