"""A paid, disputed or ceased account stops at once: every pending reminder is cancelled and none
ever reaches the borrower."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.intake import builders as b
from tests.e2e.reminders.desk import Desk, Placed
from tests.e2e.reminders.placements import NIGHT, placement, steady_zone

pytestmark = pytest.mark.e2e

# Far enough overdue that placement plans two rungs: the first reminder and the latest step reached.
OVERDUE_DAYS = 60


def waiting(jobs: list[dict[str, Any]]) -> bool:
    """The first reminder deferred to the borrower's morning, the latest rung planned a day later."""
    return [j["state"] for j in jobs] == ["deferred", "planned"]


async def place_while_borrower_sleeps(desk: Desk) -> tuple[Placed, list[dict[str, Any]]]:
    """An account whose reminders wait: the first for the borrower's morning (quiet hours defer its
    permit), the latest rung a day more (one collection message a day, never two at once)."""
    # A CN borrower staying where it is night (a US borrower's validation notice would go first).
    placed = await desk.place(placement("CN", steady_zone(NIGHT), overdue_days=OVERDUE_DAYS))
    first, latest = await desk.jobs_when(placed.account_id, waiting)
    assert first["not_before"] is not None, first
    assert any(r["rule"].endswith("quiet_hours") for r in first["reasons"]), first
    assert datetime.fromisoformat(latest["due_at"]) - datetime.fromisoformat(first["due_at"]) == timedelta(
        days=1
    )
    return placed, [first, latest]


async def assert_all_cancelled(desk: Desk, placed: Placed, jobs: list[dict[str, Any]], reason: str) -> None:
    cancelled = await desk.jobs_when(placed.account_id, lambda js: all(j["state"] == "cancelled" for j in js))
    assert {j["job_id"] for j in cancelled} == {j["job_id"] for j in jobs}
    for job in cancelled:
        assert job["reasons"] == [{"rule": "reminders.stopped", "message": reason}], job
        assert job["delivery"] is None, job
    assert await desk.messages_to(placed.placement) == []


async def test_payment_in_full_cancels_every_pending_reminder(desk: Desk) -> None:
    placed, jobs = await place_while_borrower_sleeps(desk)

    await desk.pay(placed, placed.placement.amount_due_minor)

    await assert_all_cancelled(desk, placed, jobs, "the debt was paid in full")


async def test_a_dispute_cancels_every_pending_reminder(desk: Desk) -> None:
    placed, jobs = await place_while_borrower_sleeps(desk)

    dispute = {"received_at": b.now_iso(), "written": True, "reason": "not my debt"}
    await desk.lender_event(placed, "dispute.opened", dispute=dispute)

    await assert_all_cancelled(desk, placed, jobs, "a dispute was opened")


async def test_a_cease_request_cancels_every_pending_reminder(desk: Desk) -> None:
    placed, jobs = await place_while_borrower_sleeps(desk)

    await desk.lender_event(
        placed, "borrower.cease_requested", cease={"received_at": b.now_iso(), "written": True}
    )

    await assert_all_cancelled(desk, placed, jobs, "hold: cease_communication")
