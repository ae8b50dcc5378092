"""The dispatcher claims deferred jobs by `not_before` and stale waits by `updated_at`, each through
its own partial index, instead of one OR over the three states that read the whole jobs table on a
large book.

Revision ID: reminders_0006
Revises: reminders_0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reminders_0006"
down_revision: str | None = "reminders_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reminders"


def upgrade() -> None:
    op.create_index(
        "ix_jobs_deferred",
        "jobs",
        ["not_before"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'deferred'"),
    )
    op.create_index(
        "ix_jobs_awaiting_permit",
        "jobs",
        ["updated_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'awaiting_permit'"),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_awaiting_permit", table_name="jobs", schema=SCHEMA)
    op.drop_index("ix_jobs_deferred", table_name="jobs", schema=SCHEMA)
