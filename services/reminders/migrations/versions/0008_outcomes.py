"""What the case analysis (GET /v1/reports/outcomes) needs: why and when an account closed, when each
job was sent, and an index of a tenant's accounts by placement time.

Accounts closed before this revision get `closed_reason = 'paid'` when they were paid in full (the
others stay unknown: recalled or written off); their `closed_at` stays unknown. Jobs sent before it
take their last update as the time they were sent.

Revision ID: reminders_0008
Revises: reminders_0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reminders_0008"
down_revision: str | None = "reminders_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reminders"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("closed_reason", sa.Text()), schema=SCHEMA)
    op.add_column("accounts", sa.Column("closed_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column("jobs", sa.Column("sent_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.create_index("ix_accounts_tenant_placed_at", "accounts", ["tenant", "placed_at"], schema=SCHEMA)
    op.execute(
        "UPDATE reminders.accounts SET closed_reason = 'paid' "
        "WHERE status = 'closed' AND paid_minor >= amount_due_minor"
    )
    op.execute("UPDATE reminders.jobs SET sent_at = updated_at WHERE state = 'sent'")


def downgrade() -> None:
    op.drop_index("ix_accounts_tenant_placed_at", table_name="accounts", schema=SCHEMA)
    op.drop_column("jobs", "sent_at", schema=SCHEMA)
    op.drop_column("accounts", "closed_at", schema=SCHEMA)
    op.drop_column("accounts", "closed_reason", schema=SCHEMA)
