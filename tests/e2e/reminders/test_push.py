"""Push needs an app device token, which lenders do not send yet: a push step is cancelled with its
reason, never sent to a phone number."""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.testing.travel import TimeTravel
from tests.e2e.reminders.desk import Desk
from tests.e2e.reminders.placements import daytime_home, placement

pytestmark = pytest.mark.e2e

# Days overdue at which each default ladder's latest rung is its push step.
PUSH_DPD = {"CN": 4, "US": 11, "GB": 11}


async def test_a_push_step_without_a_device_is_cancelled_not_sent(desk: Desk, travel: TimeTravel) -> None:
    jurisdiction, zone = daytime_home()
    home = placement(jurisdiction, zone, overdue_days=PUSH_DPD[jurisdiction.split("-")[0]])
    placed = await desk.place(home)
    # The push rung is the latest reached: it waits a day after the first reminder.
    await desk.jobs_when(placed.account_id, lambda jobs: any(j["channel"] == "push" for j in jobs))
    await travel.by(timedelta(days=1, minutes=5))
    jobs = await desk.jobs_when(
        placed.account_id,
        lambda jobs: any(j["channel"] == "push" and j["state"] == "cancelled" for j in jobs),
    )
    push = next(j for j in jobs if j["channel"] == "push")
    assert push["permit_id"] is None
    assert "no app device" in push["reasons"][0]["message"]
    assert all(m["channel"] != "push" for m in await desk.messages_to(home))
