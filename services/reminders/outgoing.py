"""Publishing from reminders: always through the outbox, in the caller's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from common.contracts import Contract
from common.messaging.outbox import OutgoingEvent, enqueue
from reminders.tables import outbox

TOPIC = "reminders.v1"
SOURCE = "reminders"


async def publish(
    session: AsyncSession,
    data: Contract,
    *,
    tenant: str,
    borrower_id: uuid.UUID,
    account_id: uuid.UUID,
    traceparent: str | None = None,
) -> None:
    await enqueue(
        session,
        outbox,
        [
            OutgoingEvent(
                topic=TOPIC,
                key=str(borrower_id),
                data=data,
                tenant=tenant,
                subject=str(account_id),
                traceparent=traceparent,
            )
        ],
        source=SOURCE,
    )
