"""GB: a customer flagged vulnerable gets no automated contact; the ladder pauses and the account goes
to a person for review (FCA CONC 7.2.1R(2), FG21/1; before: only visits were blocked)."""

from __future__ import annotations

import pytest

from common.contracts.reminders import TOPIC as REMINDERS_TOPIC
from tests.e2e.reminders.desk import Desk, rules_of
from tests.e2e.reminders.placements import placement
from tests.support.kafka import read_all
from tests.support.waiting import eventually
from tests.support.zones import place_at

pytestmark = pytest.mark.e2e


async def test_a_vulnerable_customer_pauses_the_ladder_and_goes_to_review(desk: Desk) -> None:
    # Night where the customer is: the first reminder waits for the morning, the latest rung a day more.
    zone = place_at(range(0, 6)).zone
    placed = await desk.place(placement("GB", zone, overdue_days=30))
    await desk.jobs_when(placed.account_id, lambda js: len(js) == 2)

    await desk.lender_event(placed, "borrower.flagged", flag="vulnerable", set=True)

    paused = await desk.jobs_when(placed.account_id, lambda js: all(j["state"] == "cancelled" for j in js))
    for job in paused:
        assert job["reasons"][0]["message"] == "paused for review: vulnerable", job

    async def escalated() -> bool:
        records = await read_all(desk.stack.kafka_bootstrap, REMINDERS_TOPIC)
        return any(
            dict(r.headers).get("ce_type") == b"collection.escalated"
            and dict(r.headers).get("ce_subject") == placed.account_id.encode()
            and b'"review"' in r.value
            for r in records
        )

    await eventually(escalated, timeout_s=60)
    point = await desk.contact_point(placed.account_id)
    sms = await desk.verdict_settles(
        placed.account_id, lambda d: d["outcome"] == "deny", channel="sms", contact_point_id=point
    )
    assert rules_of(sms) == {"GB.vulnerability_review"}, sms
    assert "review" in sms["reasons"][0]["message"]
    assert await desk.messages_to(placed.placement) == []
