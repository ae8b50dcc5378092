"""Stop events do not wait behind a backlog: while reminders' ordered consumer is stuck behind a
placement (here a lock holds it; in life, a lender's bulk load), a payment for an account it already
knows is applied by the priority lane and its reminders are cancelled at once. A payment whose
borrower still has an earlier event in the backlog waits for it: nothing is applied out of order,
and nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.e2e.reminders.desk import Desk, Placed
from tests.e2e.reminders.placements import NIGHT, placement, steady_zone
from tests.e2e.reminders.test_stopping import assert_all_cancelled, place_while_borrower_sleeps
from tests.support.backlog import Backlog
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
async def backlog(pg: asyncpg.Pool) -> AsyncIterator[Backlog]:
    async with pg.acquire() as conn:
        # Placements cannot be applied while this is held (they add contact points); stop events can.
        held = Backlog(conn, "reminders.contact_points")
        try:
            yield held
        finally:
            await held.release()


async def paid(pg: asyncpg.Pool, account_id: str) -> int:
    return int(
        await pg.fetchval("select paid_minor from reminders.accounts where account_id = $1::uuid", account_id)
        or 0
    )


async def test_a_payment_overtakes_a_stuck_backlog_and_one_behind_it_waits_its_turn(
    desk: Desk, pg: asyncpg.Pool, backlog: Backlog
) -> None:
    known, jobs = await place_while_borrower_sleeps(desk)
    await backlog.hold()
    # The backlog: a new account the ordered consumer is now stuck on, and its payment behind it.
    stuck = await desk.place(placement("CN", steady_zone(NIGHT), overdue_days=60), wait=False)
    await desk.pay(stuck, stuck.placement.amount_due_minor)

    # The known account's payment does not wait for the backlog.
    await desk.pay(known, known.placement.amount_due_minor)
    await assert_all_cancelled(desk, known, jobs, "the debt was paid in full")
    assert await paid(pg, known.account_id) == known.placement.amount_due_minor
    assert (
        await pg.fetchval(
            "select count(*) from reminders.accounts where account_id = $1::uuid", stuck.account_id
        )
        == 0
    ), "the backlog was not held back"

    # Once the backlog moves, the stuck account is placed and then paid, in that order, and the
    # payment the lane applied is not applied again.
    await backlog.release()
    await eventually(lambda: _closed(pg, stuck), timeout_s=60)
    assert await paid(pg, stuck.account_id) == stuck.placement.amount_due_minor
    assert await paid(pg, known.account_id) == known.placement.amount_due_minor


async def _closed(pg: asyncpg.Pool, placed: Placed) -> bool:
    status = await pg.fetchval(
        "select status from reminders.accounts where account_id = $1::uuid", placed.account_id
    )
    return bool(status == "closed")
