"""Request and response bodies of the compliance API (separate from contracts and tables)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: uuid.UUID
    channel: Literal["voice_call", "sms", "email", "push", "letter", "visit"]
    recipient: Literal["debtor", "third_party"] = "debtor"
    at: AwareDatetime | None = None
    autodialed: bool = False
    purpose: Literal["collection", "location", "validation_notice"] = "collection"
    contact_point_id: str | None = Field(default=None, max_length=128, pattern=r"^[0-9a-f]*$")
    third_party_id: str | None = Field(default=None, max_length=128, pattern=r"^[0-9a-f]*$")
    crew_size: int | None = Field(default=None, ge=0, le=50)
    recording: bool | None = None
    id_shown: bool | None = None


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


class StateView(BaseModel):
    account_id: str
    borrower_id: str
    jurisdiction: str
    policy: str
    timezones: list[str]
    holds: list[str]
    channel_opt_outs: list[str]
    consents: dict[str, dict[str, Any]]
    preferences: dict[str, Any]
    ledger_counts: dict[str, int]
    first_contact_at: datetime | None
    validation_notice: ValidationNotice
    refused_third_parties: list[str]
    contacted_third_parties: list[str]


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


class LintView(BaseModel):
    ok: bool
    findings: list[FindingView]


class VerifyView(BaseModel):
    ok: bool
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
