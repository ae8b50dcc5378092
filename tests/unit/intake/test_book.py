"""The book decides a batch of placements in line order, without the database: conflicts before a
line's own errors, one borrower however many of their accounts a batch places, a known borrower
re-sealed as the batch's last placement of theirs has it, a new one written as their first has it."""

from __future__ import annotations

import itertools
import uuid
from types import SimpleNamespace
from typing import Any

from intake import book
from intake.normalise import Contacts, SealedBorrower


def sealed(borrower: str, language: str = "zh") -> SealedBorrower:
    return SealedBorrower(
        external_borrower_id=borrower,
        name=None,
        national_id=None,
        national_id_hash=None,
        contacts=Contacts(),
        third_parties=[],
        language=language,
        pii_sealed=f"enc:v1:{borrower}:{language}",
    )


def line(
    number: int, account: str, borrower: str, *, errors: list[dict[str, str]] | None = None, **kw: Any
) -> book.Candidate:
    event = SimpleNamespace(account=SimpleNamespace(external_account_id=account), type="account.placed")
    return book.Candidate(
        number=number,
        event_id=f"e{number}",
        payload_hash=f"h{number}",
        event=event,
        sealed=None if errors else sealed(borrower, **kw),
        jurisdiction=None if errors else "CN",
        errors=errors or [],
    )


def ids() -> Any:
    counter = itertools.count(1)
    return lambda: uuid.UUID(int=next(counter))


BAD = [{"field": "account.due_date", "message": "not a date", "type": "value_error"}]


def test_an_account_placed_before_or_earlier_in_the_batch_is_a_conflict_whatever_else_is_wrong() -> None:
    planned = book.plan(
        [
            line(1, "A-old", "B1", errors=BAD),
            line(2, "A-1", "B1"),
            line(3, "A-1", "B2"),
            line(4, "A-2", "B2", errors=BAD),
            line(5, "A-2", "B2"),
        ],
        existing_accounts={"A-old"},
        known_borrowers={},
        new_id=ids(),
    )
    assert planned.refused == {1: [book.ALREADY_PLACED], 3: [book.ALREADY_PLACED], 4: BAD}
    # an invalid line places nothing, so the same account on a later valid line is placed
    assert [(p.candidate.number, p.external_account_id) for p in planned.placements] == [
        (2, "A-1"),
        (5, "A-2"),
    ]


def test_one_borrower_per_person_known_ones_updated_as_last_seen_new_ones_written_as_first_seen() -> None:
    known = uuid.uuid4()
    planned = book.plan(
        [
            line(1, "A-1", "B-known", language="zh"),
            line(2, "A-2", "B-new", language="zh"),
            line(3, "A-3", "B-new", language="en"),
            line(4, "A-4", "B-known", language="en"),
        ],
        existing_accounts=set(),
        known_borrowers={"B-known": known},
        new_id=ids(),
    )
    by_account = {p.external_account_id: p.borrower_id for p in planned.placements}
    assert by_account["A-1"] == by_account["A-4"] == known
    assert by_account["A-2"] == by_account["A-3"] != known
    assert {b: s.language for b, s in planned.known_borrowers.items()} == {known: "en"}
    assert {b: s.language for b, s in planned.new_borrowers.items()} == {by_account["A-2"]: "zh"}
    assert len({p.account_id for p in planned.placements}) == 4


def test_the_rows_and_event_of_a_placement_agree() -> None:
    account = SimpleNamespace(
        external_account_id="A-1",
        product="loan",
        currency="CNY",
        amount_due_minor=1200,
        principal_minor=1000,
        due_date="2026-11-01",
        itemization=None,
    )
    candidate = book.Candidate(
        number=1,
        event_id="e1",
        payload_hash="h1",
        event=SimpleNamespace(account=account, type="account.placed", occurred_at="2026-12-01T00:00:00Z"),
        sealed=sealed("B1"),
        jurisdiction="CN",
    )
    [p] = book.plan([candidate], existing_accounts=set(), known_borrowers={}, new_id=ids()).placements
    event = book.placed_event(p)
    assert (event.account_id, event.borrower_id) == (str(p.account_id), str(p.borrower_id))
    assert event.account.jurisdiction == "CN"
    assert book.account_row("t", p)[:4] == (p.account_id, "t", "A-1", p.borrower_id)
    assert book.lender_event_row("t", p) == ("t", "e1", "h1", "account.placed", p.account_id)
    assert book.borrower_row("t", p.borrower_id, sealed("B1"))[:4] == (
        p.borrower_id,
        "t",
        "B1",
        "enc:v1:B1:zh",
    )
