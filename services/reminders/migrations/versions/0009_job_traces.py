"""Each job keeps the trace it continues (`traceparent`): the dispatch loop asks for its permit, and
the sender sends it, in the trace of the placement and then of the permit decision. Jobs planned
before this revision have none; their work starts traces of its own.

Revision ID: reminders_0009
Revises: reminders_0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reminders_0009"
down_revision: str | None = "reminders_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reminders"


def upgrade() -> None:
    op.add_column("jobs", sa.Column("traceparent", sa.Text()), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("jobs", "traceparent", schema=SCHEMA)
