"""Indexes for the hot queries a populated table would otherwise read end to end (see
tests/integration/test_hot_queries.py).

Revision ID: intake_0004
Revises: intake_0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0004"
down_revision: str | None = "intake_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    # pruning finds published rows past the retention without reading the pending ones
    op.create_index(
        "ix_outbox_published",
        "outbox",
        ["published_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_published", table_name="outbox", schema=SCHEMA)
