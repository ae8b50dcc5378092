"""Contracts shared by the services that contact people (reminders, visits) and the one that permits it.

`permit.requested` travels on `reminders.v1` and `visits.v1`; `permit.decided` and
`violation.detected` on `compliance.v1`; `contact.attempted` and `optout.received` on `reminders.v1`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from common.contracts import Contract, contract

Channel = Literal["voice_call", "sms", "email", "push", "letter", "visit"]
Recipient = Literal["debtor", "third_party"]
# Why a contact is made. Besides collecting and locating, some contacts are notices the law asks for:
# the Reg F validation notice (12 CFR 1006.34), a forbearance offer before escalation (FCA CONC 7.3.4R),
# a notice before a visit, and the three notices 15 U.S.C. 1692c(c) still allows after a cease request.
Purpose = Literal[
    "collection",
    "location",
    "validation_notice",
    "forbearance_offer",
    "visit_notice",
    "notice_efforts_terminated",
    "notice_may_invoke_remedy",
    "notice_will_invoke_remedy",
]
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
    "met_promise",
    "met_paid",
    "met_refused",
    "not_home",
    "moved",
    "wrong_address",
    "unsafe",
]
Requester = Literal["reminders", "visits", "ops"]

COMPLIANCE_TOPIC = "compliance.v1"


@contract("permit.requested")
class PermitRequested(Contract):
    """May we contact this person, this way, at this time? Answered by `permit.decided`."""

    request_id: str
    requester: Requester
    account_id: str
    borrower_id: str
    channel: Channel
    recipient: Recipient = "debtor"
    at: datetime
    autodialed: bool = False
    prerecorded: bool = False  # an artificial or prerecorded voice (47 CFR 64.1200(a)(3))
    purpose: Purpose = "collection"
    contact_point_id: str | None = None
    third_party_id: str | None = None
    crew_size: int | None = None
    recording: bool | None = None
    id_shown: bool | None = None
    job_id: str | None = None
    # A visit asks for the window it may happen in, [at, until): the permit then lasts until the
    # earlier of `until` and the moment the permitted hours close (other channels ignore it).
    until: datetime | None = None
    # The borrower's intake event sequence the requester has seen: compliance defers the decision
    # until it has applied at least that much, so it never decides on older state than the requester.
    intake_seq: int | None = None


class DecisionReason(Contract):
    rule: str
    message: str
    citation: str = ""


@contract("permit.decided")
class PermitDecided(Contract):
    permit_id: str
    request_id: str
    requester: Requester
    account_id: str
    borrower_id: str
    channel: Channel
    recipient: Recipient
    outcome: Literal["allow", "deny", "defer"]
    not_before: datetime | None
    expires_at: datetime | None
    reasons: list[DecisionReason]
    policy: str
    decided_at: datetime
    job_id: str | None = None


@contract("contact.attempted")
class ContactAttempted(Contract):
    """Something happened on a channel: a send, a call, a visit. Counted in the compliance ledger."""

    attempt_id: str
    account_id: str
    borrower_id: str
    channel: Channel
    recipient: Recipient = "debtor"
    direction: Literal["outbound", "inbound"] = "outbound"
    outcome: Outcome
    at: datetime
    permit_id: str | None = None
    contact_point_id: str | None = None
    third_party_id: str | None = None
    agent_id: str | None = None
    provider_message_id: str | None = None
    # The person asked never to be contacted again (a third party's refusal is final).
    refused: bool = False
    # A validation notice states the end of its validation period (12 CFR 1006.34(b)(5)).
    validation_period_ends: date | None = None


@contract("optout.received")
class OptOutReceived(Contract):
    account_id: str
    borrower_id: str
    channel: Channel
    contact_point_id: str | None
    keyword: str | None
    received_at: datetime


@contract("violation.detected")
class ViolationDetected(Contract):
    violation_id: str
    account_id: str
    borrower_id: str
    kind: Literal[
        "delivery_without_permit", "permit_expired", "permit_reused", "permit_mismatch", "permit_denied"
    ]
    attempt_id: str | None
    permit_id: str | None
    detail: str
    detected_at: datetime
