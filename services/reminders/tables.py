"""Tables of the reminders schema: its view of accounts, durable reminder jobs, call tasks, promises,
plans, strategies and inbound messages. Contact points stay as the enc:v1 tokens intake published."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
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

SCHEMA = "reminders"

metadata = make_metadata(SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("external_account_id", Text, nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount_due_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),
    Column("due_date", Date, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("holds", ARRAY(Text), nullable=False, server_default="{}"),
    Column("opted_out", ARRAY(Text), nullable=False, server_default="{}"),
    Column("timezones", ARRAY(Text), nullable=False, server_default="{}"),
    Column("language", Text),
    # {"name": enc, "phones": [{id, number (enc), consent_sms, is_mobile}],
    #  "emails": [{id, address (enc), consent, employer}], "addresses": [{id, sealed (enc), type, ...}]}
    Column("contacts", JSONB, nullable=False, server_default="{}"),
    # [{id, relationship, phone_id}]: whom contact logging may name as a third party
    Column("third_parties", JSONB, nullable=False, server_default="[]"),
    # the lender's itemization of the debt, for the validation notice (intake's Itemization contract)
    Column("itemization", JSONB),
    Column("product", Text),
    # the validation notice: none (not required), pending, sent, failed or unavailable (no way to send)
    Column("notice_state", Text, nullable=False, server_default="none"),
    # the borrower's latest intake event applied here; permit requests carry it
    Column("intake_seq", BigInteger, nullable=False, server_default="0"),
    Column("strategy", Text, nullable=False),
    Column("variant", Text, nullable=False),
    Column("steps_done", ARRAY(Integer), nullable=False, server_default="{}"),
    Column("escalated_at", DateTime(timezone=True)),
    Column("placed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # why and when the account closed (paid, settled, recalled, written_off): the case analysis'
    # cures are the paid and settled ones
    Column("closed_reason", Text),
    Column("closed_at", DateTime(timezone=True)),
    # when the ladder next needs a look if nothing happens (just after the borrower's next midnight)
    Column("next_plan_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_accounts_borrower_id", "borrower_id"),
    Index("ix_accounts_next_plan_at", "next_plan_at", postgresql_where=text("status = 'open'")),
    # the case analysis reads a tenant's accounts placed in a period
    Index("ix_accounts_tenant_placed_at", "tenant", "placed_at"),
)

# One row per reminder the strategy wants sent; the state machine is in reminders.domain.jobs.
jobs = Table(
    "jobs",
    metadata,
    Column("job_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("step_dpd", Integer, nullable=False),
    Column("channel", Text, nullable=False),
    # collection (a rung of the ladder), validation_notice or forbearance_offer
    Column("purpose", Text, nullable=False, server_default="collection"),
    Column("state", Text, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("not_before", DateTime(timezone=True)),
    Column("request_id", Text),
    Column("permit_id", UUID(as_uuid=True)),
    Column("permit_expires_at", DateTime(timezone=True)),
    Column("contact_point_id", Text),
    Column("reasons", JSONB, nullable=False, server_default="[]"),
    Column("provider", Text),
    Column("provider_message_id", Text),
    Column("delivery", Text),
    Column("tries", Integer, nullable=False, server_default="0"),
    # a validation notice states the end of its validation period; the attempt reports it to compliance
    Column("validation_period_ends", Date),
    # the W3C traceparent the job's work continues: its placement's, then its permit decision's
    Column("traceparent", Text),
    # when it went (the service's clock): the case analysis credits a cure to the last contact before it
    Column("sent_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The same step of the same account is planned once, however often its trigger is replayed.
    UniqueConstraint("account_id", "purpose", "step_dpd"),
    Index("ix_jobs_due", "state", "due_at"),
    Index("ix_jobs_request_id", "request_id"),
    # the dispatcher's other two claims: deferred jobs by not_before, stale waits by updated_at
    Index("ix_jobs_deferred", "not_before", postgresql_where=text("state = 'deferred'")),
    Index("ix_jobs_awaiting_permit", "updated_at", postgresql_where=text("state = 'awaiting_permit'")),
    # a delivery receipt finds its job by the provider's message id
    Index(
        "ix_jobs_provider_message_id",
        "provider_message_id",
        postgresql_where=text("provider_message_id IS NOT NULL"),
    ),
)

call_tasks = Table(
    "call_tasks",
    metadata,
    Column("task_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("job_id", UUID(as_uuid=True), unique=True),
    Column("agent_id", Text),
    Column("state", Text, nullable=False, server_default="open"),
    Column("contact_point_id", Text),
    Column("permit_id", UUID(as_uuid=True)),
    Column("permit_expires_at", DateTime(timezone=True)),
    Column("outcome", Text),
    Column("outcome_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_call_tasks_agent_id_state", "agent_id", "state"),
    # stopping an account cancels its open call tasks
    Index("ix_call_tasks_account_id", "account_id"),
)

promises = Table(
    "promises",
    metadata,
    Column("promise_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("state", Text, nullable=False, server_default="active"),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),
    Column("source", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_promises_account_id", "account_id"),
    # the sweep reads active promises past due
    Index("ix_promises_active_due_date", "due_date", postgresql_where=text("state = 'active'")),
)

plans = Table(
    "plans",
    metadata,
    Column("plan_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    # [{due_date, amount_minor, paid_minor, state: open|paid|missed}]
    Column("installments", JSONB, nullable=False),
    Column("state", Text, nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_plans_account_id", "account_id"),
    # the sweep reads active plans
    Index("ix_plans_active", "plan_id", postgresql_where=text("state = 'active'")),
)

strategies = Table(
    "strategies",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("document", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# A lender's own settings (GET/PUT /v1/settings); a missing row or a null column is the default.
tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("default_strategy", Text),
    Column("contact_spacing_s", Integer),
    Column("visits_enabled", Boolean),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Look-up of a phone or e-mail (keyed hash) to the accounts it belongs to, for inbound messages.
contact_points = Table(
    "contact_points",
    metadata,
    Column("contact_point_id", Text, primary_key=True),
    Column("account_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("borrower_id", UUID(as_uuid=True), nullable=False),
    Column("channel", Text, nullable=False),
)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("contact_point_id", Text, nullable=False),
    Column("account_id", UUID(as_uuid=True)),
    Column("text_sealed", Text, nullable=False),
    Column("keyword", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
