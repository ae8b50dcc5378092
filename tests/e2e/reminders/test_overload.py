"""Compliance held back longer than reminders waits for a permit: jobs ask again and again, and when
compliance catches up every job completes, once. (Before, an answer to an earlier request was ignored,
so once compliance lagged more than the wait no job ever completed.)"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from common.devstack import stack as devstack
from common.testing.stack import Stack
from tests.e2e.reminders.desk import Desk, Placed
from tests.e2e.reminders.placements import DAYTIME, placement, steady_zone
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

ACCOUNTS = 8
# Requests per job while compliance is away: the first and at least two more after the wait.
REQUESTS = 3
IMPATIENT = {"REMINDERS_PERMIT_WAIT_S": "1"}


@pytest.fixture
async def compliance_away(stack: Stack) -> AsyncIterator[None]:
    """Compliance stopped and a reminders service that waits only a second for a permit; the normal
    stack is back afterwards, whatever happened."""
    layout = stack.layout
    await asyncio.to_thread(devstack.stop_service, layout, "compliance")
    try:
        await asyncio.to_thread(devstack.stop_service, layout, "reminders")
        await asyncio.to_thread(devstack.start_service, layout, "reminders", extra_env=IMPATIENT)
        yield
    finally:
        await asyncio.to_thread(devstack.start_service, layout, "compliance")
        await asyncio.to_thread(devstack.stop_service, layout, "reminders")
        await asyncio.to_thread(devstack.start_service, layout, "reminders")


async def test_every_job_completes_once_after_compliance_lagged_past_the_wait(
    stack: Stack, desk: Desk, pg: asyncpg.Pool, compliance_away: None
) -> None:
    zone = steady_zone(DAYTIME)
    placed: list[Placed] = [await desk.place(placement("CN", zone)) for _ in range(ACCOUNTS)]
    accounts = [p.account_id for p in placed]

    # Each job asks, waits, and asks again with a fresh request id; nothing answers.
    asked: dict[str, set[str]] = defaultdict(set)

    async def asked_again() -> bool:
        rows = await pg.fetch(
            "select job_id::text, request_id from reminders.jobs"
            " where account_id = any($1::uuid[]) and request_id is not null",
            accounts,
        )
        for row in rows:
            asked[row["job_id"]].add(row["request_id"])
        return len(asked) == ACCOUNTS and all(len(ids) >= REQUESTS for ids in asked.values())

    await eventually(asked_again, timeout_s=60, interval_s=0.2)
    states = await pg.fetch("select state from reminders.jobs where account_id = any($1::uuid[])", accounts)
    assert {r["state"] for r in states} == {"awaiting_permit"}

    # Compliance is back with a backlog of several requests per job; the first answer ends each wait.
    await asyncio.to_thread(devstack.start_service, stack.layout, "compliance")
    for p in placed:
        job = await desk.first_reminder_sent(p)
        assert [m["idempotency_key"] for m in await desk.messages(p.placement.phone)] == [job["job_id"]]

    # Compliance answered every request it was sent, and exactly one permit per job was used.
    async def all_answered() -> bool:
        decided = await pg.fetchval(
            "select count(*) from compliance.decisions where request_id = any($1::text[])",
            [r for ids in asked.values() for r in ids],
        )
        return int(decided) == sum(len(ids) for ids in asked.values())

    await eventually(all_answered, timeout_s=60)

    async def attempts() -> dict[str, int]:
        rows = await pg.fetch(
            "select account_id::text, count(*) from compliance.ledger"
            " where account_id = any($1::uuid[]) group by 1",
            accounts,
        )
        return {r["account_id"]: r["count"] for r in rows}

    # Each delivery reaches compliance's ledger once (it may still be on its way).
    await eventually(lambda: _all_counted(attempts), timeout_s=30)
    assert await attempts() == dict.fromkeys(accounts, 1)

    # The permits a job was given for its other requests no longer hold the borrower's budget: the job
    # made its one contact, so nothing it asked for is outstanding.
    async def released() -> bool:
        left = await pg.fetchval(
            "select count(*) from compliance.decisions where account_id = any($1::uuid[])"
            " and outcome = 'allow' and used_at is null",
            accounts,
        )
        return int(left) == 0

    await eventually(released, timeout_s=30)


async def _all_counted(attempts: Callable[[], Awaitable[dict[str, int]]]) -> bool:
    return len(await attempts()) == ACCOUNTS
