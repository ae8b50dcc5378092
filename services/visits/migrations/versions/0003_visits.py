"""Field visits: visits' view of accounts, agents and crews, visit cases from escalation to outcome,
day plans per crew, and receipts of money taken at the door.

Revision ID: visits_0003
Revises: visits_0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "visits_0003"
down_revision: str | None = "visits_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("borrower_id", sa.UUID(), nullable=False),
        sa.Column("jurisdiction", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("amount_due_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("holds", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("timezones", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("address_id", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("intake_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
        schema="visits",
    )
    op.create_index(
        "ix_visits_accounts_borrower_id", "accounts", ["borrower_id"], unique=False, schema="visits"
    )
    op.create_table(
        "agents",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("home_lat", sa.Float(), nullable=False),
        sa.Column("home_lon", sa.Float(), nullable=False),
        sa.Column("shift_start", sa.Text(), nullable=False),
        sa.Column("shift_end", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("max_visits_per_day", sa.Integer(), nullable=False),
        sa.Column("days_off", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "agent_id", name=op.f("pk_agents")),
        schema="visits",
    )
    op.create_table(
        "crews",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("crew_id", sa.Text(), nullable=False),
        sa.Column("agent_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "crew_id", name=op.f("pk_crews")),
        schema="visits",
    )
    op.create_table(
        "plans",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("crew_id", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("solver", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "crew_id", "date", name=op.f("pk_plans")),
        schema="visits",
    )
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.UUID(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("tenant", "client_id", name=op.f("uq_receipts_tenant_client_id")),
        schema="visits",
    )
    op.create_table(
        "visits",
        sa.Column("visit_id", sa.UUID(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("borrower_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="50", nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("permit_id", sa.UUID(), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("crew_size", sa.Integer(), nullable=True),
        sa.Column("crew_id", sa.Text(), nullable=True),
        sa.Column("arrive_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("depart_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_in", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("entry_consent", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("promise", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("promise_id", sa.UUID(), nullable=True),
        sa.Column("outcome_request", sa.Text(), nullable=True),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_visits")),
        schema="visits",
    )
    op.create_index("ix_visits_account_id", "visits", ["account_id"], unique=False, schema="visits")
    op.create_index("ix_visits_request_id", "visits", ["request_id"], unique=False, schema="visits")
    op.create_index(
        "ix_visits_promise_id",
        "visits",
        ["promise_id"],
        unique=False,
        schema="visits",
        postgresql_where=sa.text("promise_id IS NOT NULL"),
    )
    op.create_index(
        "ix_visits_tenant_date", "visits", ["tenant", "date", "state"], unique=False, schema="visits"
    )
    op.create_index(
        "ux_visits_open_account",
        "visits",
        ["account_id"],
        unique=True,
        schema="visits",
        postgresql_where=sa.text("state NOT IN ('completed', 'cancelled', 'denied')"),
    )


def downgrade() -> None:
    op.drop_index(
        "ux_visits_open_account",
        table_name="visits",
        schema="visits",
        postgresql_where=sa.text("state NOT IN ('completed', 'cancelled', 'denied')"),
    )
    op.drop_index("ix_visits_promise_id", table_name="visits", schema="visits")
    op.drop_index("ix_visits_tenant_date", table_name="visits", schema="visits")
    op.drop_index("ix_visits_request_id", table_name="visits", schema="visits")
    op.drop_index("ix_visits_account_id", table_name="visits", schema="visits")
    op.drop_table("visits", schema="visits")
    op.drop_table("receipts", schema="visits")
    op.drop_table("plans", schema="visits")
    op.drop_table("crews", schema="visits")
    op.drop_table("agents", schema="visits")
    op.drop_index("ix_visits_accounts_borrower_id", table_name="accounts", schema="visits")
    op.drop_table("accounts", schema="visits")
