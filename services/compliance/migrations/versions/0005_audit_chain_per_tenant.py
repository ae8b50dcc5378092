"""One audit chain per tenant: `chain` names it and `seq` counts within it. Entries written before
stay as they were in the chain they were written in, named "*" (the legacy chain): no hash is
recomputed, so nothing in the trail is rewritten.

Revision ID: compliance_0005
Revises: compliance_0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compliance_0005"
down_revision: str | None = "compliance_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compliance"
LEGACY = "*"


def upgrade() -> None:
    for table in ("audit_log", "audit_checkpoints"):
        # A new column with a default rewrites no row (the append-only trigger is not involved); the
        # default then goes, so a writer that forgets the chain fails instead of joining the legacy one.
        op.add_column(
            table, sa.Column("chain", sa.Text(), nullable=False, server_default=LEGACY), schema=SCHEMA
        )
        op.alter_column(table, "chain", server_default=None, schema=SCHEMA)
    op.drop_constraint("pk_audit_log", "audit_log", schema=SCHEMA, type_="primary")
    op.create_primary_key("pk_audit_log", "audit_log", ["chain", "seq"], schema=SCHEMA)
    op.create_index(
        "ix_audit_checkpoints_chain_seq", "audit_checkpoints", ["chain", "seq"], unique=False, schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_audit_checkpoints_chain_seq", table_name="audit_checkpoints", schema=SCHEMA)
    op.drop_constraint("pk_audit_log", "audit_log", schema=SCHEMA, type_="primary")
    op.create_primary_key("pk_audit_log", "audit_log", ["seq"], schema=SCHEMA)
    for table in ("audit_log", "audit_checkpoints"):
        op.drop_column(table, "chain", schema=SCHEMA)
