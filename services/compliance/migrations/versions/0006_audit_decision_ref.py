"""Replay: decisions by period (a tenant's, or all, oldest first) and the audit entry of each.

An audit entry can name the record it is about (`ref`: a decision's permit id), so replay finds
the entry that holds a decision's snapshot hash with one index probe. Not part of the chained
body: the content it points into is, and replay checks the content names the same decision.

Revision ID: compliance_0006
Revises: compliance_0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compliance_0006"
down_revision: str | None = "compliance_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compliance"


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("ref", sa.Text(), nullable=True), schema=SCHEMA)
    op.create_index(
        "ix_audit_log_ref",
        "audit_log",
        ["ref"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("ref IS NOT NULL"),
    )
    op.create_index(
        "ix_decisions_tenant_decided_at",
        "decisions",
        ["tenant", "decided_at", "permit_id"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_index(
        "ix_decisions_decided_at", "decisions", ["decided_at", "permit_id"], unique=False, schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_decided_at", table_name="decisions", schema=SCHEMA)
    op.drop_index("ix_decisions_tenant_decided_at", table_name="decisions", schema=SCHEMA)
    op.drop_index("ix_audit_log_ref", table_name="audit_log", schema=SCHEMA)
    op.drop_column("audit_log", "ref", schema=SCHEMA)
