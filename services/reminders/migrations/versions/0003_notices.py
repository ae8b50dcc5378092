"""Reminders for compliance fidelity: each job's purpose (a collection step, the validation notice, a
forbearance offer), the borrower's intake sequence, third parties, and the validation notice state.

Revision ID: reminders_0003
Revises: reminders_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "reminders_0003"
down_revision: str | None = "reminders_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reminders"


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("intake_seq", sa.BigInteger(), nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.add_column(
        "accounts",
        sa.Column("third_parties", postgresql.JSONB(), nullable=False, server_default="[]"),
        schema=SCHEMA,
    )
    op.add_column("accounts", sa.Column("itemization", postgresql.JSONB()), schema=SCHEMA)
    op.add_column("accounts", sa.Column("product", sa.Text()), schema=SCHEMA)
    op.add_column(
        "accounts", sa.Column("notice_state", sa.Text(), nullable=False, server_default="none"), schema=SCHEMA
    )
    op.add_column(
        "jobs", sa.Column("purpose", sa.Text(), nullable=False, server_default="collection"), schema=SCHEMA
    )
    op.add_column("jobs", sa.Column("validation_period_ends", sa.Date()), schema=SCHEMA)
    op.drop_constraint("uq_jobs_account_id_step_dpd_channel", "jobs", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_jobs_account_id_purpose_step_dpd", "jobs", ["account_id", "purpose", "step_dpd"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_constraint("uq_jobs_account_id_purpose_step_dpd", "jobs", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_jobs_account_id_step_dpd_channel", "jobs", ["account_id", "step_dpd", "channel"], schema=SCHEMA
    )
    op.drop_column("jobs", "validation_period_ends", schema=SCHEMA)
    op.drop_column("jobs", "purpose", schema=SCHEMA)
    op.drop_column("accounts", "notice_state", schema=SCHEMA)
    op.drop_column("accounts", "product", schema=SCHEMA)
    op.drop_column("accounts", "itemization", schema=SCHEMA)
    op.drop_column("accounts", "third_parties", schema=SCHEMA)
    op.drop_column("accounts", "intake_seq", schema=SCHEMA)
