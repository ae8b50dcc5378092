"""A placement produces exactly one first reminder, permitted by compliance and carrying the
jurisdiction's disclosures, however often the lender's integration repeats the event."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.reminders.desk import Desk, Placed
from tests.e2e.reminders.placements import (
    DAYTIME,
    Placement,
    assert_disclosures,
    daytime_home,
    placement,
    steady_zone,
)

pytestmark = pytest.mark.e2e

COPIES = 5


async def assert_one_permitted_first_reminder(desk: Desk, placed: Placed) -> None:
    job = await desk.first_reminder_sent(placed)
    assert job["permit_id"], job
    assert job["delivery"] == "accepted", job

    # Once compliance has counted the send, nothing more can be on its way.
    decision = await desk.permit_used(placed.account_id, job["permit_id"])
    assert decision["used_by"] == f"job:{job['job_id']}", decision
    assert (decision["outcome"], decision["channel"], decision["requester"]) == ("allow", "sms", "reminders")
    allows = [
        d
        for d in await desk.decisions(placed.account_id)
        if d["outcome"] == "allow" and d["request"]["purpose"] == "collection"
    ]
    assert [d["permit_id"] for d in allows] == [job["permit_id"]], allows

    (message,) = await desk.messages_to(placed.placement)
    assert message["channel"] == "sms", message
    assert message["to"] == placed.placement.phone
    assert message["idempotency_key"] == job["job_id"]
    assert_disclosures(message["body"], placed.placement.country)
    assert await desk.violations_of(placed.account_id) == []
    assert await desk.jobs(placed.account_id) == [job]


async def test_a_placement_posted_five_times_at_once_sends_one_first_reminder(desk: Desk) -> None:
    home = placement(*daytime_home())

    responses = await asyncio.gather(*(desk.lender.post(home.event) for _ in range(COPIES)))

    assert [r.status_code for r in responses] == [202] * COPIES, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert sorted(a["status"] for a in answers) == ["accepted"] + ["duplicate"] * (COPIES - 1), answers
    assert len({a["account_id"] for a in answers}) == 1, answers
    await assert_one_permitted_first_reminder(desk, Placed(answers[0]["account_id"], home))


async def test_a_batch_repeating_a_placement_five_times_sends_one_first_reminder(desk: Desk) -> None:
    # A CN borrower staying where it is daytime: the CN pack reads the borrower's own zone.
    home: Placement = placement("CN", steady_zone(DAYTIME))

    response = await desk.lender.batch([home.event] * COPIES)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] + ["duplicate"] * (COPIES - 1), results
    account_ids = {r.get("account_id") for r in results}
    assert len(account_ids) == 1 and None not in account_ids, results
    await assert_one_permitted_first_reminder(desk, Placed(results[0]["account_id"], home))
