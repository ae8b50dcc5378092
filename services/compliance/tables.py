"""Tables of the compliance schema: its own view of accounts, the contact ledger, decisions, violations
and the append-only audit chain. No plaintext personal data: contact points are keyed hashes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Identity, Index, Table, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from common.db import make_metadata
from common.messaging.tables import inbox_table, outbox_table

SCHEMA = "compliance"

metadata = make_metadata(SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

borrowers = Table(
    "borrowers",
    metadata,
    Column("borrower_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("timezones", ARRAY(Text), nullable=False, server_default="{}"),
    # {zone: ["declared", "address", "phone"]}: where each candidate zone came from
    Column("zone_sources", JSONB, nullable=False, server_default="{}"),
    Column("holds", ARRAY(Text), nullable=False, server_default="{}"),
    Column("channel_opt_outs", ARRAY(Text), nullable=False, server_default="{}"),
    # {contact_point_id: {kind, sms, autodialer, email, is_mobile, line_type, employer_email, place}}
    Column("consents", JSONB, nullable=False, server_default="{}"),
    Column("preferences", JSONB, nullable=False, server_default="{}"),
    Column("third_parties", JSONB, nullable=False, server_default="{}"),
    Column("refused_third_parties", ARRAY(Text), nullable=False, server_default="{}"),
    Column("contacted_third_parties", ARRAY(Text), nullable=False, server_default="{}"),
    # The borrower's latest intake event applied here (intake stamps every event with it).
    Column("intake_seq", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("holds", ARRAY(Text), nullable=False, server_default="{}"),
    Column("first_contact_at", DateTime(timezone=True)),
    Column("validation_notice_sent_at", DateTime(timezone=True)),
    Column("validation_period_ends", Date),
    # {purpose: iso instant}: the latest delivered notice of each purpose
    Column("notices", JSONB, nullable=False, server_default="{}"),
    # the open dispute: {received_at, written}
    Column("dispute", JSONB),
    Column("placed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_accounts_borrower_id", "borrower_id"),
)

# Every contact that happened, as reported: what the frequency rules count.
ledger = Table(
    "ledger",
    metadata,
    Column("attempt_id", Text, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("direction", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("contact_point_id", Text),
    Column("third_party_id", Text),
    Column("permit_id", UUID(as_uuid=True)),
    Column("purpose", Text),  # the permit's purpose; NULL for contacts made without one
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_ledger_borrower_id_at", "borrower_id", "at"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("permit_id", UUID(as_uuid=True), primary_key=True),
    Column("request_id", Text, nullable=False, unique=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("requester", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("request", JSONB, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("not_before", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
    Column("reasons", JSONB, nullable=False),
    Column("evaluated_rules", JSONB, nullable=False),
    Column("policy", Text, nullable=False),
    # the state and ledger the engine saw, so the decision can be replayed and explained
    Column("snapshot", JSONB, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("used_by", Text),
    Index("ix_decisions_account_id_decided_at", "account_id", "decided_at"),
    Index("ix_decisions_tenant_decided_at", "tenant", "decided_at", "permit_id"),
    Index("ix_decisions_decided_at", "decided_at", "permit_id"),
    # Every decision reads the borrower's outstanding permits (allowed, not used yet).
    Index(
        "ix_decisions_outstanding",
        "borrower_id",
        postgresql_where=text("outcome = 'allow' AND used_at IS NULL"),
    ),
)

violations = Table(
    "violations",
    metadata,
    Column("violation_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("attempt_id", Text),
    Column("permit_id", UUID(as_uuid=True)),
    Column("detail", Text, nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
)

# Append-only and hash-chained, one chain per tenant ("*": entries from before, in one chain); the
# runtime role may only insert and read (migration 0002).
audit_log = Table(
    "audit_log",
    metadata,
    Column("chain", Text, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("prev_hash", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("tenant", Text, nullable=False),
    # canonical JSON of what happened; the chain links its digest, so an export can leave out
    # another tenant's content and still verify
    Column("content", Text, nullable=False),
    Column("content_sha256", Text, nullable=False),
    Column("hash", Text, nullable=False),
    # the record the entry is about (a decision's permit id), to find its entry; not chained
    Column("ref", Text),
    Index("ix_audit_log_ref", "ref", postgresql_where=text("ref IS NOT NULL")),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("chain", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("head", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("signature_b64", Text, nullable=False),
    Index("ix_audit_checkpoints_chain_seq", "chain", "seq"),
)
