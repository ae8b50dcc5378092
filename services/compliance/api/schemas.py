"""Request and response bodies of the compliance API (separate from contracts and tables)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.contact import Purpose
from common.fields import Instant


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: uuid.UUID
    channel: Literal["voice_call", "sms", "email", "push", "letter", "visit"]
    recipient: Literal["debtor", "third_party"] = "debtor"
    at: Instant | None = None
    autodialed: bool = False
    prerecorded: bool = False
    purpose: Purpose = "collection"
    contact_point_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[0-9a-f]*$",
        description="omit to evaluate every known contact point of the channel, one result each",
    )
    third_party_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[0-9a-f]*$",
        description="omit (with recipient third_party) to evaluate every known third party",
    )
    crew_size: int | None = Field(default=None, ge=0, le=50)
    recording: bool | None = None
    id_shown: bool | None = None
    intake_seq: int | None = Field(
        default=None,
        ge=0,
        description="the `seq` intake's account view showed; the answer waits for compliance to catch up",
    )


class ReasonView(BaseModel):
    rule: str
    message: str
    citation: str = ""


class DecisionView(BaseModel):
    outcome: Literal["allow", "deny", "defer"]
    not_before: datetime | None
    expires_at: datetime | None
    reasons: list[ReasonView]
    policy: str
    evaluated_rules: list[str] = []


class TargetDecision(BaseModel):
    """The dry run's answer for one contact point (or one third party)."""

    kind: Literal["phone", "email", "address", "third_party"]
    contact_point_id: str | None
    third_party_id: str | None
    relationship: str | None = None
    outcome: Literal["allow", "deny", "defer"]
    not_before: datetime | None
    expires_at: datetime | None
    reasons: list[ReasonView]


class EvaluationView(DecisionView):
    """A dry run: the overall answer and, when no contact point was named, one answer per target."""

    targets: list[TargetDecision] = []


class StoredDecision(DecisionView):
    permit_id: str
    request_id: str
    requester: str
    channel: str
    request: dict[str, Any]
    decided_at: datetime
    used_at: datetime | None
    used_by: str | None


class DecisionPage(BaseModel):
    items: list[StoredDecision]
    next_cursor: str | None


class ValidationNotice(BaseModel):
    due: datetime | None
    sent_at: datetime | None
    period_ends: date | None = Field(description="the end of the validation period the notice stated")


class ZoneView(BaseModel):
    zone: str
    sources: list[Literal["declared", "address", "phone"]]


class DisputeView(BaseModel):
    received_at: datetime
    written: bool


class StateView(BaseModel):
    account_id: str
    borrower_id: str
    jurisdiction: str
    policy: str
    timezones: list[str]
    zones: list[ZoneView] = Field(description="every candidate zone with where it came from; all must allow")
    holds: list[str]
    channel_opt_outs: list[str]
    consents: dict[str, dict[str, Any]]
    preferences: dict[str, Any]
    ledger_counts: dict[str, int]
    first_contact_at: datetime | None
    validation_notice: ValidationNotice
    notices: dict[str, datetime]
    dispute: DisputeView | None
    debtor_unreachable: bool | None = Field(
        description="whether the pack's third-party rule counts the debtor as unreachable now"
    )
    refused_third_parties: list[str]
    contacted_third_parties: list[str]
    intake_seq: int = Field(description="the borrower's latest intake event compliance has applied")


class LintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jurisdiction: str = Field(max_length=8)
    channel: Literal["voice_call", "sms", "email", "push", "letter", "visit", "e-mail"]
    language: str = Field(max_length=16)
    body: str = Field(max_length=20_000)
    subject: str | None = Field(default=None, max_length=1_000)


class FindingView(BaseModel):
    rule: str
    category: str
    span: tuple[int, int]
    message: str
    suggestion: str = Field(default="", description="a rewrite to start from")
    citation: str = Field(default="", description="the rules the finding breaks where the template is sent")


class LintView(BaseModel):
    ok: bool
    findings: list[FindingView]


class VerifyView(BaseModel):
    ok: bool
    chain: str | None = None  # the chain verified, or the one with the problem
    chains: int = 1
    entries: int
    head: str | None
    first_bad_seq: int | None
    problem: str | None = None


class ViolationView(BaseModel):
    violation_id: str
    account_id: str
    kind: str
    attempt_id: str | None
    permit_id: str | None
    detail: str
    detected_at: datetime


class ViolationPage(BaseModel):
    items: list[ViolationView]


class DecisionReport(BaseModel):
    start: datetime
    end: datetime
    outcomes: dict[str, int]
    rules: list[dict[str, Any]]
    # violation.detected per kind (e.g. delivery_without_permit), by when it was detected
    violations: dict[str, int] = Field(default_factory=dict)


class PolicySummary(BaseModel):
    pack: str
    version: str
    version_tag: str
    title: str
    extends: str | None
    retention_years: int
    rules: int


class PolicyPacks(BaseModel):
    packs: list[PolicySummary]


class PolicyDetail(PolicySummary):
    sources: list[str]
    retention_citation: str | None
    rule_list: list[dict[str, Any]]
