"""The lender's event_id is the idempotency key: a repeat is a duplicate, a changed payload a 409."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender, error_fields, published

pytestmark = pytest.mark.e2e

# How many copies of one event a lender's retrying integration sends at once.
COPIES = 8


async def test_the_same_event_twice_is_a_duplicate_of_the_same_account(stack: Stack, lender: Lender) -> None:
    event = b.account_placed()
    account_id = await lender.accept(event)

    again = await lender.post(event)
    reordered = await lender.http.post(
        "/v1/events",
        content=orjson.dumps(dict(reversed(event.items())), option=orjson.OPT_INDENT_2),
        headers={**lender.headers, "Content-Type": "application/json"},
    )

    for response in (again, reordered):
        assert response.status_code == 202, response.text
        assert response.json() == {"status": "duplicate", "account_id": account_id}
    listed = (await lender.accounts(external_account_id=event["account"]["external_account_id"])).json()
    assert [a["account_id"] for a in listed["items"]] == [account_id]
    await lender.accept(
        b.lender_event("account.recalled", event["account"]["external_account_id"], reason="x")
    )
    events = await published(stack, account_id, count=2)
    assert [e.type for e in events] == ["account.placed", "account.closed"]


async def test_the_same_event_id_with_another_payload_is_a_409_and_changes_nothing(lender: Lender) -> None:
    event = b.account_placed(amount_due_minor=1_234_500)
    account_id = await lender.accept(event)
    changed = {**event, "account": {**event["account"], "amount_due_minor": 9_999_999}}

    response = await lender.post(changed)

    assert response.status_code == 409, response.text
    assert response.json()["status"] == 409
    assert error_fields(response) == {"event_id"}
    assert (await lender.account(account_id))["amount_due_minor"] == 1_234_500


async def test_a_payment_posted_twice_counts_once(stack: Stack, lender: Lender) -> None:
    placement = b.account_placed(amount_due_minor=1_000)
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)
    payment = b.lender_event(
        "payment.received", ext, payment={"amount_minor": 300, "paid_at": b.now_iso(), "reference": "r-1"}
    )

    first, second = await lender.post(payment), await lender.post(payment)

    assert first.json() == {"status": "accepted", "account_id": account_id}
    assert second.json() == {"status": "duplicate", "account_id": account_id}
    account = await lender.account(account_id)
    assert (account["paid_minor"], account["balance_minor"]) == (300, 700)


async def test_a_payment_posted_concurrently_counts_once(stack: Stack, lender: Lender) -> None:
    placement = b.account_placed(amount_due_minor=1_000)
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)
    payment = b.lender_event(
        "payment.received", ext, payment={"amount_minor": 400, "paid_at": b.now_iso(), "reference": "r-2"}
    )

    answers = await asyncio.gather(*(lender.post(payment) for _ in range(COPIES)))

    assert [r.status_code for r in answers] == [202] * COPIES, [r.text for r in answers]
    assert sorted(r.json()["status"] for r in answers) == ["accepted"] + ["duplicate"] * (COPIES - 1)
    assert {r.json()["account_id"] for r in answers} == {account_id}
    assert (await lender.account(account_id))["paid_minor"] == 400
    await lender.accept(b.lender_event("account.recalled", ext, reason="marks the end of this story"))
    events = await published(stack, account_id, count=3)
    assert [e.type for e in events] == ["account.placed", "payment.received", "account.closed"]


async def test_a_placement_posted_concurrently_places_one_account(lender: Lender) -> None:
    event = b.account_placed()

    answers = await asyncio.gather(*(lender.post(event) for _ in range(COPIES)))

    assert [r.status_code for r in answers] == [202] * COPIES, [r.text for r in answers]
    assert sorted(r.json()["status"] for r in answers) == ["accepted"] + ["duplicate"] * (COPIES - 1)
    listed = (await lender.accounts(external_account_id=event["account"]["external_account_id"])).json()
    assert {r.json()["account_id"] for r in answers} == {a["account_id"] for a in listed["items"]}
    assert len(listed["items"]) == 1


async def test_placing_an_already_placed_account_again_is_rejected(lender: Lender) -> None:
    event = b.account_placed()
    await lender.accept(event)
    again = b.account_placed(external_account_id=event["account"]["external_account_id"])

    response = await lender.post(again)

    assert response.status_code == 422, response.text
    assert error_fields(response) == {"account.external_account_id"}
