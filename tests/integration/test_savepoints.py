"""A part of a transaction that fails inside `savepoint` takes its own writes and outbox events with
it, and the rest of the transaction commits (the ladder plans each account this way, so one bad
account cannot stop the others)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

import common.contracts.reminders as r
from common.db import run_before_commit
from common.messaging.outbox import OutgoingEvent, enqueue, pending, savepoint
from common.testing.stack import Stack
from reminders.tables import outbox

pytestmark = pytest.mark.integration


def escalation(account: uuid.UUID) -> OutgoingEvent:
    data = r.CollectionEscalated(
        account_id=str(account),
        borrower_id=str(account),
        to="review",
        reason="test",
        dpd=1,
        amount_minor=1,
        at=datetime.now(UTC),
    )
    return OutgoingEvent(topic="reminders.v1", key=str(account), data=data, tenant="savepoint")


async def failing_part(session: AsyncSession, account: uuid.UUID) -> None:
    async with savepoint(session):
        await enqueue(session, outbox, [escalation(account)], source="test")
        await session.execute(text("SELECT 1"))
        raise ValueError("bad data")


async def test_a_failed_savepoint_publishes_nothing_and_the_transaction_still_commits(stack: Stack) -> None:
    engine = create_async_engine(stack.superuser_dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    good, bad = uuid.uuid4(), uuid.uuid4()
    try:
        async with AsyncSession(engine) as session:
            async with session.begin():
                with pytest.raises(ValueError, match="bad data"):
                    await failing_part(session, bad)
                async with savepoint(session):
                    await enqueue(session, outbox, [escalation(good)], source="test")
                assert [row["key"] for row in pending(session)] == [str(good)]
                await run_before_commit(session)  # as unit_of_work does: the outer commit writes it
            async with session.begin():
                keys = (
                    await session.execute(
                        text("SELECT key FROM reminders.outbox WHERE key = ANY(:k)"),
                        {"k": [str(good), str(bad)]},
                    )
                ).scalars()
                assert list(keys) == [str(good)]
                await session.execute(text("DELETE FROM reminders.outbox WHERE key = :k"), {"k": str(good)})
    finally:
        await engine.dispose()
