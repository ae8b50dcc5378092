"""A batch of placements as the lender's book sees them, decided without touching the database: which
lines place an account and which are refused, whose borrower each account is (one intake already
knows, one new in this batch, or a new one), and the rows and the event each placement makes.

The handler reads what the book needs (accounts and borrowers already placed, the lines another
request placed meanwhile), checks and seals each line, asks `plan`, and writes what it returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

import common.contracts.intake as c
from intake.normalise import SealedBorrower

ALREADY_PLACED = {
    "field": "account.external_account_id",
    "message": "this account is already placed; send account.updated to change it",
    "type": "conflict",
}


@dataclass(frozen=True)
class Candidate:
    """One placement line: what it says, and either its sealed borrower and jurisdiction or what is
    wrong with it (`errors`); None for both when it was not checked (its account exists)."""

    number: int
    event_id: str
    payload_hash: str
    event: Any  # an AccountPlacedIn
    sealed: SealedBorrower | None = None
    jurisdiction: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    candidate: Candidate
    account_id: uuid.UUID
    borrower_id: uuid.UUID

    @property
    def external_account_id(self) -> str:
        return str(self.candidate.event.account.external_account_id)


@dataclass
class Book:
    placements: list[Placement] = field(default_factory=list)
    refused: dict[int, list[dict[str, str]]] = field(default_factory=dict)  # line number -> errors
    # a borrower first seen in this batch is written as its first placement has it
    new_borrowers: dict[uuid.UUID, SealedBorrower] = field(default_factory=dict)
    # a borrower intake knew is re-sealed as the batch's last placement of theirs has it
    known_borrowers: dict[uuid.UUID, SealedBorrower] = field(default_factory=dict)


def plan(
    candidates: Sequence[Candidate],
    *,
    existing_accounts: set[str],
    known_borrowers: dict[str, uuid.UUID],
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> Book:
    """Decide a batch in line order. An account already placed (before this batch, or by an earlier
    line of it) is a conflict whatever else is wrong with the line; then a line's own errors refuse it."""
    book = Book()
    placed: set[str] = set()
    borrowers_new_here: dict[str, uuid.UUID] = {}
    for candidate in candidates:
        ext = candidate.event.account.external_account_id
        if ext in existing_accounts or ext in placed:
            book.refused[candidate.number] = [dict(ALREADY_PLACED)]
            continue
        sealed = candidate.sealed
        if candidate.errors or sealed is None or candidate.jurisdiction is None:
            book.refused[candidate.number] = candidate.errors
            continue
        ext_b = sealed.external_borrower_id
        if (known := known_borrowers.get(ext_b)) is not None:
            borrower_id = known
            book.known_borrowers[borrower_id] = sealed
        elif ext_b in borrowers_new_here:
            borrower_id = borrowers_new_here[ext_b]
        else:
            borrower_id = borrowers_new_here[ext_b] = new_id()
            book.new_borrowers[borrower_id] = sealed
        placed.add(ext)
        book.placements.append(Placement(candidate, account_id=new_id(), borrower_id=borrower_id))
    return book


def borrower_row(tenant: str, borrower_id: uuid.UUID, sealed: SealedBorrower) -> tuple[Any, ...]:
    """A new borrower, in the order of the handler's BORROWER_COLUMNS."""
    return (
        borrower_id,
        tenant,
        sealed.external_borrower_id,
        sealed.pii_sealed,
        sealed.national_id_hash,
        sealed.contacts.timezones,
        sealed.language,
        "{}",
        [],
        sealed.contacts.declared_timezone,
        orjson.dumps(sealed.contacts.zone_sources).decode(),
    )


def borrower_changes(sealed: SealedBorrower) -> dict[str, Any]:
    """What a new placement changes on a borrower intake knew."""
    return {
        "pii_sealed": sealed.pii_sealed,
        "national_id_hash": sealed.national_id_hash,
        "timezones": sealed.contacts.timezones,
        "declared_timezone": sealed.contacts.declared_timezone,
        "zone_sources": sealed.contacts.zone_sources,
        "language": sealed.language,
        # a new placement brings the borrower's data back under a new legal basis
        "erased_at": None,
    }


def account_row(tenant: str, p: Placement) -> tuple[Any, ...]:
    """The account, in the order of the handler's ACCOUNT_COLUMNS."""
    a = p.candidate.event.account
    return (
        p.account_id,
        tenant,
        a.external_account_id,
        p.borrower_id,
        a.product,
        a.currency,
        a.amount_due_minor,
        a.principal_minor,
        a.due_date,
        p.candidate.jurisdiction,
    )


def lender_event_row(tenant: str, p: Placement) -> tuple[Any, ...]:
    return (tenant, p.candidate.event_id, p.candidate.payload_hash, p.candidate.event.type, p.account_id)


def placed_event(p: Placement) -> c.AccountPlaced:
    """What the placement tells the other services: the account and its borrower, sealed."""
    event, sealed = p.candidate.event, p.candidate.sealed
    assert sealed is not None
    assert p.candidate.jurisdiction is not None
    a = event.account
    return c.AccountPlaced(
        lender_event_id=p.candidate.event_id,
        occurred_at=event.occurred_at,
        account_id=str(p.account_id),
        borrower_id=str(p.borrower_id),
        account=c.Account(
            account_id=str(p.account_id),
            external_account_id=a.external_account_id,
            product=a.product,
            currency=a.currency,
            amount_due_minor=a.amount_due_minor,
            principal_minor=a.principal_minor,
            due_date=a.due_date,
            jurisdiction=p.candidate.jurisdiction,
            itemization=c.Itemization(**a.itemization.model_dump()) if a.itemization else None,
        ),
        borrower=c.Borrower(
            borrower_id=str(p.borrower_id),
            external_borrower_id=sealed.external_borrower_id,
            name=sealed.name,
            national_id=sealed.national_id,
            phones=sealed.contacts.phones,
            emails=sealed.contacts.emails,
            addresses=sealed.contacts.addresses,
            timezones=sealed.contacts.timezones,
            zone_sources=sealed.contacts.zone_sources,
            language=sealed.language,
        ),
        third_parties=sealed.third_parties,
    )
