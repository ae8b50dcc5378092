"""Contracts of `visits.v1`: a field visit's life (scheduled, checked in, completed, cancelled).

Visits also publishes `permit.requested` (channel `visit`), `contact.attempted` (every visit made is
an attempt in the compliance ledger) and `promise.made` (a promise made at the door) on its topic,
with the shared contracts of `common.contracts.contact` and `common.contracts.reminders`.
Evidence (photos, recordings, receipts) travels only as SHA-256 hashes: compliance appends them to
its audit chain, so a file cannot be swapped afterwards.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from common.contracts import Contract, contract

TOPIC = "visits.v1"
CTX_VISIT_NOTES = "visit.notes"  # encryption context of an agent's notes

VisitOutcome = Literal[
    "met_promise", "met_paid", "met_refused", "not_home", "moved", "wrong_address", "unsafe"
]
# Why a visit leaves the plan for good.
CancelReason = Literal[
    "payment",
    "closed",
    "recalled",
    "dispute",
    "cease_communication",
    "attorney",
    "bankruptcy",
    "deceased",
    "do_not_visit",
    "vulnerable",
    "erased",
    "denied",
    "ops",
]


class VisitEvent(Contract):
    visit_id: str
    account_id: str
    borrower_id: str
    at: datetime


class Evidence(Contract):
    kind: Literal["photo", "recording", "receipt", "document"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@contract("visit.scheduled")
class VisitScheduled(VisitEvent):
    date: date
    crew_id: str
    arrive_at: datetime
    depart_at: datetime
    permit_id: str


@contract("visit.checked_in")
class VisitCheckedIn(VisitEvent):
    crew_id: str
    crew_size: int
    checked_in_at: datetime
    distance_m: int  # from the address on file
    flagged: bool  # farther than the configured distance
    id_shown: bool
    permit_id: str
    evidence: list[Evidence] = Field(default_factory=list)


class Receipt(Contract):
    """Money taken at the door: intake records it as a payment (idempotent on `receipt_id`)."""

    receipt_id: str
    amount_minor: int
    currency: str
    method: Literal["cash", "card"]
    number: str
    paid_at: datetime


@contract("visit.completed")
class VisitCompleted(VisitEvent):
    crew_id: str
    outcome: VisitOutcome
    entry_consent: bool
    checked_in_at: datetime
    permit_id: str
    notes: str | None = None  # enc:v1 (CTX_VISIT_NOTES)
    promise_id: str | None = None
    receipt: Receipt | None = None
    evidence: list[Evidence] = Field(default_factory=list)


@contract("visit.cancelled")
class VisitCancelled(VisitEvent):
    reason: CancelReason
    detail: str
