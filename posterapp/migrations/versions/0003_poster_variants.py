"""Experiments: which variant of which experiment each poster was made in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database that ran this round's builds before migrations may have it already.
    if "poster_variants" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "poster_variants",
        sa.Column("poster_id", sa.String(16), primary_key=True),
        sa.Column("experiment", sa.String(80), nullable=False, index=True),
        sa.Column("variant", sa.String(80), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("poster_variants")
