"""Tables of the visits schema; no other service reads them.

`accounts` is visits' view of intake's accounts (the address stays the enc:v1 token intake
published); `agents` and `crews` are the field force; `visits` are the cases, one row each from the
escalation to its outcome; `plans` are the day plans per crew; `receipts` the money taken at doors.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from common.db import make_metadata
from common.messaging.tables import inbox_table, outbox_table

SCHEMA = "visits"

metadata = make_metadata(SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount_due_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),
    Column("due_date", Date, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("holds", ARRAY(Text), nullable=False, server_default="{}"),
    Column("timezones", ARRAY(Text), nullable=False, server_default="{}"),
    # the home address to visit: intake's enc:v1 token (JSON with lat and lon), its id and region
    Column("address", Text),
    Column("address_id", Text),
    Column("region", Text),
    Column("intake_seq", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_visits_accounts_borrower_id", "borrower_id"),
)

agents = Table(
    "agents",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("agent_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("home_lat", Float, nullable=False),
    Column("home_lon", Float, nullable=False),
    Column("shift_start", Text, nullable=False),  # "HH:MM" local
    Column("shift_end", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("languages", ARRAY(Text), nullable=False, server_default="{}"),
    Column("max_visits_per_day", Integer, nullable=False),
    # weekdays ("mon".."sun") and dates ("2026-12-24") the agent does not work
    Column("days_off", ARRAY(Text), nullable=False, server_default="{}"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

crews = Table(
    "crews",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("crew_id", Text, primary_key=True),
    Column("agent_ids", ARRAY(Text), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

visits = Table(
    "visits",
    metadata,
    Column("visit_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("source", Text, nullable=False),  # escalation or ops
    Column("reason", Text, nullable=False),
    # awaiting_account (or awaiting_address) → awaiting_permit → permitted → planned → checked_in
    # → completed;
    # or cancelled (payment, holds, ...) or denied (compliance refused)
    Column("state", Text, nullable=False),
    Column("date", Date, nullable=False),  # the day it is to be made
    Column("priority", Integer, nullable=False, server_default="50"),
    Column("request_id", Text),
    Column("permit_id", UUID(as_uuid=True)),
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True)),
    Column("crew_size", Integer),  # the crew the permit was asked for (at least this many)
    Column("crew_id", Text),
    Column("arrive_at", DateTime(timezone=True)),
    Column("depart_at", DateTime(timezone=True)),
    # {"crew_id", "at", "lat", "lon", "distance_m", "flagged", "id_shown", "recording_sha256"}
    Column("check_in", JSONB),
    Column("outcome", Text),
    Column("entry_consent", Boolean),
    Column("notes", Text),  # enc:v1 (CTX_VISIT_NOTES)
    Column("evidence", JSONB, nullable=False, server_default="[]"),
    Column("promise", JSONB),  # {"promise_id", "amount_minor", "due_date", "state"}
    Column("promise_id", UUID(as_uuid=True)),  # reminders reports the promise kept or broken by it
    Column("outcome_request", Text),  # hash of the outcome body: a retry of the same body is a no-op
    Column("reasons", JSONB, nullable=False, server_default="[]"),
    Column("completed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_visits_account_id", "account_id"),
    Index("ix_visits_request_id", "request_id"),
    Index("ix_visits_tenant_date", "tenant", "date", "state"),
    Index("ix_visits_promise_id", "promise_id", postgresql_where=text("promise_id IS NOT NULL")),
    # an account has one open visit case at a time
    Index(
        "ux_visits_open_account",
        "account_id",
        unique=True,
        postgresql_where=text("state NOT IN ('completed', 'cancelled', 'denied')"),
    ),
)

plans = Table(
    "plans",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("crew_id", Text, primary_key=True),
    Column("date", Date, primary_key=True),
    # {"stops": [...], "distance_m", "travel_s", "leave_at", "back_at"}
    Column("document", JSONB, nullable=False),
    Column("solver", Text, nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("visit_id", UUID(as_uuid=True), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("number", Text, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    # the app's own id: a retry after lost signal finds the receipt instead of taking money twice
    UniqueConstraint("tenant", "client_id"),
)
