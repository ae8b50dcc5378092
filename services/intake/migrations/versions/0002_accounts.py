"""Accounts, borrowers (personal data sealed), payments and lender-event idempotency.

Revision ID: intake_0002
Revises: intake_0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0002"
down_revision: str | None = "intake_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "lender_events",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("payload_hash", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "event_id", name="pk_lender_events"),
        schema=SCHEMA,
    )
    op.create_table(
        "borrowers",
        sa.Column("borrower_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("external_borrower_id", sa.Text(), nullable=False),
        sa.Column("pii_sealed", sa.Text(), nullable=True),
        sa.Column("national_id_hash", sa.Text(), nullable=True),
        sa.Column("timezones", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("preferences", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("holds", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retained_sealed", sa.Text(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("borrower_id", name="pk_borrowers"),
        sa.UniqueConstraint(
            "tenant", "external_borrower_id", name="uq_borrowers_tenant_external_borrower_id"
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("external_account_id", sa.Text(), nullable=False),
        sa.Column("borrower_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("amount_due_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=True),
        sa.Column("paid_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("jurisdiction", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("holds", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], [f"{SCHEMA}.borrowers.borrower_id"], name="fk_accounts_borrower_id_borrowers"
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
        sa.UniqueConstraint("tenant", "external_account_id", name="uq_accounts_tenant_external_account_id"),
        schema=SCHEMA,
    )
    op.create_index("ix_accounts_borrower_id", "accounts", ["borrower_id"], schema=SCHEMA)
    op.create_table(
        "payments",
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("lender_event_id", sa.Text(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], [f"{SCHEMA}.accounts.account_id"], name="fk_payments_account_id_accounts"
        ),
        schema=SCHEMA,
    )
    op.create_index("ix_payments_account_id", "payments", ["account_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("payments", schema=SCHEMA)
    op.drop_table("accounts", schema=SCHEMA)
    op.drop_table("borrowers", schema=SCHEMA)
    op.drop_table("lender_events", schema=SCHEMA)
