"""What wakes the reminders loops of every replica: a transaction that leaves jobs to dispatch or to
send notifies, and the loops wake when it commits (common.wakeup)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.wakeup import notify

DISPATCH = "reminders:dispatch"
SEND = "reminders:send"


async def jobs_due(session: AsyncSession) -> None:
    await notify(session, DISPATCH)


async def jobs_sendable(session: AsyncSession) -> None:
    await notify(session, SEND)
