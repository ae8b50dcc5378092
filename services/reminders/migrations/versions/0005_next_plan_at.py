"""Each open account knows when its ladder next needs a look, so the planner reads only those due
instead of every open account every minute.

Revision ID: reminders_0005
Revises: reminders_0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reminders_0005"
down_revision: str | None = "reminders_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reminders"


def upgrade() -> None:
    # Existing accounts are due at once: the first pass plans them and sets their next time.
    op.add_column(
        "accounts",
        sa.Column("next_plan_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_accounts_next_plan_at",
        "accounts",
        ["next_plan_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_next_plan_at", table_name="accounts", schema=SCHEMA)
    op.drop_column("accounts", "next_plan_at", schema=SCHEMA)
