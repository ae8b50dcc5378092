"""NDJSON batches: one result per line in order, good lines stored whatever the bad ones do."""

from __future__ import annotations

import orjson
import pytest

from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import NDJSON, Lender, error_fields, published

pytestmark = pytest.mark.e2e


async def test_a_mixed_batch_answers_every_line_in_order_and_stores_the_good_ones(
    stack: Stack, lender: Lender
) -> None:
    earlier = b.account_placed()
    earlier_id = await lender.accept(earlier)
    first, second, broken_phone = b.account_placed(), b.account_placed(), b.account_placed()
    broken_phone["borrower"]["phones"][0]["number"] = "+86123"
    conflicting = {**first, "account": {**first["account"], "amount_due_minor": 1}}
    first_ext = first["account"]["external_account_id"]
    payment = b.lender_event(
        "payment.received",
        first_ext,
        payment={"amount_minor": 500, "paid_at": b.now_iso(), "reference": "b1"},
    )

    response = await lender.batch(
        [
            first,
            b'{"event_id": "half-a-line", "type": ',
            broken_phone,
            first,
            second,
            conflicting,
            payment,
            earlier,
        ]
    )

    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [(r["line"], r["status"]) for r in results] == [
        (1, "accepted"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "duplicate"),
        (5, "accepted"),
        (6, "rejected"),
        (7, "accepted"),
        (8, "duplicate"),
    ]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (3, 2, 3)
    assert [r["event_id"] for r in results] == [
        first["event_id"],
        None,
        broken_phone["event_id"],
        first["event_id"],
        second["event_id"],
        first["event_id"],
        payment["event_id"],
        earlier["event_id"],
    ]
    assert [e["field"] for e in results[1]["errors"]] == ["body"]
    assert [e["field"] for e in results[2]["errors"]] == ["borrower.phones.0.number"]
    assert [e["field"] for e in results[5]["errors"]] == ["event_id"]
    for ok in (results[0], results[3], results[4], results[6], results[7]):
        assert ok["errors"] == [], ok
    first_id = results[0]["account_id"]
    assert results[3]["account_id"] == results[6]["account_id"] == first_id
    assert results[7]["account_id"] == earlier_id

    stored = await lender.account(first_id)
    assert (stored["amount_due_minor"], stored["paid_minor"]) == (1_234_500, 500)
    second_stored = await lender.account(results[4]["account_id"])
    assert second_stored["external_account_id"] == second["account"]["external_account_id"]
    rejected = await lender.accounts(external_account_id=broken_phone["account"]["external_account_id"])
    assert rejected.json()["items"] == []
    events = await published(stack, first_id, count=2)
    assert [e.type for e in events] == ["account.placed", "payment.received"]


async def test_a_batch_sent_again_answers_duplicate_for_what_was_accepted(lender: Lender) -> None:
    placements = [b.account_placed() for _ in range(3)]
    placements[1]["account"]["currency"] = "RMB"
    payment = b.lender_event(
        "payment.received",
        placements[0]["account"]["external_account_id"],
        payment={"amount_minor": 1_000, "paid_at": b.now_iso()},
    )
    lines = [*placements, payment]

    first = (await lender.batch(lines)).json()
    again = (await lender.batch(lines)).json()

    assert [r["status"] for r in first["results"]] == ["accepted", "rejected", "accepted", "accepted"]
    assert [r["status"] for r in again["results"]] == ["duplicate", "rejected", "duplicate", "duplicate"]
    assert [r["account_id"] for r in again["results"]] == [r["account_id"] for r in first["results"]]
    assert [e["field"] for e in again["results"][1]["errors"]] == ["account.currency"]
    assert (await lender.account(first["results"][0]["account_id"]))["paid_minor"] == 1_000


async def test_a_change_before_its_placement_in_the_same_batch_is_rejected(lender: Lender) -> None:
    placement = b.account_placed()
    ext = placement["account"]["external_account_id"]
    recall = b.lender_event("account.recalled", ext, reason="too early")

    response = await lender.batch([recall, placement])

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"]
    assert [e["field"] for e in results[0]["errors"]] == ["account.external_account_id"]
    assert (await lender.account(results[1]["account_id"]))["status"] == "open"


async def test_a_batch_of_more_than_ten_thousand_lines_is_413(lender: Lender) -> None:
    lines = [b.account_placed() for _ in range(3)] + [b"{}"] * 9_998

    response = await lender.batch(lines)

    assert response.status_code == 413, response.text[:300]
    assert error_fields(response) == set()
    for event in lines[:3]:
        assert isinstance(event, dict)
        listed = await lender.accounts(external_account_id=event["account"]["external_account_id"])
        assert listed.json()["items"] == []


async def test_a_batch_of_exactly_ten_thousand_lines_is_read(lender: Lender) -> None:
    response = await lender.batch([b"{}"] * 10_000)

    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (0, 0, 10_000)


@pytest.mark.parametrize("body", [b"", b"\n\n  \n"], ids=["empty", "blank lines"])
async def test_an_empty_batch_is_422(lender: Lender, body: bytes) -> None:
    response = await lender.http.post(
        "/v1/events", content=body, headers={**lender.headers, "Content-Type": NDJSON}
    )

    assert response.status_code == 422, response.text
    assert error_fields(response) == {"body"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
async def test_an_unsupported_content_type_is_415(lender: Lender, content_type: str) -> None:
    event = b.account_placed()

    response = await lender.http.post(
        "/v1/events", content=orjson.dumps(event), headers={**lender.headers, "Content-Type": content_type}
    )

    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = await lender.accounts(external_account_id=event["account"]["external_account_id"])
    assert listed.json()["items"] == []
