"""Borrowers keep their declared zone and where each candidate zone came from, and number their
intake events (each event carries its `seq`).

Revision ID: intake_0003
Revises: intake_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0003"
down_revision: str | None = "intake_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.add_column("borrowers", sa.Column("declared_timezone", sa.Text()), schema=SCHEMA)
    op.add_column(
        "borrowers",
        sa.Column("zone_sources", postgresql.JSONB(), nullable=False, server_default="{}"),
        schema=SCHEMA,
    )
    op.add_column(
        "borrowers",
        sa.Column("event_seq", sa.BigInteger(), nullable=False, server_default="0"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("borrowers", "event_seq", schema=SCHEMA)
    op.drop_column("borrowers", "zone_sources", schema=SCHEMA)
    op.drop_column("borrowers", "declared_timezone", schema=SCHEMA)
