"""A lender's own settings: its default strategy, the spacing of rungs due at once, and whether its
accounts may escalate to a field visit. Absent row or column: the service's defaults.

Revision ID: reminders_0007
Revises: reminders_0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reminders_0007"
down_revision: str | None = "reminders_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reminders"


def upgrade() -> None:
    op.create_table(
        "tenant_settings",
        sa.Column("tenant", sa.Text(), primary_key=True),
        sa.Column("default_strategy", sa.Text()),
        sa.Column("contact_spacing_s", sa.Integer()),
        sa.Column("visits_enabled", sa.Boolean()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("tenant_settings", schema=SCHEMA)
