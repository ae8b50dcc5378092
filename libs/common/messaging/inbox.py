"""Inbox de-duplication: an event's effects are applied only by the transaction that records its ce_id."""

from __future__ import annotations

import uuid

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


async def claim(
    session: AsyncSession,
    inbox: Table,
    *,
    consumer: str,
    event_id: uuid.UUID,
    ce_type: str,
    topic: str,
    partition: int,
    offset: int,
) -> bool:
    """Record the event as applied by `consumer`; False when an earlier transaction already did."""
    stmt = (
        insert(inbox)
        .values(
            consumer=consumer,
            event_id=event_id,
            ce_type=ce_type,
            topic=topic,
            partition=partition,
            offset=offset,
        )
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return (await session.execute(stmt)).first() is not None
