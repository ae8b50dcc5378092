"""A paid, disputed or ceased account stops at once: every pending reminder is cancelled and none
ever reaches the borrower."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.intake import builders as b
from tests.e2e.reminders.desk import Desk, Placed
from tests.e2e.reminders.placements import night_home, placement

pytestmark = pytest.mark.e2e

# Far enough overdue that placement plans two rungs: the first reminder and the latest step reached.
OVERDUE_DAYS = 60


async def place_while_borrower_sleeps(desk: Desk) -> tuple[Placed, list[dict[str, Any]]]:
    """An account whose reminders wait for the borrower's morning (quiet hours defer their permits)."""
    placed = await desk.place(placement(*night_home(), overdue_days=OVERDUE_DAYS))
    jobs = await desk.jobs_when(
        placed.account_id, lambda js: len(js) == 2 and all(j["state"] == "deferred" for j in js)
    )
    for job in jobs:
        assert job["not_before"] is not None, job
        assert any(r["rule"].endswith("quiet_hours") for r in job["reasons"]), job
    return placed, jobs


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
