"""Compliance fidelity: zone sources, the borrower's intake sequence, notices and the validation period
per account, the open dispute, and each ledger row's purpose. Unreachability is derived, not stored.

Revision ID: compliance_0003
Revises: compliance_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "compliance_0003"
down_revision: str | None = "compliance_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compliance"


def upgrade() -> None:
    op.add_column(
        "borrowers",
        sa.Column("zone_sources", postgresql.JSONB(), nullable=False, server_default="{}"),
        schema=SCHEMA,
    )
    op.add_column(
        "borrowers",
        sa.Column("intake_seq", sa.BigInteger(), nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.drop_column("borrowers", "debtor_unreachable", schema=SCHEMA)
    op.add_column(
        "accounts",
        sa.Column("notices", postgresql.JSONB(), nullable=False, server_default="{}"),
        schema=SCHEMA,
    )
    op.add_column("accounts", sa.Column("validation_period_ends", sa.Date()), schema=SCHEMA)
    op.add_column("accounts", sa.Column("dispute", postgresql.JSONB()), schema=SCHEMA)
    op.add_column("ledger", sa.Column("purpose", sa.Text()), schema=SCHEMA)
    # Every decision reads the borrower's outstanding permits: without this it scans every decision.
    op.create_index(
        "ix_decisions_outstanding",
        "decisions",
        ["borrower_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("outcome = 'allow' AND used_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_outstanding", "decisions", schema=SCHEMA)
    op.drop_column("ledger", "purpose", schema=SCHEMA)
    op.drop_column("accounts", "dispute", schema=SCHEMA)
    op.drop_column("accounts", "validation_period_ends", schema=SCHEMA)
    op.drop_column("accounts", "notices", schema=SCHEMA)
    op.add_column(
        "borrowers",
        sa.Column("debtor_unreachable", sa.Boolean(), nullable=False, server_default="false"),
        schema=SCHEMA,
    )
    op.drop_column("borrowers", "intake_seq", schema=SCHEMA)
    op.drop_column("borrowers", "zone_sources", schema=SCHEMA)
