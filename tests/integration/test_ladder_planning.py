"""The day's turn on the real PostgreSQL, in a transaction rolled back: the accounts due are planned
as one run (its statements do not grow with the run), and an account whose data cannot be planned
holds back only itself, to be looked at again a day later."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.testing.stack import Stack
from reminders import planner
from tests.support.plans import fill, recorder
from tests.support.rollback import rolled_back

pytestmark = pytest.mark.integration

# Long before anything the dev stack holds: the accounts due at this time are the test's own.
NOW = datetime(2000, 1, 2, 4, tzinfo=UTC)  # noon in Shanghai
DAY = timedelta(days=1)


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(stack) as conn:
        yield conn


async def due_accounts(
    db: AsyncConnection, tenant: str, n: int, *, jurisdiction: str = "CN"
) -> list[uuid.UUID]:
    """`n` open CN accounts of `tenant`, 9 days overdue, whose next planning time has come."""
    await fill(
        db,
        "reminders.accounts",
        n,
        tenant=f"'{tenant}'",
        jurisdiction=f"'{jurisdiction}'",
        currency="'CNY'",
        amount_due_minor="100000",
        paid_minor="0",
        due_date="DATE '1999-12-24'",
        status="'open'",
        timezones="'{Asia/Shanghai}'",
        notice_state="'none'",
        strategy="'builtin'",
        variant="'champion'",
        steps_done="'{}'",
        holds="'{}'",
        opted_out="'{}'",
        contacts="'{}'::jsonb",
        third_parties="'[]'::jsonb",
        itemization="NULL",
        escalated_at="NULL",
        next_plan_at="TIMESTAMPTZ '2000-01-01 00:00Z'",
    )
    rows = await db.execute(
        text("SELECT account_id FROM reminders.accounts WHERE tenant = :t AND jurisdiction = :j"),
        {"t": tenant, "j": jurisdiction},
    )
    return [r.account_id for r in rows]


async def jobs_of(db: AsyncConnection, tenant: str) -> dict[uuid.UUID, list[int]]:
    rows = await db.execute(
        text("SELECT account_id, step_dpd FROM reminders.jobs WHERE tenant = :t ORDER BY step_dpd"),
        {"t": tenant},
    )
    found: dict[uuid.UUID, list[int]] = {}
    for row in rows:
        found.setdefault(row.account_id, []).append(row.step_dpd)
    return found


async def next_plan_at(db: AsyncConnection, account_id: uuid.UUID) -> datetime:
    value: datetime = (
        await db.execute(
            text("SELECT next_plan_at FROM reminders.accounts WHERE account_id = :a"), {"a": account_id}
        )
    ).scalar_one()
    return value


async def test_the_accounts_due_are_planned_as_one_run(db: AsyncConnection) -> None:
    statements = []
    for n in (3, 30):
        tenant = f"ladder-{uuid.uuid4().hex[:8]}"
        ids = await due_accounts(db, tenant, n)
        with recorder(db) as rec, rec.recording() as sent:
            due = await planner.plan_due(AsyncSession(bind=db), now=NOW, spacing=DAY, limit=500)
            statements.append(len(sent))
        assert due == n
        planned = await jobs_of(db, tenant)
        # DPD 9: the first reminder and the latest rung due (DPD 7), a day apart
        assert planned == {a: [0, 7] for a in ids}
        assert {await next_plan_at(db, a) for a in ids} == {datetime(2000, 1, 2, 16, 1, tzinfo=UTC)}
    # ten times the accounts, the same statements
    assert statements[0] == statements[1], statements


async def test_an_account_that_cannot_be_planned_holds_back_only_itself(db: AsyncConnection) -> None:
    tenant = f"ladder-{uuid.uuid4().hex[:8]}"
    good = await due_accounts(db, tenant, 4)
    # a jurisdiction no strategy is written for (stored before placements were validated)
    (bad,) = await due_accounts(db, tenant, 1, jurisdiction="XX")

    due = await planner.plan_due(AsyncSession(bind=db), now=NOW, spacing=DAY, limit=500)

    assert due == 5
    assert await jobs_of(db, tenant) == {a: [0, 7] for a in good}
    assert await next_plan_at(db, bad) == NOW + planner.PLAN_RETRY
