"""Tables of the intake schema; no other service reads them.

Personal data lives only in `*_sealed` columns as enc:v1 tokens; look-ups use keyed hashes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from common.db import make_metadata
from common.messaging.tables import inbox_table, outbox_table

SCHEMA = "intake"

metadata = make_metadata(SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# Every lender event we accepted, for idempotency: the same id with another payload is a conflict.
lender_events = Table(
    "lender_events",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("payload_hash", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

borrowers = Table(
    "borrowers",
    metadata,
    Column("borrower_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("external_borrower_id", Text, nullable=False),
    # enc:v1 JSON: name, national_id, phones, emails, addresses, third parties, attorney
    Column("pii_sealed", Text),
    Column("national_id_hash", Text),
    Column("timezones", ARRAY(Text), nullable=False),
    Column("declared_timezone", Text),  # as the lender declared it; the others are derived
    # {zone: ["declared", "address", "phone"]}: where each candidate zone came from
    Column("zone_sources", JSONB, nullable=False, server_default="{}"),
    Column("language", Text),
    Column("preferences", JSONB, nullable=False, server_default="{}"),
    Column("holds", ARRAY(Text), nullable=False, server_default="{}"),
    Column("erased_at", DateTime(timezone=True)),
    # what a retention period keeps after erasure, still sealed
    Column("retained_sealed", Text),
    Column("retain_until", Date),
    # How many intake.v1 events this borrower has had; each event carries its number as `seq`.
    Column("event_seq", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant", "external_borrower_id"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("external_account_id", Text, nullable=False),
    Column("borrower_id", UUID(as_uuid=True), ForeignKey(borrowers.c.borrower_id), nullable=False),
    Column("product", Text),
    Column("currency", Text, nullable=False),
    Column("amount_due_minor", BigInteger, nullable=False),
    Column("principal_minor", BigInteger),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),
    Column("due_date", Date, nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("closed_reason", Text),
    Column("holds", ARRAY(Text), nullable=False, server_default="{}"),
    Column("placed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant", "external_account_id"),
    Index("ix_accounts_borrower_id", "borrower_id"),
)

payments = Table(
    "payments",
    metadata,
    Column("account_id", UUID(as_uuid=True), ForeignKey(accounts.c.account_id), nullable=False),
    Column("lender_event_id", Text, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("reference", Text),
    Index("ix_payments_account_id", "account_id"),
)
