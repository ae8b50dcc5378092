"""Compliance's view of accounts, the ledger, decisions, violations, and the append-only audit chain.

Revision ID: compliance_0002
Revises: compliance_0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "compliance_0002"
down_revision: str | None = "compliance_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compliance"
TEXTS = postgresql.ARRAY(sa.Text())


def _now() -> sa.sql.elements.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "borrowers",
        sa.Column("borrower_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("timezones", TEXTS, nullable=False, server_default="{}"),
        sa.Column("holds", TEXTS, nullable=False, server_default="{}"),
        sa.Column("channel_opt_outs", TEXTS, nullable=False, server_default="{}"),
        sa.Column("consents", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("preferences", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("third_parties", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("refused_third_parties", TEXTS, nullable=False, server_default="{}"),
        sa.Column("contacted_third_parties", TEXTS, nullable=False, server_default="{}"),
        sa.Column("debtor_unreachable", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("borrower_id", name="pk_borrowers"),
        schema=SCHEMA,
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("borrower_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("jurisdiction", sa.Text(), nullable=False),
        sa.Column("holds", TEXTS, nullable=False, server_default="{}"),
        sa.Column("first_contact_at", sa.DateTime(timezone=True)),
        sa.Column("validation_notice_sent_at", sa.DateTime(timezone=True)),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
        schema=SCHEMA,
    )
    op.create_index("ix_accounts_borrower_id", "accounts", ["borrower_id"], schema=SCHEMA)
    op.create_table(
        "ledger",
        sa.Column("attempt_id", sa.Text(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("borrower_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("contact_point_id", sa.Text()),
        sa.Column("third_party_id", sa.Text()),
        sa.Column("permit_id", postgresql.UUID(as_uuid=True)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_ledger"),
        schema=SCHEMA,
    )
    op.create_index("ix_ledger_borrower_id_at", "ledger", ["borrower_id", "at"], schema=SCHEMA)
    op.create_table(
        "decisions",
        sa.Column("permit_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("borrower_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("requester", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("request", postgresql.JSONB(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("reasons", postgresql.JSONB(), nullable=False),
        sa.Column("evaluated_rules", postgresql.JSONB(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("used_by", sa.Text()),
        sa.PrimaryKeyConstraint("permit_id", name="pk_decisions"),
        sa.UniqueConstraint("request_id", name="uq_decisions_request_id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_decisions_account_id_decided_at", "decisions", ["account_id", "decided_at"], schema=SCHEMA
    )
    op.create_table(
        "violations",
        sa.Column("violation_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("borrower_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("attempt_id", sa.Text()),
        sa.Column("permit_id", postgresql.UUID(as_uuid=True)),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("violation_id", name="pk_violations"),
        schema=SCHEMA,
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.Text(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        schema=SCHEMA,
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("signature_b64", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_checkpoints"),
        schema=SCHEMA,
    )
    # The runtime role may add to the audit trail and read it, never change or remove it; the trigger
    # refuses even the owner (a superuser must disable it first, and verify will then find the change).
    # The runtime role may add to the audit trail and read it, never change or remove it; the trigger
    # refuses even the owner (a superuser must disable it first, and verify then finds the change).
    for table in ("audit_log", "audit_checkpoints"):
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {SCHEMA}.{table} FROM compliance")
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'the audit trail is append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    for table in ("audit_log", "audit_checkpoints"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {SCHEMA}.{table} "
            f"FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {SCHEMA}.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.refuse_change()"
        )


def downgrade() -> None:
    for table in (
        "audit_checkpoints",
        "audit_log",
        "violations",
        "decisions",
        "ledger",
        "accounts",
        "borrowers",
    ):
        op.drop_table(table, schema=SCHEMA)
    op.execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.refuse_change()")
