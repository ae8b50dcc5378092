"""The promise and plan sweep on the real PostgreSQL, in a transaction rolled back: one plan with a
date no calendar arithmetic can take (stored before dates were bounded) does not stop the sweep, so
every other tenant's missed installments are still found."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.testing.stack import Stack
from reminders import promises
from tests.support.plans import fill
from tests.support.rollback import rolled_back

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(stack) as conn:
        yield conn


async def add_plan(db: AsyncConnection, account_id: uuid.UUID, due: date) -> uuid.UUID:
    plan_id = uuid.uuid4()
    installment = {"due_date": due.isoformat(), "amount_minor": 100, "paid_minor": 0, "state": "open"}
    await db.execute(
        text(
            "INSERT INTO reminders.plans (plan_id, tenant, account_id, installments)"
            " VALUES (:p, 'sweep', :a, CAST(:i AS jsonb))"
        ),
        {"p": plan_id, "a": account_id, "i": orjson.dumps([installment]).decode()},
    )
    return plan_id


async def test_a_plan_dated_at_the_end_of_the_calendar_does_not_stop_the_sweep(db: AsyncConnection) -> None:
    account = uuid.uuid4()
    await fill(
        db, "reminders.accounts", 1, account_id=f"'{account}'::uuid", tenant="'sweep'", status="'open'"
    )
    await add_plan(db, account, date.max)
    missed = await add_plan(db, account, (NOW - timedelta(days=10)).date())

    await promises.sweep(AsyncSession(bind=db), now=NOW)

    states = (
        await db.execute(
            text("SELECT installments->0->>'state' FROM reminders.plans WHERE plan_id = :p"), {"p": missed}
        )
    ).scalar_one()
    assert states == "missed"
