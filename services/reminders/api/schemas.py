"""Request and response bodies of the reminders API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.fields import Day, Instant, Text
from reminders.domain.settings import MAX_SPACING_S, MIN_SPACING_S

Outcome = Literal[
    "delivered",
    "failed",
    "bounced",
    "busy",
    "no_answer",
    "voicemail",
    "connected",
    "conversation",
    "wrong_number",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromiseIn(_In):
    account_id: uuid.UUID
    amount_minor: int = Field(gt=0, le=10**15)
    due_date: Day
    source: Literal["call", "visit", "inbound", "ops"] = "ops"


class PromiseOut(BaseModel):
    promise_id: str
    account_id: str
    amount_minor: int
    paid_minor: int
    due_date: date
    state: str
    source: str
    created_at: datetime


class InstallmentIn(_In):
    due_date: Day
    amount_minor: int = Field(gt=0, le=10**15)


class PlanIn(_In):
    account_id: uuid.UUID
    installments: list[InstallmentIn] = Field(min_length=1, max_length=120)


class PlanOut(BaseModel):
    plan_id: str
    account_id: str
    installments: list[dict[str, Any]]
    state: str
    created_at: datetime


class JobOut(BaseModel):
    job_id: str
    step_dpd: int
    channel: str
    purpose: str = Field(description="collection, validation_notice or forbearance_offer")
    state: str
    due_at: datetime
    not_before: datetime | None
    permit_id: str | None
    permit_expires_at: datetime | None
    reasons: list[dict[str, Any]]
    delivery: str | None
    provider: str | None
    updated_at: datetime


class JobsOut(BaseModel):
    account_id: str
    items: list[JobOut]


class CallTaskOut(BaseModel):
    task_id: str
    account_id: str
    agent_id: str | None
    phone: str | None
    permit_expires_at: datetime | None
    created_at: datetime


class CallTasksOut(BaseModel):
    items: list[CallTaskOut]


class PromiseInCall(_In):
    amount_minor: int = Field(gt=0, le=10**15)
    due_date: Day


class CallOutcomeIn(_In):
    outcome: Outcome
    at: Instant
    promise: PromiseInCall | None = None


HashId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[0-9a-f]+$")]


class ContactIn(_In):
    account_id: uuid.UUID
    channel: Literal["voice_call", "sms", "email", "push", "letter"]
    direction: Literal["outbound", "inbound"]
    recipient: Literal["debtor", "third_party"] = "debtor"
    outcome: Outcome
    at: Instant
    agent_id: str | None = Field(default=None, max_length=128, pattern=r"^[^\x00-\x1f]*$")
    contact_point_id: HashId | None = Field(
        default=None,
        description="the phone, e-mail or address used, by its id in intake's account view "
        "(required for calls, texts and e-mails to the debtor)",
    )
    third_party_id: HashId | None = Field(
        default=None, description="the third party, by its id in intake's account view (required for them)"
    )
    refused: bool = Field(
        default=False, description="the third party asked never to be contacted again (final)"
    )


class Recorded(BaseModel):
    status: Literal["recorded"]
    id: str


class InboundSmsIn(_In):
    from_: str = Field(alias="from", min_length=3, max_length=32, pattern=r"^[^\x00-\x1f]*$")
    to: str = Field(min_length=1, max_length=32, pattern=r"^[^\x00-\x1f]*$")
    text: Text = Field(max_length=2000)
    received_at: Instant

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class InboundOut(BaseModel):
    """The same for every sender: what a reply did is seen on the accounts, not here."""

    status: Literal["received"]


class ReceiptIn(_In):
    provider_message_id: str = Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]*$")
    status: Literal["delivered", "failed", "bounced"]
    at: Instant | None = None


class StrategyOut(BaseModel):
    name: str
    version: int
    document: dict[str, Any]


class TenantSettingsIn(_In):
    """A lender's settings; a field left out (or null) is the service's default."""

    default_strategy: Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] = None
    contact_spacing_s: Annotated[int | None, Field(strict=True, ge=MIN_SPACING_S, le=MAX_SPACING_S)] = None
    visits_enabled: Annotated[bool | None, Field(strict=True)] = None


class EffectiveSettings(BaseModel):
    """What applies to the tenant's accounts now: its settings, and the defaults where it has none."""

    default_strategy: str
    contact_spacing_s: int
    visits_enabled: bool


class TenantSettingsOut(BaseModel):
    tenant: str
    saved: TenantSettingsIn
    effective: EffectiveSettings
    version: int = 0
    updated_by: str | None = None
    updated_at: datetime | None = None
