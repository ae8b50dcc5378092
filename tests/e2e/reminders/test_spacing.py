"""One person gets at most one collection message a day: a placement that arrives late sends its first
reminder now and the latest rung a day later, never both in one burst (before: the DPD-0 SMS and the
DPD-5 e-mail in the same second)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg
import pytest

from common.testing.travel import TimeTravel
from tests.e2e.reminders.desk import FINAL, Desk, rules_of
from tests.e2e.reminders.placements import DAYTIME, placement, steady_zone
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def test_a_late_placement_is_spaced_over_days(desk: Desk, pg: asyncpg.Pool, travel: TimeTravel) -> None:
    # A CN borrower where it is daytime, 8 days overdue: the first reminder and the DPD 7 SMS are due.
    home = placement("CN", steady_zone(range(9, 16)), overdue_days=8)
    placed = await desk.place(home)

    first, latest = await desk.jobs_when(
        placed.account_id, lambda js: len(js) == 2 and js[0]["state"] in FINAL, timeout_s=60
    )
    assert (first["step_dpd"], first["state"], latest["step_dpd"], latest["state"]) == (
        0,
        "sent",
        7,
        "planned",
    )
    assert datetime.fromisoformat(latest["due_at"]) - datetime.fromisoformat(first["due_at"]) == timedelta(
        days=1
    )
    assert len(await desk.messages_to(home)) == 1
    # Compliance holds the same line: a second message today is deferred to a day after the first.
    point = await desk.contact_point(placed.account_id)
    now = await desk.evaluate(placed.account_id, channel="sms", contact_point_id=point)
    assert (now["outcome"], rules_of(now)) == ("defer", {"CN.contact_spacing"}), now

    await travel.by(timedelta(days=1, minutes=1))

    _, latest = await desk.jobs_when(placed.account_id, lambda js: js[1]["state"] in FINAL, timeout_s=90)
    assert latest["state"] == "sent", latest
    sent: list[asyncpg.Record] = []

    async def counted() -> bool:
        nonlocal sent
        sent = await pg.fetch(
            "SELECT at FROM compliance.ledger WHERE account_id = $1::uuid AND outcome = 'delivered' ORDER BY at",
            placed.account_id,
        )
        return len(sent) == 2

    await eventually(counted, timeout_s=60)
    assert sent[1]["at"] - sent[0]["at"] >= timedelta(days=1), sent
    assert len(await desk.messages_to(home)) == 2


async def test_a_second_debt_of_the_same_person_waits_its_turn(desk: Desk) -> None:
    home = placement("CN", steady_zone(DAYTIME))
    placed = await desk.place(home)
    await desk.first_reminder_sent(placed)

    event = {**home.event, "event_id": home.event["event_id"] + "-2"}
    event["account"] = {**home.event["account"], "external_account_id": home.external_account_id + "-2"}
    second = await desk.place(replace(home, event=event))

    (job,) = await desk.jobs_when(second.account_id, lambda js: js[0]["state"] == "deferred")
    assert rules_of(job) == {"CN.contact_spacing"}, job
    assert len(await desk.messages_to(home)) == 1
