"""Indexes for the hot queries a populated table would otherwise read end to end (see
tests/integration/test_hot_queries.py).

Revision ID: reminders_0004
Revises: reminders_0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reminders_0004"
down_revision: str | None = "reminders_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reminders"


def upgrade() -> None:
    # pruning finds published rows past the retention without reading the pending ones
    op.create_index(
        "ix_outbox_published",
        "outbox",
        ["published_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    # a delivery receipt finds its job by the provider's message id
    op.create_index(
        "ix_jobs_provider_message_id",
        "jobs",
        ["provider_message_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
    )
    # the sweep reads active promises past due
    op.create_index(
        "ix_promises_active_due_date",
        "promises",
        ["due_date"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'active'"),
    )
    # stopping an account cancels its open call tasks
    op.create_index("ix_call_tasks_account_id", "call_tasks", ["account_id"], schema=SCHEMA)
    # the sweep reads active plans
    op.create_index(
        "ix_plans_active",
        "plans",
        ["plan_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_plans_active", table_name="plans", schema=SCHEMA)
    op.drop_index("ix_call_tasks_account_id", table_name="call_tasks", schema=SCHEMA)
    op.drop_index("ix_promises_active_due_date", table_name="promises", schema=SCHEMA)
    op.drop_index("ix_jobs_provider_message_id", table_name="jobs", schema=SCHEMA)
    op.drop_index("ix_outbox_published", table_name="outbox", schema=SCHEMA)
